import { registry } from '@slipway/contracts';
import { FailedPreconditionError, NotFoundError, UnavailableError } from '@slipway/errors';
import { decodeProfile, type ReferenceProfile } from '@slipway/features';
import { createClient, type ParentCall } from '@slipway/service-kit';

/** What the analyses read from the registry. */
export interface RegistryLookup {
  /** The registry's address, for messages. */
  readonly address: string;
  /** The deployment as applied now; undefined when the registry has no such deployment. */
  deployment(name: string, parent?: ParentCall): Promise<registry.Deployment | undefined>;
  /**
   * The reference profile registered with a model version, cached per model@version (versions
   * are immutable).
   *
   * @throws NotFoundError when the registry has no such version.
   * @throws FailedPreconditionError when the version has no profile or an unreadable one.
   */
  profile(model: string, version: number, parent?: ParentCall): Promise<ReferenceProfile>;
  /** Closes the registry clients. Idempotent. */
  close(): void;
}

/** Options of {@link createRegistryLookup}. */
export interface RegistryLookupOptions {
  readonly address: string;
  readonly token?: string;
  /** Profiles kept in memory (least recently used are dropped). Default 64. */
  readonly cacheSize?: number;
  /** Deadline of each registry call, in ms. Default 5000. */
  readonly deadlineMs?: number;
}

/**
 * Reads deployments (one GetDeployment per analysis: the monitor always judges the deployment as
 * it is now) and reference profiles (GetModelVersion once per model@version) from the registry.
 */
export function createRegistryLookup(options: RegistryLookupOptions): RegistryLookup {
  const { address } = options;
  const cacheSize = options.cacheSize ?? 64;
  const deadline = options.deadlineMs ?? 5_000;
  const clientOptions = { token: options.token, defaultDeadlineMs: deadline };
  const deployments = createClient(registry.DeploymentServiceService, address, clientOptions);
  const models = createClient(registry.ModelServiceService, address, clientOptions);
  const profiles = new Map<string, ReferenceProfile>();

  const unavailable = (what: string, err: unknown): unknown =>
    err instanceof UnavailableError
      ? new UnavailableError(`cannot read ${what} from the registry at ${address}: ${err.message}`, {
          cause: err,
        })
      : err;

  return {
    address,

    async deployment(name, parent) {
      try {
        const { deployment } = await deployments.getDeployment({ name }, { parent });
        return deployment;
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw unavailable(`deployment "${name}"`, err);
      }
    },

    async profile(model, version, parent) {
      const key = `${model}@${version}`;
      const cached = profiles.get(key);
      if (cached) {
        // Map order is insertion order: re-inserting marks it most recently used.
        profiles.delete(key);
        profiles.set(key, cached);
        return cached;
      }
      let found: registry.ModelVersion | undefined;
      try {
        ({ version: found } = await models.getModelVersion({ model, version, alias: '' }, { parent }));
      } catch (err) {
        if (err instanceof NotFoundError) {
          throw new NotFoundError(`the registry has no model version ${key}: ${err.message}`, { cause: err });
        }
        throw unavailable(`model version ${key}`, err);
      }
      const bytes = found?.lineage?.referenceProfile;
      if (!bytes || bytes.length === 0) {
        throw new FailedPreconditionError(
          `model version ${key} has no reference profile; register the version with ` +
            'lineage.reference_profile (buildProfile/encodeProfile of @slipway/features on its training matrix)',
        );
      }
      let profile: ReferenceProfile;
      try {
        profile = decodeProfile(bytes);
      } catch (err) {
        throw new FailedPreconditionError(
          `the reference profile of model version ${key} cannot be read: ${(err as Error).message}`,
          { cause: err },
        );
      }
      profiles.set(key, profile);
      if (profiles.size > cacheSize) profiles.delete(profiles.keys().next().value!);
      return profile;
    },

    close() {
      deployments.close();
      models.close();
    },
  };
}
