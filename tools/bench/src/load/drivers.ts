import * as grpc from '@grpc/grpc-js';

/**
 * Unary gRPC calls of pre-encoded request bytes. The client never decodes: responses arrive as
 * bytes, so the client's cost is the same whatever service answers.
 */
export interface GrpcUnaryDriverSpec {
  readonly kind: 'grpc-unary';
  readonly address: string;
  /** Full method path, e.g. `/inference.GRPCInferenceService/ModelInfer`. */
  readonly method: string;
  /** Encoded requests, sent in turn. */
  readonly requests: readonly Uint8Array[];
  /** Channels (TCP connections); lane `i` uses channel `i % channels`. */
  readonly channels: number;
  readonly deadlineMs: number;
}

/** `InferenceSession.run` of single rows in the load generator's own process: no gRPC at all. */
export interface OnnxruntimeDriverSpec {
  readonly kind: 'onnxruntime';
  readonly modelPath: string;
  readonly inputName: string;
  readonly outputName: string;
  /** Single rows, used in turn. */
  readonly rows: readonly Float32Array[];
  /** onnxruntime intra-op threads; default onnxruntime's (the worker sets 1 unless told otherwise). */
  readonly intraOpNumThreads?: number;
}

/**
 * What the load generator calls, as plain data (it crosses the IPC channel). A new kind of load
 * (streams, batch jobs...) adds a spec here and a factory in {@link createDriver}.
 */
export type DriverSpec = GrpcUnaryDriverSpec | OnnxruntimeDriverSpec;

/** A ready-to-call driver inside the load generator. */
export interface LoadDriver {
  call(lane: number): Promise<void>;
  /** Size of one request on the wire, when that means something. */
  readonly requestBytes: number | undefined;
  /** Size of the last response received, when that means something. */
  responseBytes(): number | undefined;
  close(): Promise<void>;
}

type Factories = {
  [K in DriverSpec['kind']]: (spec: Extract<DriverSpec, { kind: K }>) => Promise<LoadDriver>;
};

const factories: Factories = {
  'grpc-unary': createGrpcUnaryDriver,
  onnxruntime: createOnnxruntimeDriver,
};

/** Creates the driver a spec describes (connected and warmed by one call). */
export function createDriver(spec: DriverSpec): Promise<LoadDriver> {
  return (factories[spec.kind] as (spec: DriverSpec) => Promise<LoadDriver>)(spec);
}

const identity = (value: Buffer): Buffer => value;

async function createGrpcUnaryDriver(spec: GrpcUnaryDriverSpec): Promise<LoadDriver> {
  if (spec.requests.length === 0) throw new Error('grpc-unary driver needs at least one request');
  const clients = Array.from(
    { length: spec.channels },
    () =>
      new grpc.Client(spec.address, grpc.credentials.createInsecure(), {
        // Without a local pool, clients with equal options share one subchannel: one connection.
        'grpc.use_local_subchannel_pool': 1,
        'grpc.max_receive_message_length': 64 * 1024 * 1024,
        'grpc.max_send_message_length': 64 * 1024 * 1024,
      }),
  );
  const requests = spec.requests.map((bytes) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  );
  let next = 0;
  let lastResponse: number | undefined;

  const ready = (client: grpc.Client): Promise<void> =>
    new Promise((resolve, reject) =>
      client.waitForReady(Date.now() + 10_000, (error) =>
        error ? reject(new Error(`${spec.address} was not ready within 10 s: ${error.message}`)) : resolve(),
      ),
    );
  await Promise.all(clients.map(ready));

  const call = (lane: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const request = requests[next++ % requests.length]!;
      clients[lane % clients.length]!.makeUnaryRequest<Buffer, Buffer>(
        spec.method,
        identity,
        identity,
        request,
        { deadline: Date.now() + spec.deadlineMs },
        (error, response) => {
          if (error) return reject(new Error(`${spec.method}: ${error.code} ${error.details}`));
          lastResponse = response?.length;
          resolve();
        },
      );
    });
  for (let lane = 0; lane < clients.length; lane++) await call(lane);
  return {
    call,
    requestBytes: requests[0]!.length,
    responseBytes: () => lastResponse,
    close: async () => {
      for (const client of clients) client.close();
    },
  };
}

async function createOnnxruntimeDriver(spec: OnnxruntimeDriverSpec): Promise<LoadDriver> {
  if (spec.rows.length === 0) throw new Error('onnxruntime driver needs at least one row');
  // Loaded here only: a gRPC-only load generator should not pay for onnxruntime.
  const ort = await import('onnxruntime-node');
  // Default session options unless the scenario names the worker's thread count.
  const session = await ort.InferenceSession.create(
    spec.modelPath,
    spec.intraOpNumThreads === undefined ? {} : { intraOpNumThreads: spec.intraOpNumThreads },
  );
  let next = 0;
  const call = async (): Promise<void> => {
    const row = spec.rows[next++ % spec.rows.length]!;
    const feeds = { [spec.inputName]: new ort.Tensor('float32', row, [1, row.length]) };
    const outputs = await session.run(feeds, [spec.outputName]);
    if (!outputs[spec.outputName]) throw new Error(`onnxruntime returned no "${spec.outputName}"`);
  };
  await call();
  return {
    call,
    requestBytes: undefined,
    responseBytes: () => undefined,
    close: () => session.release(),
  };
}
