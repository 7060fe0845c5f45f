// IngestOutcomes over real gRPC with a fresh database per test.
import type { monitor } from '@slipway/contracts';
import { InvalidArgumentError, PermissionDeniedError, UnauthenticatedError } from '@slipway/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { predictionRecords, startMonitor, type RunningMonitor } from '../testing/fixtures.js';

let running: RunningMonitor;
beforeEach(async () => {
  running = await startMonitor();
});
afterEach(() => running.close());

const outcome = (overrides: Partial<monitor.Outcome>): monitor.Outcome => ({
  outcomeId: '',
  requestId: '',
  unitKey: '',
  deployment: '',
  label: undefined,
  kpi: '',
  value: 0,
  time: new Date(Date.now() - 60_000),
  ...overrides,
});

describe('IngestOutcomes', () => {
  it('stores labels and KPI events, idempotent by sent or derived outcome id', async () => {
    const outcomes = [
      outcome({ requestId: 'req-1', label: 1 }),
      outcome({ requestId: 'req-2', label: 0, outcomeId: 'label-2' }),
      outcome({ unitKey: 'u7', deployment: 'fraud', kpi: 'converted', value: 1 }),
      outcome({ requestId: 'req-3', kpi: 'revenue', value: 12.5 }),
    ];
    expect(
      await running.deployer.ingestOutcomes([
        { outcomes: outcomes.slice(0, 2) },
        { outcomes: outcomes.slice(2) },
      ]),
    ).toEqual({ accepted: 4n, duplicates: 0n });
    // The same outcomes again (a retried stream): nothing new, whatever the values now say.
    const again = outcomes.map((o) => ({ ...o, value: o.value + 1 }));
    expect(await running.deployer.ingestOutcomes([{ outcomes: again }])).toEqual({
      accepted: 0n,
      duplicates: 4n,
    });
    // Another time is another event.
    const later = outcome({
      unitKey: 'u7',
      deployment: 'fraud',
      kpi: 'converted',
      value: 1,
      time: new Date(),
    });
    expect(await running.deployer.ingestOutcomes([{ outcomes: [later] }])).toEqual({
      accepted: 1n,
      duplicates: 0n,
    });
    expect(await running.store.kpis()).toEqual(['converted', 'revenue']);
  });

  it('joins labels that arrive before their predictions as well as after', async () => {
    const records = predictionRecords(4, 0, { outputs: [0.8] });
    await running.deployer.ingestOutcomes([{ outcomes: [outcome({ requestId: 'req-0', label: 1 })] }]);
    await running.deployer.ingestPredictions([{ records }]);
    await running.deployer.ingestOutcomes([{ outcomes: [outcome({ requestId: 'req-2', label: 0 })] }]);
    const labelled = await running.store.labelledPredictions({
      deployment: 'fraud',
      fromMs: 0,
      toMs: Date.now(),
    });
    expect(labelled.map((p) => [p.requestId, p.label])).toEqual([
      ['req-0', 1],
      ['req-2', 0],
    ]);
  });

  it('refuses an invalid outcome with INVALID_ARGUMENT naming it and its problems, storing nothing', async () => {
    const cases: [Partial<monitor.Outcome>, RegExp][] = [
      [{ label: 1 }, /outcome 1 of the stream: request_id, or unit_key with deployment, is required/],
      [
        { unitKey: 'u1', kpi: 'converted', value: 1 },
        /outcome 1 of the stream: deployment is required with unit_key/,
      ],
      [
        { requestId: 'r9' },
        /outcome 1 \(request_id "r9"\) of the stream: a label or a kpi \(with its value\) is required/,
      ],
      [{ requestId: 'r9', label: NaN }, /label must be finite, got NaN/],
      [{ requestId: 'r9', kpi: 'revenue', value: Infinity }, /value must be finite, got Infinity/],
    ];
    for (const [bad, message] of cases) {
      const failure = running.deployer.ingestOutcomes([
        { outcomes: [outcome({ requestId: 'ok', label: 1, outcomeId: 'ok-1' }), outcome(bad)] },
      ]);
      await expect(failure).rejects.toThrow(InvalidArgumentError);
      await expect(failure).rejects.toThrow(message);
      await expect(failure).rejects.toThrow(/nothing of this stream was stored/);
    }
    expect(
      await running.store.labelledPredictions({ deployment: 'fraud', fromMs: 0, toMs: Date.now() }),
    ).toEqual([]);
    // The valid first outcome of each refused stream was not stored either.
    const ok = outcome({ requestId: 'ok', label: 1, outcomeId: 'ok-1' });
    expect(await running.deployer.ingestOutcomes([{ outcomes: [ok] }])).toEqual({
      accepted: 1n,
      duplicates: 0n,
    });
  });

  it('needs the deployer role', async () => {
    const stream = [{ outcomes: [outcome({ requestId: 'r1', label: 1 })] }];
    await expect(running.anonymous.ingestOutcomes(stream)).rejects.toThrow(UnauthenticatedError);
    await expect(running.reader.ingestOutcomes(stream)).rejects.toThrow(PermissionDeniedError);
  });
});
