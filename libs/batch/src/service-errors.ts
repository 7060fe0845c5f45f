import { DeadlineExceededError, UnavailableError } from '@slipway/service-kit';

/**
 * Awaits a call to one of the platform's services; when the service cannot be reached (or does
 * not answer in time), the error says which service and where, e.g. `cannot reach the feature
 * service at 127.0.0.1:7002: …`. Other errors pass unchanged.
 */
export async function calling<T>(service: string, address: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof UnavailableError || error instanceof DeadlineExceededError) {
      throw new UnavailableError(`cannot reach the ${service} at ${address}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
