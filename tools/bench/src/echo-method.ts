/** Method path of the bare grpc-js echo (echo-server.ts). Not an inference API: a transport floor. */
export const ECHO_METHOD = '/slipway.bench.BytesEcho/Echo';
