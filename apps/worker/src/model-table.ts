import { FailedPreconditionError, NotFoundError, UnavailableError } from '@slipway/errors';
import type { LoadedModel } from '@slipway/model-runtime';

/** Where a version is in its life: being fetched and loaded, serving, or refused. */
export type VersionState = 'LOADING' | 'READY' | 'FAILED';

/** What the table knows about one model version. */
export interface VersionStatus {
  readonly name: string;
  readonly version: number;
  readonly state: VersionState;
  /** Why the load failed (FAILED only). */
  readonly error?: string;
  /** Hex sha256 of the artifact, when known. */
  readonly sha256?: string;
}

/** Facts known before a load finishes. */
export interface VersionInfo {
  readonly sha256?: string | undefined;
}

/**
 * The model versions a worker holds, keyed by model name and version. Versions load, serve and
 * unload independently: a new version loads beside the ones serving, and a removed version is
 * closed only after the requests already running on it have finished.
 */
export interface ModelTable {
  /**
   * Loads a version with `loader` unless it is already loading or ready (a FAILED version is
   * loaded again). Resolves with the version's status once the load settled; never rejects.
   */
  load(
    name: string,
    version: number,
    loader: () => Promise<LoadedModel>,
    info?: VersionInfo,
  ): Promise<VersionStatus>;
  /** Records a version as FAILED without loading it (e.g. an invalid model folder). */
  fail(name: string, version: number, error: string, info?: VersionInfo): void;
  /**
   * Removes a version: new requests no longer find it at once; its model is closed once the
   * requests running on it have finished (a version still loading is closed when its load ends).
   */
  unload(name: string, version: number): Promise<void>;
  /**
   * Runs `fn` with a ready version of `name`: `version` when given ('' or undefined: the highest
   * ready version), counting the call in flight so an unload waits for it.
   *
   * @throws NotFoundError for an unknown model or version, UnavailableError for a version still
   *   loading, FailedPreconditionError for a version that failed to load (with its error).
   */
  use<T>(name: string, version: string | undefined, fn: (model: LoadedModel) => Promise<T>): Promise<T>;
  /** The ready model `use` would pick, with the same errors. */
  resolve(name: string, version?: string): LoadedModel;
  /** Whether that version (or, without one, any version of the model) is ready. Never throws. */
  isReady(name: string, version?: string): boolean;
  /** Ready versions of a model, ascending. */
  readyVersions(name: string): number[];
  /** Every version, sorted by name then version. */
  list(): VersionStatus[];
  /** True when no version is loading. */
  settled(): boolean;
  /** Calls `listener` after every state change (loading, ready, failed, removed). */
  onChange(listener: () => void): () => void;
  /** Unloads everything (waiting for in-flight requests) and refuses further loads. Idempotent. */
  close(): Promise<void>;
}

interface Entry {
  readonly name: string;
  readonly version: number;
  state: VersionState;
  error: string | undefined;
  sha256: string | undefined;
  model: LoadedModel | undefined;
  /** Set once the entry left the table; a load still running closes its model when it ends. */
  removed: boolean;
  inFlight: number;
  idle: (() => void) | undefined;
  /** The load that produced the current state. */
  loading: Promise<VersionStatus> | undefined;
}

/** Creates an empty {@link ModelTable}. */
export function createModelTable(): ModelTable {
  return new Table();
}

const MAX_NAMES_SHOWN = 10;

function statusOf(entry: Entry): VersionStatus {
  return {
    name: entry.name,
    version: entry.version,
    state: entry.state,
    ...(entry.error === undefined ? {} : { error: entry.error }),
    ...(entry.sha256 === undefined ? {} : { sha256: entry.sha256 }),
  };
}

