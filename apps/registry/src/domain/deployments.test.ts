import { registry } from '@slipway/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestRegistry, registerTestVersion, type TestRegistry } from '../testing/fixtures.js';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@slipway/errors';

const { VariantRole: Role, StrategyKind: Kind } = registry;

/** A deployment from a partial description (fromPartial does not use `this`). */
const dep = registry.Deployment.fromPartial;

const direct = (version = 1) =>
  dep({
    name: 'fraud',
    variants: [{ name: 'stable', model: 'fraud', version, role: Role.VARIANT_ROLE_STABLE, weight: 100 }],
    strategy: { kind: Kind.STRATEGY_KIND_DIRECT },
    decisionThreshold: 0.5,
  });

const canary = (stepIndex: number, weight: number) =>
  dep({
    name: 'fraud',
    variants: [
      { name: 'stable', model: 'fraud', version: 1, role: Role.VARIANT_ROLE_STABLE, weight: 100 - weight },
      { name: 'candidate', model: 'fraud', version: 2, role: Role.VARIANT_ROLE_CANDIDATE, weight },
      {
        name: 'shadow',
        model: 'fraud',
        version: 3,
        role: Role.VARIANT_ROLE_SHADOW,
        weight: 0,
        sampleRate: 0.1,
      },
    ],
    strategy: {
      kind: Kind.STRATEGY_KIND_CANARY,
      canary: { steps: [5, 25, 50, 100], stepIndex, intervalSeconds: 300 },
    },
  });

