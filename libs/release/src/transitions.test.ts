import type { registry } from '@slipway/contracts';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import {
  abortCanary,
  advanceCanary,
  deployBlueGreen,
  deployCanary,
  deployDirect,
  promote,
  rollback,
  setCanaryWeight,
  startExperiment,
  startShadow,
  stopExperiment,
  stopShadow,
} from './transitions.js';
import { canaryStepIndex, roleLabel, strategyLabel } from './variants.js';

/** `KIND name:ROLE:model@version:weight ...` — what a reader checks in a deployment. */
function summary(d: registry.Deployment): string {
  const variants = d.variants.map(
    (v) =>
      `${v.name}:${roleLabel(v.role)}:${v.model}@${v.version}:${v.weight}${v.sampleRate ? `~${v.sampleRate}` : ''}`,
  );
  const canary = d.strategy?.canary;
  const experiment = d.strategy?.experiment;
  const policy = canary
    ? ` [${canary.steps.join(',')}]#${canary.stepIndex}`
    : experiment
      ? ` ${experiment.name}/${experiment.unitKey}/${experiment.salt}`
      : '';
  return `${strategyLabel(d.strategy?.kind)}${policy} ${variants.join(' ')}`;
}

const v1 = deployDirect(undefined, 'fraud', { model: 'fraud', version: 1 });
const v2 = deployDirect(v1, 'fraud', { model: 'fraud', version: 2 });
const canaryOptions = { version: 3, steps: [5, 25, 50, 100], intervalSeconds: 60 };

describe('direct deploy', () => {
  it('creates a deployment, then keeps the replaced stable as previous', () => {
    expect(summary(v1)).toBe('DIRECT stable:STABLE:fraud@1:100');
    expect(v1).toMatchObject({ name: 'fraud', decisionThreshold: 0.5 });
    expect(summary(v2)).toBe('DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0');
    expect(summary(deployDirect(v2, 'fraud', { model: 'fraud', version: 3 }))).toBe(
      'DIRECT stable:STABLE:fraud@3:100 previous:PREVIOUS:fraud@2:0',
    );
    expect(deployDirect(v2, 'fraud', { model: 'fraud', version: 2 })).toBe(v2);
  });

  it('drops candidates and arms, keeps shadows', () => {
    const busy = startShadow(deployCanary(v2, canaryOptions), { version: 1, sample: 0.2 });
    expect(summary(deployDirect(busy, 'fraud', { model: 'fraud', version: 4 }))).toBe(
      'DIRECT stable:STABLE:fraud@4:100 previous:PREVIOUS:fraud@2:0 shadow:SHADOW:fraud@1:0~0.2',
    );
    // Deploying the stable version directly during a canary ends the canary.
    expect(summary(deployDirect(busy, 'fraud', { model: 'fraud', version: 2 }))).toBe(
      'DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0 shadow:SHADOW:fraud@1:0~0.2',
    );
  });

  it('refuses bad options', () => {
    expect(() => deployDirect(undefined, 'fraud', { model: 'fraud', version: 0 })).toThrow(
      new InvalidArgumentError('version 0 is not a model version (a whole number, 1 or more)'),
    );
    expect(() => deployDirect(undefined, 'fraud', { model: '', version: 1 })).toThrow(InvalidArgumentError);
  });
});

describe('blue-green', () => {
  const blue = deployBlueGreen(v2, { version: 3 });

  it('adds the candidate at 0, promotes it, and rolls back twice to roll forward', () => {
    expect(summary(blue)).toBe(
      'BLUE_GREEN stable:STABLE:fraud@2:100 candidate:CANDIDATE:fraud@3:0 previous:PREVIOUS:fraud@1:0',
    );
    const promoted = promote(blue);
    expect(summary(promoted)).toBe('DIRECT stable:STABLE:fraud@3:100 previous:PREVIOUS:fraud@2:0');
    const back = rollback(promoted);
    expect(summary(back)).toBe('DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@3:0');
    expect(summary(rollback(back))).toBe(summary(promoted));
  });

  it('rolls back a candidate by dropping it', () => {
    expect(summary(rollback(blue))).toBe('DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0');
  });

  it('needs a deployment with a stable and no other release', () => {
    expect(() => deployBlueGreen(undefined, { version: 3 })).toThrow(NotFoundError);
    expect(() => deployBlueGreen(v2, { version: 2 })).toThrow(
      new FailedPreconditionError(
        'fraud@2 is already the stable version of deployment "fraud"; release a different version',
      ),
    );
    expect(() => deployBlueGreen(blue, { version: 4 })).toThrow(
      new FailedPreconditionError(
        'deployment "fraud" is already releasing fraud@3 (strategy BLUE_GREEN); promote it or roll it back first',
      ),
    );
    expect(() => promote(v2)).toThrow(
      new FailedPreconditionError(
        'deployment "fraud" has no candidate to promote (strategy DIRECT); start a release with a blue-green or canary deploy',
      ),
    );
    expect(() => rollback(v1)).toThrow(
      new FailedPreconditionError(
        'deployment "fraud" has no candidate and no previous version to roll back to',
      ),
    );
  });

  it('becomes a manual canary when given weight', () => {
    const manual = setCanaryWeight(blue, 10);
    expect(summary(manual)).toBe(
      'CANARY [100]#0 stable:STABLE:fraud@2:90 candidate:CANDIDATE:fraud@3:10 previous:PREVIOUS:fraud@1:0',
    );
    expect(manual.strategy?.canary?.intervalSeconds).toBe(0);
    expect(summary(setCanaryWeight(blue, 0))).toBe(summary(blue));
  });
});