function describeVersions(entries: Iterable<Entry>): string {
  const parts = [...entries]
    .sort((a, b) => a.version - b.version)
    .map((e) => `${e.version} ${e.state.toLowerCase()}`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}

class Table implements ModelTable {
  readonly #models = new Map<string, Map<number, Entry>>();
  readonly #listeners = new Set<() => void>();
  #closing: Promise<void> | undefined;

  load(
    name: string,
    version: number,
    loader: () => Promise<LoadedModel>,
    info: VersionInfo = {},
  ): Promise<VersionStatus> {
    if (this.#closing) {
      return Promise.resolve({ name, version, state: 'FAILED', error: 'the worker is shutting down' });
    }
    const existing = this.#models.get(name)?.get(version);
    if (existing && existing.state !== 'FAILED') {
      return existing.loading ?? Promise.resolve(statusOf(existing));
    }
    const entry: Entry = {
      name,
      version,
      state: 'LOADING',
      error: undefined,
      sha256: info.sha256,
      model: undefined,
      removed: false,
      inFlight: 0,
      idle: undefined,
      loading: undefined,
    };
    this.#put(entry);
    entry.loading = this.#runLoad(entry, loader);
    this.#changed();
    return entry.loading;
  }

  async #runLoad(entry: Entry, loader: () => Promise<LoadedModel>): Promise<VersionStatus> {
    let model: LoadedModel;
    try {
      model = await loader();
    } catch (error) {
      entry.loading = undefined;
      if (!entry.removed) {
        entry.state = 'FAILED';
        entry.error = error instanceof Error ? error.message : String(error);
        this.#changed();
      }
      return statusOf(entry);
    }
    entry.loading = undefined;
    if (entry.removed) {
      await model.close();
      return { ...statusOf(entry), state: 'FAILED', error: 'unloaded while loading' };
    }
    entry.model = model;
    entry.sha256 = model.sha256;
    entry.state = 'READY';
    this.#changed();
    return statusOf(entry);
  }

  fail(name: string, version: number, error: string, info: VersionInfo = {}): void {
    const existing = this.#models.get(name)?.get(version);
    if (existing && existing.state !== 'FAILED') return;
    this.#put({
      name,
      version,
      state: 'FAILED',
      error,
      sha256: info.sha256,
      model: undefined,
      removed: false,
      inFlight: 0,
      idle: undefined,
      loading: undefined,
    });
    this.#changed();
  }

  async unload(name: string, version: number): Promise<void> {
    const versions = this.#models.get(name);
    const entry = versions?.get(version);
    if (!versions || !entry) return;
    versions.delete(version);
    if (versions.size === 0) this.#models.delete(name);
    entry.removed = true;
    this.#changed();
    if (entry.loading) await entry.loading;
    if (entry.inFlight > 0) await new Promise<void>((resolve) => (entry.idle = resolve));
    const model = entry.model;
    entry.model = undefined;
    await model?.close();
  }

  async use<T>(
    name: string,
    version: string | undefined,
    fn: (model: LoadedModel) => Promise<T>,
  ): Promise<T> {
    const entry = this.#pick(name, version);
    entry.inFlight++;
    try {
      return await fn(entry.model as LoadedModel);
    } finally {
      entry.inFlight--;
      if (entry.inFlight === 0 && entry.idle) entry.idle();
    }
  }

  resolve(name: string, version?: string): LoadedModel {
    return this.#pick(name, version).model as LoadedModel;
  }

  isReady(name: string, version?: string): boolean {
    try {
      this.#pick(name, version);
      return true;
    } catch {
      return false;
    }
  }

  readyVersions(name: string): number[] {
    return [...(this.#models.get(name)?.values() ?? [])]
      .filter((e) => e.state === 'READY')
      .map((e) => e.version)
      .sort((a, b) => a - b);
  }

  list(): VersionStatus[] {
    return [...this.#models.keys()]
      .sort()
      .flatMap((name) =>
        [...(this.#models.get(name) as Map<number, Entry>).values()]
          .sort((a, b) => a.version - b.version)
          .map(statusOf),
      );
  }

  settled(): boolean {
    for (const versions of this.#models.values()) {
      for (const entry of versions.values()) if (entry.state === 'LOADING') return false;
    }
    return true;
  }

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(
      [...this.#models.values()].flatMap((versions) =>
        [...versions.values()].map((e) => this.unload(e.name, e.version)),
      ),
    ).then(() => undefined);
    return this.#closing;
  }

  #put(entry: Entry): void {
    let versions = this.#models.get(entry.name);
    if (!versions) {
      versions = new Map();
      this.#models.set(entry.name, versions);
    }
    versions.set(entry.version, entry);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  #pick(name: string, version: string | undefined): Entry & { model: LoadedModel } {
    const versions = this.#models.get(name);
    if (!versions) {
      const names = [...this.#models.keys()].sort();
      const shown = names
        .slice(0, MAX_NAMES_SHOWN)
        .map((n) => `"${n}"`)
        .join(', ');
      const more = names.length > MAX_NAMES_SHOWN ? ` and ${names.length - MAX_NAMES_SHOWN} more` : '';
      throw new NotFoundError(
        `model "${name}" is not served by this worker (${names.length > 0 ? `served: ${shown}${more}` : 'no models are loaded'})`,
      );
    }
    if (version === undefined || version === '') {
      const ready = [...versions.values()]
        .filter((e) => e.state === 'READY')
        .sort((a, b) => b.version - a.version)[0];
      if (ready) return ready as Entry & { model: LoadedModel };
      const all = [...versions.values()];
      if (all.some((e) => e.state === 'LOADING')) {
        throw new UnavailableError(
          `model "${name}" has no ready version yet (versions: ${describeVersions(all)}); retry shortly`,
        );
      }
      const failures = all
        .sort((a, b) => b.version - a.version)
        .map((e) => `version ${e.version}: ${e.error ?? 'unknown error'}`)
        .join('; ');
      throw new FailedPreconditionError(`model "${name}" has no ready version: ${failures}`);
    }
    const number = /^[1-9][0-9]{0,9}$/.test(version) ? Number(version) : undefined;
    const entry = number === undefined ? undefined : versions.get(number);
    if (!entry) {
      throw new NotFoundError(
        `model "${name}" has no version "${version}" (versions: ${describeVersions(versions.values())})`,
      );
    }
    if (entry.state === 'LOADING') {
      const ready = this.readyVersions(name);
      throw new UnavailableError(
        `model "${name}" version ${entry.version} is still loading; retry shortly${ready.length > 0 ? `, or omit the version to use the newest ready one (${ready.at(-1)})` : ''}`,
      );
    }
    if (entry.state === 'FAILED') {
      throw new FailedPreconditionError(
        `model "${name}" version ${entry.version} failed to load and does not serve: ${entry.error ?? 'unknown error'}`,
      );
    }
    return entry as Entry & { model: LoadedModel };
  }
}