describe('deployments', () => {
  let reg: TestRegistry;
  beforeEach(async () => {
    reg = createTestRegistry();
    for (let i = 0; i < 3; i += 1) await registerTestVersion(reg.domain, 'fraud');
  });
  afterEach(() => reg.cleanup());

  const apply = (
    deployment: registry.Deployment,
    extra: { expectedRevision?: bigint | number; reason?: string } = {},
  ) => reg.domain.deployments.applyDeployment({ deployment, actor: 'alice', traceId: 'tr', ...extra });

  it('applies a deployment as a new revision with history, change and audit entry', () => {
    const { deployment, changed } = apply(direct(), { reason: 'first release' });
    expect(changed).toBe(true);
    expect(deployment).toEqual({ ...direct(), revision: 1n, updatedAt: reg.clock.now(), updatedBy: 'alice' });
    expect(reg.domain.deployments.getDeployment('fraud')).toEqual(deployment);
    expect(reg.domain.deployments.listDeployments()).toEqual({ deployments: [deployment], revision: 1n });
    expect(reg.domain.changes.since(0n).map((c) => [c.revision, c.kind, c.key])).toEqual([
      [1n, 'deployment', 'fraud'],
    ]);
    const [entry] = reg.domain.audit.list({ action: 'deployment.apply' });
    expect(entry).toMatchObject({
      target: 'deployment/fraud',
      actor: 'alice',
      reason: 'first release',
      traceId: 'tr',
      beforeJson: '',
    });
    expect(registry.Deployment.fromJSON(JSON.parse(entry!.afterJson))).toEqual(deployment);
  });

  it('writes nothing for an identical desired state', () => {
    apply(direct());
    reg.clock.advance(1000);
    const again = apply({ ...direct(), revision: 77n, updatedBy: 'someone', updatedAt: new Date(0) });
    expect(again.changed).toBe(false);
    expect(again.deployment.revision).toBe(1n);
    expect(reg.domain.changes.currentRevision()).toBe(1n);
    expect(reg.domain.deployments.history('fraud')).toHaveLength(1);
    expect(reg.domain.audit.list({ action: 'deployment.apply' })).toHaveLength(1);
  });

  it('moves through canary steps; history is newest first; revisions are global', () => {
    apply(direct());
    reg.domain.endpoints.heartbeat({ workerId: 'w1', address: '127.0.0.1:7010' });
    apply(canary(0, 5));
    const last = apply(canary(1, 25));
    expect(last.deployment.revision).toBe(4n);
    expect(reg.domain.deployments.history('fraud').map((d) => d.revision)).toEqual([4n, 3n, 1n]);
    expect(reg.domain.deployments.history('fraud', 1).map((d) => d.revision)).toEqual([4n]);
    const [entry] = reg.domain.audit.list({ action: 'deployment.apply', descending: true, limit: 1 });
    expect(registry.Deployment.fromJSON(JSON.parse(entry!.beforeJson)).revision).toBe(3n);
  });

  describe('expected revision', () => {
    it('-1 creates only', () => {
      apply(direct(), { expectedRevision: -1 });
      expect(() => apply(direct(2), { expectedRevision: -1n })).toThrow(
        new FailedPreconditionError(
          'deployment "fraud" already exists at revision 1 (expected_revision -1 only creates; pass 1 to replace it)',
        ),
      );
    });

    it('N applies only at revision N', () => {
      expect(() => apply(direct(), { expectedRevision: 3n })).toThrow(
        new FailedPreconditionError(
          'deployment "fraud" does not exist, so it is not at revision 3 (pass -1 to create it)',
        ),
      );
      apply(direct());
      apply(direct(2), { expectedRevision: 1n });
      expect(() => apply(direct(3), { expectedRevision: 1n })).toThrow(
        new FailedPreconditionError(
          'deployment "fraud" is at revision 2, not 1 (it changed since you read it; read it again and re-apply)',
        ),
      );
      expect(reg.domain.deployments.getDeployment('fraud').variants[0]!.version).toBe(2);
    });

    it('0 applies unconditionally; other negatives are invalid', () => {
      apply(direct());
      expect(apply(direct(2), { expectedRevision: 0 }).changed).toBe(true);
      expect(() => apply(direct(), { expectedRevision: -2n })).toThrow(InvalidArgumentError);
    });
  });

  describe('validation', () => {
    const problemsOf = (deployment: registry.Deployment): string => {
      try {
        apply(deployment);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidArgumentError);
        return (err as Error).message;
      }
      throw new Error('expected the deployment to be refused');
    };

    it('lists every problem in one error, naming the thing and the fix', () => {
      const message = problemsOf(
        dep({
          name: 'fraud',
          variants: [
            { name: 'stable', model: 'fraud', version: 1, role: Role.VARIANT_ROLE_STABLE, weight: 50 },
            { name: 'stable', model: 'fraud', version: 9, role: Role.VARIANT_ROLE_STABLE, weight: 30 },
            { name: 'c1', model: 'fraud', version: 2, role: Role.VARIANT_ROLE_CANDIDATE, weight: 10 },
            { name: 'c2', model: 'ghost', version: 1, role: Role.VARIANT_ROLE_CANDIDATE, weight: 0 },
            {
              name: 'mirror',
              model: 'fraud',
              version: 3,
              role: Role.VARIANT_ROLE_SHADOW,
              weight: 5,
              sampleRate: 0,
            },
          ],
          strategy: { kind: Kind.STRATEGY_KIND_BLUE_GREEN },
        }),
      );
      expect(message).toBe(
        'deployment "fraud" is invalid (8 problems): ' +
          '1) variant name "stable" is used 2 times; variant names must be unique; ' +
          '2) variant "stable": model "fraud" has no version 9 (latest is 3); ' +
          '3) variant "c2": model "ghost" does not exist (register it first); ' +
          '4) variant "mirror": a shadow variant serves no traffic, so its weight must be 0 (got 5); use sample_rate for its share; ' +
          '5) variant "mirror": a shadow variant needs a sample_rate in (0, 1] (got 0); ' +
          '6) weights of the non-shadow variants add up to 90 (stable 50 + stable 30 + c1 10 + c2 0); they must add up to 100; ' +
          '7) 2 variants are candidates (c1, c2); at most one may be; ' +
          '8) exactly one variant must be STABLE (found 2)',
      );
      expect(reg.domain.changes.currentRevision()).toBe(0n);
    });

    it('checks the name, the presence of variants and of a strategy', () => {
      expect(problemsOf(dep({ name: 'Bad Name', strategy: { kind: Kind.STRATEGY_KIND_DIRECT } }))).toBe(
        'deployment "Bad Name" is invalid (2 problems): ' +
          '1) deployment name "Bad Name" is invalid: use 1-63 characters of a-z, 0-9, "_", "." or "-", starting with a letter or digit; ' +
          '2) it has no variants; add at least one',
      );
      expect(problemsOf({ ...direct(), strategy: undefined })).toBe(
        'deployment "fraud" is invalid: strategy.kind is missing (use DIRECT, BLUE_GREEN, CANARY or EXPERIMENT)',
      );
      expect(
        problemsOf(
          dep({
            ...direct(),
            variants: [{ name: 'stable', model: 'fraud', version: 0, role: 0, weight: 100 }],
          }),
        ),
      ).toBe(
        'deployment "fraud" is invalid (3 problems): 1) variant "stable": version 0 is invalid (pin an exact version, 1 or more); ' +
          '2) variant "stable": role is missing (use STABLE, CANDIDATE, SHADOW, ARM or PREVIOUS); 3) exactly one variant must be STABLE (found 0)',
      );
    });

    it('checks canary policies', () => {
      expect(problemsOf(canary(2, 30))).toBe(
        'deployment "fraud" is invalid: candidate "candidate" has weight 30 but canary step_index is 2 (50); ' +
          'step_index must be 1, the largest step not above the weight (0 below the first step)',
      );
      expect(problemsOf(canary(1, 5))).toContain('step_index must be 0');
      const bad = canary(4, 25);
      bad.strategy!.canary!.steps = [50, 25, 90];
      expect(problemsOf(bad)).toBe(
        'deployment "fraud" is invalid (3 problems): 1) canary steps [50, 25, 90] must be strictly ascending; ' +
          '2) canary steps [50, 25, 90] must end at 100; 3) canary step_index 4 is out of range (steps has 3 entries, so 0 to 2)',
      );
      expect(
        problemsOf({
          ...canary(0, 5),
          strategy: { kind: Kind.STRATEGY_KIND_CANARY, canary: undefined, experiment: undefined },
        }),
      ).toBe(
        'deployment "fraud" is invalid: a CANARY deployment needs strategy.canary with its weight steps',
      );
      expect(
        problemsOf({
          ...direct(),
          strategy: {
            kind: Kind.STRATEGY_KIND_DIRECT,
            canary: canary(0, 5).strategy!.canary,
            experiment: undefined,
          },
        }),
      ).toBe(
        'deployment "fraud" is invalid: strategy.canary is set but the strategy is DIRECT; remove it or use CANARY',
      );
    });

    it('allows a canary weight set by hand between steps, with step_index at the step reached', () => {
      expect(apply(canary(1, 30)).deployment.variants[1]!.weight).toBe(30);
      expect(apply(canary(0, 2)).changed).toBe(true);
      expect(apply(canary(0, 0)).changed).toBe(true);
      expect(apply(canary(3, 100)).changed).toBe(true);
    });

    it('keeps at most one PREVIOUS variant, at weight 0, with any strategy', () => {
      const previous = (version: number, weight = 0, name = 'previous') => ({
        name,
        model: 'fraud',
        version,
        role: Role.VARIANT_ROLE_PREVIOUS,
        weight,
        sampleRate: 0,
      });
      const withPrevious = { ...direct(2), variants: [...direct(2).variants, previous(1)] };
      expect(apply(withPrevious).deployment.variants.map((v) => v.name)).toEqual(['stable', 'previous']);
      const releasing = canary(1, 25);
      releasing.variants.push(previous(3));
      expect(apply(releasing).changed).toBe(true);
      expect(
        apply(
          dep({
            name: 'fraud',
            variants: [
              { name: 'control', model: 'fraud', version: 2, role: Role.VARIANT_ROLE_ARM, weight: 50 },
              { name: 'treatment', model: 'fraud', version: 3, role: Role.VARIANT_ROLE_ARM, weight: 50 },
              previous(1),
            ],
            strategy: {
              kind: Kind.STRATEGY_KIND_EXPERIMENT,
              experiment: { name: 'exp', unitKey: 'user_id', salt: 's' },
            },
          }),
        ).changed,
      ).toBe(true);

      expect(
        problemsOf({
          ...direct(2),
          variants: [{ ...direct(2).variants[0]!, weight: 90 }, previous(1, 10), previous(3, 0, 'older')],
        }),
      ).toBe(
        'deployment "fraud" is invalid (2 problems): ' +
          '1) variant "previous": a PREVIOUS variant is kept loaded for rollback and serves no traffic, so its weight must be 0 (got 10); make it STABLE or CANDIDATE to serve; ' +
          '2) 2 variants are PREVIOUS (previous, older); at most one may be (keep the version a rollback returns to)',
      );
      expect(problemsOf({ ...direct(2), variants: [previous(1, 100)] })).toContain(
        'exactly one variant must be STABLE (found 0)',
      );
      expect(
        problemsOf({ ...direct(2), variants: [...direct(2).variants, { ...previous(1), sampleRate: 0.5 }] }),
      ).toBe(
        'deployment "fraud" is invalid: variant "previous": sample_rate 0.5 applies to shadow variants only; set it to 0',
      );
    });

    it('checks experiments: arms only, policy with name and unit_key', () => {
      const experiment = dep({
        name: 'fraud',
        variants: [
          { name: 'control', model: 'fraud', version: 1, role: Role.VARIANT_ROLE_ARM, weight: 50 },
          { name: 'treatment', model: 'fraud', version: 2, role: Role.VARIANT_ROLE_STABLE, weight: 50 },
        ],
        strategy: { kind: Kind.STRATEGY_KIND_EXPERIMENT, experiment: { name: '', unitKey: '' } },
      });
      expect(problemsOf(experiment)).toBe(
        'deployment "fraud" is invalid (4 problems): 1) an EXPERIMENT serves arms only; "treatment" must be ARM (or SHADOW); ' +
          '2) an EXPERIMENT needs at least two ARM variants (has 1); ' +
          '3) experiment name is empty; name the experiment (outcomes are reported under it); ' +
          '4) experiment unit_key is empty; name the request key that identifies a unit, e.g. user_id',
      );
      expect(
        problemsOf({ ...direct(), variants: [{ ...direct().variants[0]!, role: Role.VARIANT_ROLE_ARM }] }),
      ).toContain('ARM variants (stable) belong to EXPERIMENT deployments, not DIRECT');
    });
  });

  it('fills an empty experiment salt once and keeps it on re-apply', () => {
    const experiment = (salt = '') =>
      dep({
        name: 'fraud',
        variants: [
          { name: 'control', model: 'fraud', version: 1, role: Role.VARIANT_ROLE_ARM, weight: 50 },
          { name: 'treatment', model: 'fraud', version: 2, role: Role.VARIANT_ROLE_ARM, weight: 50 },
        ],
        strategy: {
          kind: Kind.STRATEGY_KIND_EXPERIMENT,
          experiment: { name: 'new-threshold', unitKey: 'user_id', salt },
        },
      });
    const first = apply(experiment());
    const salt = first.deployment.strategy!.experiment!.salt;
    expect(salt).toMatch(/^[0-9a-f]{32}$/);
    expect(apply(experiment()).changed).toBe(false);
    expect(apply(experiment('chosen')).deployment.strategy!.experiment!.salt).toBe('chosen');
  });

  it('deletes as a new revision, audited; history outlives the deployment', () => {
    apply(direct());
    expect(() =>
      reg.domain.deployments.deleteDeployment({ name: 'fraud', actor: 'bob', expectedRevision: 7n }),
    ).toThrow(FailedPreconditionError);
    expect(
      reg.domain.deployments.deleteDeployment({ name: 'fraud', actor: 'bob', reason: 'retired' }),
    ).toEqual({ revision: 2n });
    expect(() => reg.domain.deployments.getDeployment('fraud')).toThrow(
      new NotFoundError('deployment "fraud" does not exist (apply it first)'),
    );
    expect(() => reg.domain.deployments.deleteDeployment({ name: 'fraud', actor: 'bob' })).toThrow(
      NotFoundError,
    );
    expect(reg.domain.deployments.listDeployments()).toEqual({ deployments: [], revision: 2n });
    expect(reg.domain.deployments.history('fraud').map((d) => d.revision)).toEqual([1n]);
    expect(() => reg.domain.deployments.history('never')).toThrow(NotFoundError);
    const [entry] = reg.domain.audit.list({ action: 'deployment.delete' });
    expect(entry).toMatchObject({ actor: 'bob', reason: 'retired', afterJson: '' });
    expect(reg.domain.changes.since(1n)).toMatchObject([
      { revision: 2n, kind: 'deployment', key: 'fraud', payloadJson: null },
    ]);
    expect(apply(direct(), { expectedRevision: -1 }).deployment.revision).toBe(3n);
  });

  it('refuses raw rewrites of deployment history', () => {
    apply(direct());
    expect(() => reg.database.sqlite.prepare("UPDATE deployment_history SET updated_by = 'x'").run()).toThrow(
      /immutable/,
    );
    expect(() => reg.database.sqlite.prepare('DELETE FROM deployment_history').run()).toThrow(/immutable/);
  });
});