describe('canary', () => {
  const canary = deployCanary(v2, { ...canaryOptions, maxErrorRate: 0.02, maxP99Ms: 250 });

  it('starts at the first step with the policy', () => {
    expect(summary(canary)).toBe(
      'CANARY [5,25,50,100]#0 stable:STABLE:fraud@2:95 candidate:CANDIDATE:fraud@3:5 previous:PREVIOUS:fraud@1:0',
    );
    expect(canary.strategy?.canary).toEqual({
      steps: [5, 25, 50, 100],
      stepIndex: 0,
      intervalSeconds: 60,
      maxErrorRate: 0.02,
      maxP99Ms: 250,
      maxPredictionPsi: 0,
    });
  });

  it('advances step by step and promotes on reaching 100', () => {
    const at25 = advanceCanary(canary);
    expect(summary(at25)).toBe(
      'CANARY [5,25,50,100]#1 stable:STABLE:fraud@2:75 candidate:CANDIDATE:fraud@3:25 previous:PREVIOUS:fraud@1:0',
    );
    const at50 = advanceCanary(at25);
    expect(summary(at50)).toContain('#2 stable:STABLE:fraud@2:50 candidate:CANDIDATE:fraud@3:50');
    expect(summary(advanceCanary(at50))).toBe('DIRECT stable:STABLE:fraud@3:100 previous:PREVIOUS:fraud@2:0');
  });

  it('takes manual weights, keeping step_index at the step reached', () => {
    const at30 = setCanaryWeight(canary, 30);
    expect(summary(at30)).toBe(
      'CANARY [5,25,50,100]#1 stable:STABLE:fraud@2:70 candidate:CANDIDATE:fraud@3:30 previous:PREVIOUS:fraud@1:0',
    );
    expect(summary(advanceCanary(at30))).toContain(
      '#2 stable:STABLE:fraud@2:50 candidate:CANDIDATE:fraud@3:50',
    );
    expect(summary(setCanaryWeight(canary, 2))).toContain('#0 stable:STABLE:fraud@2:98');
    expect(summary(setCanaryWeight(canary, 100))).toContain(
      '#3 stable:STABLE:fraud@2:0 candidate:CANDIDATE:fraud@3:100',
    );
    expect(canaryStepIndex([5, 25, 50, 100], 0)).toBe(0);
    expect(() => setCanaryWeight(canary, 101)).toThrow(InvalidArgumentError);
    expect(() => setCanaryWeight(canary, 2.5)).toThrow(InvalidArgumentError);
    expect(() => setCanaryWeight(v2, 10)).toThrow(FailedPreconditionError);
  });

  it('aborts to the stable, never to the previous version', () => {
    expect(summary(abortCanary(advanceCanary(canary)))).toBe(
      'DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0',
    );
    expect(() => abortCanary(v2)).toThrow(FailedPreconditionError);
    expect(() => advanceCanary(v2)).toThrow(
      new FailedPreconditionError('deployment "fraud" runs no canary to advance (strategy DIRECT)'),
    );
  });

  it('re-plans the same candidate, refuses bad steps and thresholds', () => {
    expect(summary(deployCanary(deployBlueGreen(v2, { version: 3 }), canaryOptions))).toBe(
      summary(deployCanary(v2, canaryOptions)),
    );
    const bad = (steps: number[]) => () => deployCanary(v2, { ...canaryOptions, steps });
    expect(bad([])).toThrow(InvalidArgumentError);
    expect(bad([5, 50])).toThrow(
      new InvalidArgumentError('canary steps [5, 50] must end at 100 (the candidate takes all traffic)'),
    );
    expect(bad([50, 25, 100])).toThrow(
      new InvalidArgumentError('canary steps [50, 25, 100] must be strictly ascending'),
    );
    expect(bad([0, 100])).toThrow(
      new InvalidArgumentError('canary steps [0, 100] must be whole percentages from 1 to 100'),
    );
    expect(() => deployCanary(v2, { ...canaryOptions, maxErrorRate: 2 })).toThrow(
      new InvalidArgumentError('max error rate 2 must be a number from 0 to 1 (0 leaves it unchecked)'),
    );
    expect(() => deployCanary(v2, { ...canaryOptions, intervalSeconds: 1.5 })).toThrow(InvalidArgumentError);
  });
});

