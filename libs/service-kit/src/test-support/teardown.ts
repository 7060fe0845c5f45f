/** Collects cleanups during a test and runs them (last first) in `afterEach`. */
export interface Teardown {
  /** Registers `fn` and returns `value`, for `const s = teardown.add(x, () => x.close())`. */
  add<T>(value: T, fn: () => Promise<unknown> | unknown): T;
  run(): Promise<void>;
}

export function createTeardown(): Teardown {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  return {
    add(value, fn) {
      cleanups.push(fn);
      return value;
    },
    async run() {
      const errors: unknown[] = [];
      for (const fn of cleanups.splice(0).reverse()) {
        try {
          await fn();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
    },
  };
}
