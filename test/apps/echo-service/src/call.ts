// One Echo call from a separate process, for end-to-end trace tests:
//   node --import @slipway/telemetry/register dist/call.js <address> <text>
// Prints the response as JSON and exits after flushing telemetry.
import { testing } from '@slipway/contracts';
import { createClient } from '@slipway/service-kit';
import { currentTraceId, shutdownTelemetry, withSpan } from '@slipway/telemetry';

const [address, text = 'hello'] = process.argv.slice(2);
if (!address) {
  console.error('usage: call.js <address> [text]');
  process.exit(2);
}
const client = createClient(testing.EchoServiceService, address);
try {
  const result = await withSpan('echo-call', {}, async () => {
    const response = await client.echo({ payload: new Uint8Array(), text });
    return { text: response.text, traceId: currentTraceId() };
  });
  console.log(JSON.stringify(result));
} finally {
  client.close();
  await shutdownTelemetry();
}
