// Worker-thread entry of the worker-pool executor: owns one onnxruntime session of one model.
//
// Plain JavaScript (type-checked through JSDoc) on purpose: a worker thread is started by Node
// itself, outside any TypeScript loader, so this file must run as it is both from src/ under
// the test runner and from dist/ in production. It imports only Node built-ins and
// onnxruntime-node; the message shapes are mirrored in worker-pool-executor.ts.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/**
 * @typedef {{ type: ort.Tensor.Type, dims: number[], data: ort.Tensor.DataType }} WireTensor
 * @typedef {{ type: 'run', id: number, feeds: Record<string, WireTensor>, fetches: string[] }} RunMessage
 * @typedef {{ type: 'close' }} CloseMessage
 */

const port = parentPort;
if (!port) throw new Error('session-worker.js must run as a worker thread');

/** @type {{ modelBytes: Uint8Array, sessionOptions: ort.InferenceSession.SessionOptions }} */
const { modelBytes, sessionOptions } = workerData;

/** @param {ort.InferenceSession.ValueMetadata} m */
const plain = (m) =>
  m.isTensor
    ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
    : { name: m.name, isTensor: false };

/** @param {unknown} error */
const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/** @type {ort.InferenceSession | undefined} */
let session;
try {
  session = await ort.InferenceSession.create(modelBytes, sessionOptions);
  port.postMessage({
    type: 'ready',
    inputs: session.inputMetadata.map(plain),
    outputs: session.outputMetadata.map(plain),
  });
} catch (error) {
  // Closing the port lets the thread end; the pool reports the message as the load failure.
  port.postMessage({ type: 'failed', message: messageOf(error) });
  port.close();
}

port.on('message', async (/** @type {RunMessage | CloseMessage} */ message) => {
  if (!session) return;
  if (message.type === 'close') {
    await session.release();
    port.close();
    return;
  }
  const { id, feeds, fetches } = message;
  try {
    /** @type {Record<string, ort.Tensor>} */
    const tensors = {};
    for (const [name, t] of Object.entries(feeds))
      tensors[name] = new ort.Tensor(t.type, /** @type {never} */ (t.data), t.dims);
    const started = performance.now();
    const fetched = await session.run(tensors, fetches);
    const inferenceMicros = Math.round((performance.now() - started) * 1000);
    /** @type {Record<string, WireTensor>} */
    const outputs = {};
    /** @type {ArrayBuffer[]} */
    const transfer = [];
    for (const name of fetches) {
      const t = /** @type {ort.Tensor} */ (fetched[name]);
      const data = t.data;
      // Output buffers are fresh per run: hand them over instead of copying.
      if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer))
        transfer.push(data.buffer);
      outputs[name] = { type: t.type, dims: [...t.dims], data };
    }
    port.postMessage({ type: 'result', id, outputs, inferenceMicros }, transfer);
  } catch (error) {
    port.postMessage({ type: 'error', id, message: messageOf(error) });
  }
});
