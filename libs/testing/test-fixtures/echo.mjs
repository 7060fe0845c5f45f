// Loads echo.proto; shared by the fixture server and client.
// A namespace import on purpose: the default import is the CommonJS exports object, whose client
// constructors the ESM instrumentation hook cannot patch (calls would go untraced).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const definition = protoLoader.loadSync(new URL('./echo.proto', import.meta.url).pathname, {
  keepCase: true,
});
export const echoPackage = grpc.loadPackageDefinition(definition).fixture.echo.v1;

/** One JSON log line on stdout, shaped like pino's. */
export function log(msg, fields = {}) {
  process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg, ...fields })}\n`);
}
