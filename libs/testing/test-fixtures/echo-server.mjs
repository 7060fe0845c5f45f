// Fixture app: EchoService + grpc.health.v1 on FIXTURE_ADDR (default 127.0.0.1:0), optional
// Prometheus endpoint on FIXTURE_METRICS_ADDR, logs like a Slipway app, exits cleanly on SIGTERM.
// A namespace import on purpose: the default import is the CommonJS exports object, whose client
// constructors the ESM instrumentation hook cannot patch (calls would go untraced).
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { currentTraceId, meter, shutdownTelemetry, startMetricsServer } from '@slipway/telemetry';
import { echoPackage, log } from './echo.mjs';

const echoes = meter('fixture-echo').createCounter('fixture_echo_requests', {
  description: 'Echo calls served',
});

const server = new grpc.Server();
server.addService(echoPackage.EchoService.service, {
  Echo(call, callback) {
    echoes.add(1);
    const traceId = currentTraceId() ?? '';
    log('echo', { traceId });
    callback(null, { text: call.request.text, trace_id: traceId });
  },
});
const health = new HealthImplementation({ '': 'SERVING' });
health.addToServer(server);

const port = await new Promise((resolve, reject) =>
  server.bindAsync(
    process.env.FIXTURE_ADDR || '127.0.0.1:0',
    grpc.ServerCredentials.createInsecure(),
    (error, p) => (error ? reject(error) : resolve(p)),
  ),
);
const metrics = process.env.FIXTURE_METRICS_ADDR
  ? await startMetricsServer(process.env.FIXTURE_METRICS_ADDR)
  : undefined;
log('listening', { address: `127.0.0.1:${port}`, metricsAddress: metrics?.address });

function shutdown() {
  log('stopping');
  server.tryShutdown(async () => {
    await metrics?.close();
    await shutdownTelemetry();
    log('stopped');
    process.exit(0);
  });
}
// FIXTURE_IGNORE_SIGTERM plays a service that hangs on shutdown.
process.on('SIGTERM', process.env.FIXTURE_IGNORE_SIGTERM ? () => log('ignoring SIGTERM') : shutdown);
