/** Default gRPC message size limit, both directions, servers and clients: 64 MiB (large tensors). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * What a request deserializes to when it is larger than the server's `maxMessageBytes`: the
 * handler wrapper turns it into INVALID_ARGUMENT naming both sizes, without decoding the bytes.
 * (grpc-js itself would answer RESOURCE_EXHAUSTED, which clients treat as "retry later".)
 */
export class OversizedMessage {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {}

  describe(): string {
    return `request message of ${this.bytes} bytes exceeds this server's limit of ${this.limit} bytes; split the request or raise the server's max message size`;
  }
}

/**
 * The transport-level receive cap: messages between the configured limit and this cap reach the
 * handler wrapper as {@link OversizedMessage} (INVALID_ARGUMENT); beyond it grpc-js refuses them
 * with RESOURCE_EXHAUSTED before reading them whole.
 */
export function receiveCap(maxMessageBytes: number): number {
  return Math.min(2 ** 31 - 1, maxMessageBytes * 2 + 1024 * 1024);
}
