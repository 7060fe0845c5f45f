/** Default gRPC message size limit, both directions, servers and clients: 64 MiB (large tensors). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
