import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. Prefer binding port 0 and reading the
 * address back: another process can take this port before you use it. Use it only when an
 * address must be known before the app starts.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
