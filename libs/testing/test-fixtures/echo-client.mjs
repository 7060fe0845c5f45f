// Fixture client: inside a withSpan span, calls EchoService/Echo once on FIXTURE_TARGET, logs the
// answer, flushes telemetry and exits 0 (1 on failure).
// A namespace import on purpose: the default import is the CommonJS exports object, whose client
// constructors the ESM instrumentation hook cannot patch (calls would go untraced).
import * as grpc from '@grpc/grpc-js';
import {
  currentTraceId,
  isTelemetryStarted,
  shutdownTelemetry,
  SlipwayAttributes,
  withSpan,
} from '@slipway/telemetry';
import { echoPackage, log } from './echo.mjs';

const client = new echoPackage.EchoService(process.env.FIXTURE_TARGET, grpc.credentials.createInsecure());
let code = 0;
try {
  await withSpan('fixture.call', { [SlipwayAttributes.REQUEST_ID]: 'req-1' }, async () => {
    const response = await new Promise((resolve, reject) =>
      client.Echo({ text: 'hello' }, { deadline: Date.now() + 10_000 }, (error, r) =>
        error ? reject(error) : resolve(r),
      ),
    );
    log('echoed', {
      text: response.text,
      traceId: currentTraceId() ?? '',
      serverTraceId: response.trace_id,
      telemetryStarted: isTelemetryStarted(),
    });
  });
} catch (error) {
  log('echo failed', { err: String(error) });
  code = 1;
} finally {
  client.close();
}
await shutdownTelemetry();
await shutdownTelemetry(); // idempotent
log('flushed', { telemetryStarted: isTelemetryStarted() });
process.exit(code);