describe('shadow', () => {
  it('adds one shadow, replaces it, and removes it', () => {
    const shadowed = startShadow(v2, { version: 3, sample: 0.5 });
    expect(summary(shadowed)).toBe(
      'DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0 shadow:SHADOW:fraud@3:0~0.5',
    );
    expect(summary(startShadow(shadowed, { version: 1, sample: 1 }))).toBe(
      'DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0 shadow:SHADOW:fraud@1:0~1',
    );
    expect(summary(stopShadow(shadowed))).toBe(summary(v2));
    expect(() => stopShadow(v2)).toThrow(
      new FailedPreconditionError('deployment "fraud" has no shadow variant to stop'),
    );
    expect(() => startShadow(v2, { version: 3, sample: 0 })).toThrow(
      new InvalidArgumentError(
        'shadow sample 0 must be in (0, 1]: the share of requests copied to the shadow',
      ),
    );
    expect(() => startShadow(v2, { version: 2, sample: 0.5 })).toThrow(FailedPreconditionError);
  });
});

describe('experiment', () => {
  const arms = [
    { name: 'control', version: 2, weight: 50 },
    { name: 'treatment', version: 3, weight: 50 },
  ];
  const running = startExperiment(v2, { name: 'threshold', unitKey: 'user_id', arms });

  it('replaces the stable with arms; keeps the old stable as previous unless an arm holds it', () => {
    expect(summary(running)).toBe(
      'EXPERIMENT threshold/user_id/threshold control:ARM:fraud@2:50 treatment:ARM:fraud@3:50 previous:PREVIOUS:fraud@1:0',
    );
    const without = startExperiment(v2, {
      name: 'threshold',
      unitKey: 'user_id',
      salt: 's1',
      arms: [
        { name: 'a', version: 3, weight: 30 },
        { name: 'b', version: 1, weight: 70 },
      ],
    });
    expect(summary(without)).toBe(
      'EXPERIMENT threshold/user_id/s1 a:ARM:fraud@3:30 b:ARM:fraud@1:70 previous:PREVIOUS:fraud@2:0',
    );
  });

  it('stops with the winner as stable; by default the arm holding the old stable', () => {
    expect(
      summary(stopExperiment(running, { winner: 'treatment', stableBefore: { model: 'fraud', version: 2 } })),
    ).toBe('DIRECT stable:STABLE:fraud@3:100 previous:PREVIOUS:fraud@2:0');
    const reordered = startExperiment(v2, { name: 'x', unitKey: 'user_id', arms: [...arms].reverse() });
    expect(summary(stopExperiment(reordered, { stableBefore: { model: 'fraud', version: 2 } }))).toBe(
      'DIRECT stable:STABLE:fraud@2:100 previous:PREVIOUS:fraud@1:0',
    );
    expect(summary(stopExperiment(reordered))).toBe(
      'DIRECT stable:STABLE:fraud@3:100 previous:PREVIOUS:fraud@1:0',
    );
  });

  it('refuses bad arms and states that do not allow it', () => {
    const start = (a: typeof arms) => () => startExperiment(v2, { name: 'e', unitKey: 'user_id', arms: a });
    expect(start([arms[0]!])).toThrow(
      new InvalidArgumentError('experiment "e" needs at least two arms (has 1)'),
    );
    expect(start([arms[0]!, { ...arms[1]!, weight: 40 }])).toThrow(
      new InvalidArgumentError(
        'arm weights add up to 90 (control 50 + treatment 40); they must add up to 100',
      ),
    );
    expect(start([arms[0]!, { ...arms[1]!, name: 'previous' }])).toThrow(/reserved/);
    expect(start([arms[0]!, { ...arms[1]!, name: 'control' }])).toThrow(/given twice/);
    expect(() => startExperiment(v2, { name: 'e', unitKey: '', arms })).toThrow(InvalidArgumentError);
    expect(() => startExperiment(running, { name: 'e', unitKey: 'user_id', arms })).toThrow(
      new FailedPreconditionError('deployment "fraud" already runs experiment "threshold"; stop it first'),
    );
    expect(() =>
      startExperiment(deployBlueGreen(v2, { version: 3 }), { name: 'e', unitKey: 'u', arms }),
    ).toThrow(FailedPreconditionError);
    expect(() => stopExperiment(running, { winner: 'nope' })).toThrow(
      new InvalidArgumentError('experiment "threshold" has no arm "nope" (arms: control, treatment)'),
    );
    expect(() => stopExperiment(v2)).toThrow(FailedPreconditionError);
    expect(() => rollback(running)).toThrow(/stop the experiment instead of rolling back/);
    expect(() => deployBlueGreen(running, { version: 4 })).toThrow(
      /runs experiment "threshold" and has no stable variant; stop the experiment/,
    );
    expect(summary(deployDirect(running, 'fraud', { model: 'fraud', version: 4 }))).toBe(
      'DIRECT stable:STABLE:fraud@4:100 previous:PREVIOUS:fraud@1:0',
    );
  });
});

describe('a missing deployment', () => {
  it('is NotFound for every transformation but a direct deploy', () => {
    for (const transform of [promote, rollback, advanceCanary, abortCanary, stopShadow, stopExperiment]) {
      expect(() => transform(undefined)).toThrow(NotFoundError);
    }
  });
});
