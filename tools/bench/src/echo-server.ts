/**
 * The bare grpc-js baseline, run as its own process: plain grpc-js and nothing of Slipway's. One
 * unary bytes method; the request is taken as opaque bytes (the benchmark sends the very bytes of a
 * ModelInferRequest) and the reply is `BENCH_ECHO_REPLY_BYTES` bytes, copied from the request's
 * start (the size of the worker's ModelInferResponse). What a server costs at the least per call.
 *
 * Prints `{"msg":"listening","address":"127.0.0.1:NNNN"}` once bound; stops on SIGTERM or SIGINT.
 */
import * as grpc from '@grpc/grpc-js';
import { ECHO_METHOD } from './echo-method.js';

const identity = (value: Buffer): Buffer => value;

function main(): void {
  const replyBytes = Number(process.env['BENCH_ECHO_REPLY_BYTES'] ?? '');
  if (!Number.isSafeInteger(replyBytes) || replyBytes < 0) {
    process.stderr.write('BENCH_ECHO_REPLY_BYTES must be a byte count, e.g. 64\n');
    process.exit(2);
  }
  const address = process.env['BENCH_ECHO_ADDR'] ?? '127.0.0.1:0';
  const server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const definition: grpc.ServiceDefinition = {
    echo: {
      path: ECHO_METHOD,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  const implementation: grpc.UntypedServiceImplementation = {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const reply = Buffer.alloc(replyBytes);
      call.request.copy(reply, 0, 0, Math.min(replyBytes, call.request.length));
      callback(null, reply);
    },
  };
  server.addService(definition, implementation);
  server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      process.stderr.write(`echo server could not bind ${address}: ${error.message}\n`);
      process.exit(1);
    }
    const host = address.slice(0, address.lastIndexOf(':'));
    process.stdout.write(`${JSON.stringify({ msg: 'listening', address: `${host}:${port}` })}\n`);
  });
  const stop = (): void => {
    server.tryShutdown(() => process.exit(0));
    setTimeout(() => {
      server.forceShutdown();
      process.exit(0);
    }, 2_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
