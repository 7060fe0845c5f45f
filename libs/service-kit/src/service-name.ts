import type { ServiceDefinitionLike } from './service-types.js';

/**
 * The full service name of a definition (`slipway.testing.v1.EchoService`), read from its method
 * paths. Throws when the definition is empty or mixes services.
 */
export function serviceNameOf(definition: ServiceDefinitionLike): string {
  const names = new Set(Object.values(definition).map((method) => method.path.split('/')[1] ?? ''));
  const [name] = names;
  if (names.size !== 1 || !name) {
    throw new Error(
      `a service definition must hold the methods of exactly one service; got [${[...names].join(', ')}]`,
    );
  }
  return name;
}
