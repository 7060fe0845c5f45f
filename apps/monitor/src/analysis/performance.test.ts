// GetPerformance over real gRPC with a fresh database per test: delayed labels joined at query time.
import type { monitor } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { classificationMetrics, rocAuc } from '@slipway/monitoring';
import { createSeededRandom } from '@slipway/onnx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { predictionRecord, startMonitor, type RunningMonitor } from '../testing/fixtures.js';

let running: RunningMonitor;
beforeEach(async () => {
  running = await startMonitor();
});
afterEach(() => running.close());

const HOUR = 3_600_000;

/** The share of (positive, negative) pairs ranked right, ties counting one half: AUC by definition. */
function bruteForceAuc(scores: readonly number[], labels: readonly number[]): number {
  let right = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i]! > scores[j]!) right++;
      else if (scores[i] === scores[j]) right += 0.5;
    }
  }
  return right / pairs;
}

interface Scenario {
  records: monitor.PredictionRecord[];
  labels: Map<string, number>;
}

/** Predictions over the last 20 hours; about 70 % of the answered ones get a label later. */
function scenario(now: number, count = 1_500): Scenario {
  const random = createSeededRandom(42);
  const records: monitor.PredictionRecord[] = [];
  const labels = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const score = random.next();
    const failed = random.next() < 0.05;
    const record = predictionRecord(i, {
      requestId: `r${i}`,
      variant: i % 5 === 0 ? 'candidate' : 'stable',
      time: new Date(now - 20 * HOUR + Math.floor(random.next() * 20 * HOUR)),
      status: failed ? 'UNAVAILABLE' : 'OK',
      outputs: failed ? [] : [score],
    });
    records.push(record);
    // A shadow answer of the same request: never part of the primary's performance.
    if (i % 7 === 0) records.push({ ...record, variant: 'shadow', shadow: true, outputs: [1 - score] });
    if (!failed && random.next() < 0.7) labels.set(record.requestId, random.next() < score ? 1 : 0);
  }
  return { records, labels };
}

async function ingestScenario(s: Scenario): Promise<void> {
  for (let i = 0; i < s.records.length; i += 1_000) {
    await running.deployer.ingestPredictions([{ records: s.records.slice(i, i + 1_000) }]);
  }
  // The labels arrive afterwards, as delayed labels do.
  const outcomes = [...s.labels].map(([requestId, label]) => ({
    outcomeId: '',
    requestId,
    unitKey: '',
    deployment: '',
    label,
    kpi: '',
    value: 0,
    time: undefined,
  }));
  await running.deployer.ingestOutcomes([{ outcomes }]);
}

/** Offline: the labelled, answered primary predictions of the variants in [from, to). */
function offline(s: Scenario, fromMs: number, toMs: number, variants = ['stable', 'candidate']) {
  const scores: number[] = [];
  const labels: number[] = [];
  let predictions = 0;
  for (const r of s.records) {
    const t = r.time!.getTime();
    if (r.shadow || r.status !== 'OK' || !variants.includes(r.variant) || t < fromMs || t >= toMs) continue;
    predictions++;
    const label = s.labels.get(r.requestId);
    if (label === undefined) continue;
    scores.push(r.outputs[0]!);
    labels.push(label);
  }
  return { scores, labels, predictions };
}

