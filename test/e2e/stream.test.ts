// Streaming inference on a real nats-server with JetStream (started by the test on a free port):
// a stream worker SIGKILLed in the middle of 100,000 events still gives every event exactly one
// prediction; poison events go to the dead-letter subject; two workers split one consumer;
// release strategies choose the version per event; a producer's trace continues to the output.
import { monitor } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import {
  skipWithoutNats,
  startNatsServer,
  startOtlpReceiver,
  useAppHarness,
  type NatsServer,
  type OtlpReceiver,
} from '@slipway/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, until } from './support/load.js';
import {
  createStream,
  demoEvent,
  natsClient,
  predictionOf,
  publishEvents,
  readAll,
  startStreamWorker,
  storedCount,
  type Nats,
  type Prediction,
} from './support/nats.js';
import { buildPlatform, startPlatform, type Platform } from './support/platform.js';

useAppHarness();

const skip = skipWithoutNats();

describe.skipIf(skip)('stream worker on NATS JetStream', () => {
  let server: NatsServer;
  let nats: Nats;
  let platform: Platform;
  let otlp: OtlpReceiver;

  beforeAll(async () => {
    await buildPlatform();
    server = await startNatsServer();
    nats = await natsClient(server.url);
    otlp = await startOtlpReceiver();
    platform = await startPlatform({ workers: 0, routers: 0 });
  }, 300_000);
  afterAll(async () => {
    await nats?.close();
    await platform?.stop();
    await server?.stop();
    await otlp?.close();
  });

  it('SIGKILL in the middle of 100,000 events: after a restart every event has exactly one prediction', async () => {
    const total = 100_000;
    await createStream(nats, 'KILL_EVENTS', ['kill.events']);
    const env = { SLIPWAY_STREAM_ACK_WAIT_MS: '3s', SLIPWAY_WORKER_METRICS_ADDR: '127.0.0.1:0' };
    const worker = await startStreamWorker(platform, {
      name: 'stream-kill',
      natsUrl: server.url,
      input: 'kill.events',
      output: 'kill.scored',
      env,
    });
    const publishing = publishEvents(
      nats,
      'kill.events',
      (function* () {
        for (let i = 0; i < total; i++) yield demoEvent(i);
      })(),
    );
    await until(
      'a third of the predictions',
      async () => (await storedCount(nats, 'kill.scored')) >= total / 3,
      120_000,
    );
    await worker.kill();
    const atKill = await storedCount(nats, 'kill.scored');
    expect(atKill).toBeLessThan(total);
    await publishing;
    await worker.restart();
    await worker.waitForLog((line) => line.json?.['msg'] === 'stream worker consuming', 60_000);
    await until('every prediction', async () => (await storedCount(nats, 'kill.scored')) >= total, 180_000);
    // Redeliveries of events the killed worker had published but not acknowledged arrive after
    // the ack wait (3 s); they must be de-duplicated, not published again.
    await until(
      'the consumer has nothing left to deliver or acknowledge',
      async () => {
        const info = await nats.jsm.consumers.info('KILL_EVENTS', 'slipway-fraud');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      60_000,
    );
    await sleep(1_000);
    expect(await storedCount(nats, 'kill.scored')).toBe(total);
    const messages = await readAll(nats, 'kill.scored');
    expect(messages).toHaveLength(total);
    const ids = new Set<string>();
    for (const m of messages) {
      const p = predictionOf(m);
      expect(p.scores).toHaveLength(1);
      expect(m.headers?.get('Nats-Msg-Id')).toBe(p.eventId);
      ids.add(p.eventId);
    }
    expect(ids.size).toBe(total);
    for (let i = 0; i < total; i += 997) expect(ids.has(`e${i}`)).toBe(true);
    // The restarted worker was handed the events the killed one had in flight again.
    const metricsAddress = worker
      .logs()
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; address?: string })
      .filter((l) => l.msg === 'metrics endpoint')
      .at(-1)!.address!;
    const scrape = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    const redeliveries = Number(/^slipway_stream_redeliveries(?:_total)?\{[^}]*\} (\d+)/m.exec(scrape)?.[1]);
    expect(redeliveries).toBeGreaterThan(0);
    await worker.stop();
  }, 400_000);

  it('poison events go to the dead-letter subject with the reason after 3 deliveries; the stream keeps flowing', async () => {
    const worker = await startStreamWorker(platform, {
      name: 'stream-dead-letter',
      natsUrl: server.url,
      input: 'poison.events',
      output: 'poison.scored',
      env: { SLIPWAY_STREAM_MAX_DELIVERIES: '3' },
    });
    const encoder = new TextEncoder();
    await publishEvents(nats, 'poison.events', [
      demoEvent(1),
      encoder.encode('{not json'),
      { id: 'no-entity', values: { amount: 3 } },
      { id: 'wrong-key', entity: { accountId: 'a1' } },
      { id: 'bad-value', entity: { userId: 'u1' }, values: { amount: [1, 2] } },
      demoEvent(2),
    ]);
    await until(
      'the good events scored',
      async () => (await storedCount(nats, 'poison.scored')) >= 2,
      30_000,
    );
    await until(
      'the poison events dead-lettered',
      async () => (await storedCount(nats, 'poison.scored.dead-letter')) >= 4,
      30_000,
    );
    // The stream keeps flowing after the poison.
    await publishEvents(nats, 'poison.events', [demoEvent(3), demoEvent(4)]);
    await until('later events scored', async () => (await storedCount(nats, 'poison.scored')) >= 4, 30_000);
    const scored = (await readAll(nats, 'poison.scored')).map((m) => predictionOf(m).eventId).sort();
    expect(scored).toEqual(['e1', 'e2', 'e3', 'e4']);
    const dead = await readAll(nats, 'poison.scored.dead-letter');
    expect(dead).toHaveLength(4);
    const reasons = new Map(dead.map((m) => [new TextDecoder().decode(m.data), m.headers!]));
    expect(reasons.get('{not json')!.get('Slipway-Dead-Letter-Reason')).toContain('not UTF-8 JSON');
    for (const h of reasons.values()) {
      expect(h.get('Slipway-Deliveries')).toBe('3');
      expect(h.get('Slipway-Source-Subject')).toBe('poison.events');
      expect(Number(h.get('Slipway-Source-Sequence'))).toBeGreaterThan(0);
    }
    const byReason = [...reasons.values()].map((h) => h.get('Slipway-Dead-Letter-Reason'));
    expect(byReason.some((r) => r.includes('"entity" must be an object'))).toBe(true);
    expect(byReason.some((r) => r.includes('lacks entity key "userId"'))).toBe(true);
    expect(byReason.some((r) => r.includes('value "amount" must be a finite number'))).toBe(true);
    await worker.stop();
  }, 120_000);

  it('two workers share one consumer and split the events; predictions reach the monitor', async () => {
    const total = 20_000;
    const options = { natsUrl: server.url, input: 'shared.events', output: 'shared.scored', monitor: true };
    const a = await startStreamWorker(platform, {
      ...options,
      name: 'stream-a',
      env: { SLIPWAY_STREAM_CONSUMER: 'shared' },
    });
    const b = await startStreamWorker(platform, {
      ...options,
      name: 'stream-b',
      env: { SLIPWAY_STREAM_CONSUMER: 'shared' },
    });
    await publishEvents(
      nats,
      'shared.events',
      (function* () {
        for (let i = 0; i < total; i++) yield { ...demoEvent(i), id: `s${i}` };
      })(),
    );
    await until('every prediction', async () => (await storedCount(nats, 'shared.scored')) >= total, 120_000);
    const messages = await readAll(nats, 'shared.scored');
    expect(new Set(messages.map((m) => predictionOf(m).eventId)).size).toBe(total);
    const byWorker = new Map<string, number>();
    for (const m of messages) {
      const w = predictionOf(m).worker;
      byWorker.set(w, (byWorker.get(w) ?? 0) + 1);
    }
    expect([...byWorker.keys()].sort()).toEqual(['stream-a', 'stream-b']);
    for (const count of byWorker.values()) expect(count).toBeGreaterThan(total * 0.1);

    const client = createClient(monitor.MonitorServiceService, platform.monitor!.address, {
      token: platform.token,
    });
    try {
      await until(
        'stream records in the monitor',
        async () => {
          const found = await Promise.all(
            ['s0', 's19999'].map((requestId) =>
              client.listPredictions({ deployment: 'fraud', variant: '', requestId, limit: 10 }),
            ),
          );
          return found.every(({ records }) => records.some((r) => r.source === 'stream' && !r.shadow));
        },
        30_000,
      );
    } finally {
      client.close();
    }
    await Promise.all([a.stop(), b.stop()]);
  }, 180_000);

  it('release strategies choose the version per event: canary weights, sticky A/B arms, shadow recorded but never published', async () => {
    const v2 = await platform.copyVersion();
    const worker = await startStreamWorker(platform, {
      name: 'stream-release',
      natsUrl: server.url,
      input: 'release.events',
      output: 'release.scored',
      monitor: true,
    });
    const client = createClient(monitor.MonitorServiceService, platform.monitor!.address, {
      token: platform.token,
    });
    // Predictions as they are published (a core subscription sees JetStream's messages too).
    const seen = new Map<string, Prediction>();
    const sub = nats.nc.subscribe('release.scored', {
      callback: (_err, m) => {
        const p = m.json<Prediction>();
        seen.set(p.eventId, p);
      },
    });
    const publishRound = async (prefix: string, count: number) => {
      await publishEvents(
        nats,
        'release.events',
        Array.from({ length: count }, (_, i) => ({ ...demoEvent(i, 200), id: `${prefix}${i}` })),
      );
      await until(
        `${prefix} predictions`,
        () => {
          for (let i = 0; i < count; i++) if (!seen.has(`${prefix}${i}`)) return false;
          return true;
        },
        60_000,
      );
      return Array.from({ length: count }, (_, i) => seen.get(`${prefix}${i}`)!);
    };
    const shadowIds = async (): Promise<Set<string>> => {
      const { records } = await client.listPredictions({
        deployment: 'fraud',
        variant: '',
        requestId: '',
        limit: 10_000,
        shadow: true,
      });
      return new Set(
        records.filter((r) => r.version === v2 && r.source === 'stream').map((r) => r.requestId),
      );
    };
    // A release change reaches the worker through the registry watch (and a new version must
    // load): probe with single events until it shows, then measure.
    let probes = 0;
    const untilApplied = async (what: string, applied: (p: Prediction) => Promise<boolean> | boolean) => {
      await until(
        what,
        async () => {
          const [p] = await publishRound(`probe${probes++}-`, 1);
          return applied(p!);
        },
        60_000,
      );
    };

    try {
      await platform.cli(
        'deploy',
        'fraud',
        '--version',
        String(v2),
        '--strategy',
        'canary',
        '--steps',
        '50,100',
        '--interval',
        '0s',
      );
      await untilApplied('the canary in the worker', (p) => p.version === v2);
      const canary = await publishRound('c', 2_000);
      const share = canary.filter((p) => p.version === v2).length / canary.length;
      expect(share).toBeGreaterThan(0.4);
      expect(share).toBeLessThan(0.6);
      await platform.cli('rollback', 'fraud');

      await platform.cli(
        'experiment',
        'start',
        'stream-ab',
        '--deployment',
        'fraud',
        '--arm',
        `control=1:50`,
        '--arm',
        `treatment=${v2}:50`,
        '--unit',
        'userId',
      );
      await untilApplied('the experiment in the worker', (p) => p.experiment === 'stream-ab');
      const ab = await publishRound('ab', 1_000);
      const armOf = new Map<string, string>();
      for (const p of ab) {
        expect(p.experiment).toBe('stream-ab');
        const user = p.entity['userId']!;
        if (armOf.has(user)) expect(p.variant).toBe(armOf.get(user));
        armOf.set(user, p.variant);
      }
      expect(new Set(armOf.values())).toEqual(new Set(['control', 'treatment']));
      await platform.cli('experiment', 'stop', 'stream-ab');

      await platform.cli('shadow', 'start', 'fraud', '--version', String(v2), '--sample', '1');
      await untilApplied('the shadow in the worker', async (p) => {
        await sleep(300); // records reach the monitor in batches
        return (await shadowIds()).has(p.eventId);
      });
      const shadowed = await publishRound('sh', 300);
      // Shadow answers are recorded, never published.
      expect(shadowed.every((p) => p.version === 1)).toBe(true);
      // Shadow work is bounded (skipped, never queued, while the mirror is busy), so most — not
      // necessarily all — events get a shadow record, each under its own event id.
      await until(
        'shadow records',
        async () => {
          const ids = await shadowIds();
          return shadowed.filter((p) => ids.has(p.eventId)).length >= 150;
        },
        30_000,
      );
      await platform.cli('shadow', 'stop', 'fraud');
    } finally {
      sub.unsubscribe();
      client.close();
      await worker.stop();
    }
  }, 300_000);

  it("ordered: each entity's predictions keep its events' order across a feature service restart", async () => {
    const worker = await startStreamWorker(platform, {
      name: 'stream-ordered',
      natsUrl: server.url,
      input: 'ordered.events',
      output: 'ordered.scored',
      env: { SLIPWAY_STREAM_ORDERED: 'true', SLIPWAY_STREAM_MAX_BATCH: '64' },
    });
    const users = 30;
    const perUser = 100;
    const publishing = (async () => {
      for (let round = 0; round < perUser; round++) {
        await publishEvents(
          nats,
          'ordered.events',
          Array.from({ length: users }, (_, u) => ({ ...demoEvent(u, users), id: `o${round * users + u}` })),
        );
        await sleep(15);
      }
    })();
    // The feature service goes away mid-stream: the worker retries in place instead of handing
    // events back, which would let an entity's later events overtake them.
    await until('some predictions', async () => (await storedCount(nats, 'ordered.scored')) >= 300, 60_000);
    await platform.features.kill();
    await sleep(1_000);
    await platform.features.restart();
    await publishing;
    await until(
      'every prediction',
      async () => (await storedCount(nats, 'ordered.scored')) >= users * perUser,
      120_000,
    );
    const out = (await readAll(nats, 'ordered.scored')).map(predictionOf);
    expect(out).toHaveLength(users * perUser);
    const last = new Map<string, number>();
    for (const p of out) {
      const n = Number(p.eventId.slice(1));
      const user = p.entity['userId']!;
      expect(n).toBeGreaterThan(last.get(user) ?? -1);
      last.set(user, n);
    }
    expect(worker.logs().some((l) => l.includes('retrying events in place'))).toBe(true);
    await worker.stop();
  }, 240_000);

  it("a producer's trace continues through the stream worker to the output message", async () => {
    const worker = await startStreamWorker(platform, {
      name: 'stream-trace',
      natsUrl: server.url,
      input: 'trace.events',
      output: 'trace.scored',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.grpcEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const traceId = 'aa'.repeat(8) + '0123456789abcdef';
    const producerSpan = '1122334455667788';
    await publishEvents(nats, 'trace.events', [{ ...demoEvent(5), id: 't1' }], {
      headers: () => ({ traceparent: `00-${traceId}-${producerSpan}-01` }),
    });
    await until('the prediction', async () => (await storedCount(nats, 'trace.scored')) >= 1, 30_000);
    const [out] = await readAll(nats, 'trace.scored');
    expect(out!.headers!.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(predictionOf(out!).traceId).toBe(traceId);
    const spans = await otlp.waitForSpans((all) => {
      const t = all.filter((s) => s.traceId === traceId);
      return (
        t.some((s) => s.kind === 'CONSUMER') &&
        t.some((s) => s.kind === 'PRODUCER') &&
        t.some((s) => s.kind === 'CLIENT')
      );
    });
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const consumer = inTrace.find((s) => s.kind === 'CONSUMER')!;
    expect(consumer.parentSpanId).toBe(producerSpan);
    expect(consumer.attributes['messaging.system']).toBe('nats');
    expect(consumer.attributes['slipway.request_id']).toBe('t1');
    expect(consumer.attributes['slipway.model.version']).toBe(1);
    const producer = inTrace.find((s) => s.kind === 'PRODUCER')!;
    expect(producer.parentSpanId).toBe(consumer.spanId);
    // The output message's traceparent names the publish span.
    expect(out!.headers!.get('traceparent')).toContain(producer.spanId);
    // The feature lookup is in the same trace.
    expect(inTrace.some((s) => s.kind === 'CLIENT' && String(s.name).includes('GetFeatureVectors'))).toBe(
      true,
    );
    await worker.stop();
  }, 120_000);

  it('nats-server crashes mid-stream and comes back: every event still gets exactly one prediction', async () => {
    const total = 20_000;
    await createStream(nats, 'CRASH_EVENTS', ['crash.events']);
    await publishEvents(
      nats,
      'crash.events',
      (function* () {
        for (let i = 0; i < total; i++) yield { ...demoEvent(i), id: `c${i}` };
      })(),
    );
    const worker = await startStreamWorker(platform, {
      name: 'stream-broker-crash',
      natsUrl: server.url,
      input: 'crash.events',
      output: 'crash.scored',
      env: { SLIPWAY_STREAM_ACK_WAIT_MS: '3s' },
    });
    await until(
      'a quarter of the predictions',
      async () => (await storedCount(nats, 'crash.scored')) >= total / 4,
      60_000,
    );
    await server.restart('SIGKILL', 1_000);
    await until('every prediction', async () => (await storedCount(nats, 'crash.scored')) >= total, 120_000);
    await until(
      'the consumer has nothing left to deliver or acknowledge',
      async () => {
        const info = await nats.jsm.consumers.info('CRASH_EVENTS', 'slipway-fraud');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      60_000,
    );
    await sleep(1_000);
    const ids = new Set((await readAll(nats, 'crash.scored')).map((m) => predictionOf(m).eventId));
    expect(await storedCount(nats, 'crash.scored')).toBe(total);
    expect(ids.size).toBe(total);
    expect(worker.running).toBe(true);
    await worker.stop();
  }, 300_000);
});