describe('GetPerformance', () => {
  it('joins labels sent after their predictions; the AUC equals an offline computation on the same pairs', async () => {
    const s = scenario(Date.now());
    await ingestScenario(s);
    const response = await running.reader.getPerformance({
      deployment: 'fraud',
      variant: '',
      windowSeconds: 0,
      bucketSeconds: 0,
    });
    const total = response.total!;
    const window = offline(s, total.start!.getTime(), total.end!.getTime());
    expect(total.end!.getTime() - total.start!.getTime()).toBe(24 * HOUR);
    expect(total.predictions).toBe(BigInt(window.predictions));
    expect(total.labelled).toBe(BigInt(window.scores.length));
    expect(window.scores.length).toBeGreaterThan(800);
    expect(total.labelCoverage).toBeCloseTo(window.scores.length / window.predictions, 12);
    expect(total.auc).toBe(rocAuc(window.scores, window.labels));
    expect(total.auc).toBeCloseTo(bruteForceAuc(window.scores, window.labels), 12);
    expect(total.threshold).toBe(0.5);
    const offlineReport = classificationMetrics(window.scores, window.labels, { threshold: 0.5 });
    expect(total.logLoss).toBeCloseTo(offlineReport.logLoss, 12);
    const predicted = window.scores.map((x) => (x >= 0.5 ? 1 : 0));
    const tp = predicted.filter((p, i) => p === 1 && window.labels[i] === 1).length;
    expect(total.accuracy).toBeCloseTo(
      predicted.filter((p, i) => p === window.labels[i]).length / predicted.length,
      12,
    );
    expect(total.precision).toBeCloseTo(tp / predicted.filter((p) => p === 1).length, 12);
    expect(total.recall).toBeCloseTo(tp / window.labels.filter((l) => l === 1).length, 12);
    expect(total.calibrationError).toBeCloseTo(offlineReport.calibration.expectedCalibrationError, 12);
    // Scores drawn as probabilities of their own labels: a calibrated, informative model.
    expect(total.auc).toBeGreaterThan(0.7);
    expect(response.windows).toEqual([total]);
  });

  it('splits the window into epoch-aligned buckets, per variant when asked', async () => {
    const s = scenario(Date.now());
    await ingestScenario(s);
    const response = await running.reader.getPerformance({
      deployment: 'fraud',
      variant: 'candidate',
      windowSeconds: 86_400,
      bucketSeconds: 6 * 3_600,
    });
    const { windows, total } = response;
    expect(windows.length).toBeGreaterThanOrEqual(4);
    expect(windows.length).toBeLessThanOrEqual(5);
    expect(windows[0]!.start).toEqual(total!.start);
    expect(windows.at(-1)!.end).toEqual(total!.end);
    for (const w of windows.slice(1)) expect(w.start!.getTime() % (6 * HOUR)).toBe(0);
    expect(windows.reduce((n, w) => n + w.predictions, 0n)).toBe(total!.predictions);
    for (const w of windows) {
      const bucket = offline(s, w.start!.getTime(), w.end!.getTime(), ['candidate']);
      expect(w.predictions).toBe(BigInt(bucket.predictions));
      expect(w.labelled).toBe(BigInt(bucket.scores.length));
      if (bucket.scores.length === 0) expect(w.auc).toBeNaN();
      else expect(w.auc).toBe(rocAuc(bucket.scores, bucket.labels) ?? NaN);
    }
  });

  it('uses the newest label of a prediction', async () => {
    const now = Date.now();
    await running.deployer.ingestPredictions([
      {
        records: [
          predictionRecord(1, { requestId: 'a', outputs: [0.9], time: new Date(now - HOUR) }),
          predictionRecord(2, { requestId: 'b', outputs: [0.2], time: new Date(now - HOUR) }),
        ],
      },
    ]);
    const label = (requestId: string, value: number, ago: number): monitor.Outcome => ({
      outcomeId: '',
      requestId,
      unitKey: '',
      deployment: '',
      label: value,
      kpi: '',
      value: 0,
      time: new Date(now - ago),
    });
    await running.deployer.ingestOutcomes([{ outcomes: [label('a', 0, 30_000), label('b', 1, 30_000)] }]);
    const request = { deployment: 'fraud', variant: '', windowSeconds: 0, bucketSeconds: 0 };
    expect((await running.reader.getPerformance(request)).total!.auc).toBe(0);
    // Corrections arrive: a was a positive, b a negative.
    await running.deployer.ingestOutcomes([{ outcomes: [label('a', 1, 10_000), label('b', 0, 10_000)] }]);
    expect((await running.reader.getPerformance(request)).total).toMatchObject({
      auc: 1,
      accuracy: 1,
      labelled: 2n,
    });
  });

  it('refuses labels that are not 0/1, too many buckets and unknown deployments, saying why', async () => {
    const now = Date.now();
    await running.deployer.ingestPredictions([
      { records: [predictionRecord(1, { requestId: 'a', outputs: [0.9], time: new Date(now - HOUR) })] },
    ]);
    const request = { deployment: 'fraud', variant: '', windowSeconds: 0, bucketSeconds: 0 };
    const empty = await running.reader.getPerformance(request);
    expect(empty.total).toMatchObject({ predictions: 1n, labelled: 0n, labelCoverage: 0 });
    expect(empty.total!.auc).toBeNaN();

    await running.deployer.ingestOutcomes([
      {
        outcomes: [
          {
            outcomeId: '',
            requestId: 'a',
            unitKey: '',
            deployment: '',
            label: 2,
            kpi: '',
            value: 0,
            time: undefined,
          },
        ],
      },
    ]);
    const badLabel = running.reader.getPerformance(request);
    await expect(badLabel).rejects.toThrow(FailedPreconditionError);
    await expect(badLabel).rejects.toThrow(
      'request "a" of deployment "fraud" has label 2; labels must be 0 or 1',
    );

    const buckets = running.reader.getPerformance({ ...request, windowSeconds: 86_400, bucketSeconds: 60 });
    await expect(buckets).rejects.toThrow(InvalidArgumentError);
    // 1440 buckets, or 1441 when the window does not start on a whole minute.
    await expect(buckets).rejects.toThrow(
      /makes 144[01] buckets, more than 1000; use buckets of at least 87s/,
    );

    await expect(running.reader.getPerformance({ ...request, deployment: 'churn' })).rejects.toThrow(
      NotFoundError,
    );
  });
});
