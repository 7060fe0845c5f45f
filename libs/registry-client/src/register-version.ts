import { type registry } from '@slipway/contracts';
import type { ServiceClient } from '@slipway/service-kit';

/** Chunk size for uploads: large enough to amortise framing, far below any message limit. */
export const UPLOAD_CHUNK_BYTES = 256 * 1024;

/**
 * Streams a model artifact to `RegisterModelVersion`: the header, then the chunks. `chunks` may
 * be any byte source (a file stream, an in-memory model); each is re-cut to at most
 * {@link UPLOAD_CHUNK_BYTES}. `onProgress` gets the bytes sent so far.
 */
export async function uploadModelVersion(
  client: ServiceClient<typeof registry.ModelServiceService>,
  header: registry.RegisterModelVersionRequest_Header,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { onProgress?: (sentBytes: number) => void; deadlineMs?: number } = {},
): Promise<registry.ModelVersion> {
  async function* parts(): AsyncIterable<registry.RegisterModelVersionRequest> {
    yield { part: { $case: 'header', header } };
    let sent = 0;
    for await (const chunk of chunks) {
      for (let offset = 0; offset < chunk.length; offset += UPLOAD_CHUNK_BYTES) {
        const piece = chunk.subarray(offset, offset + UPLOAD_CHUNK_BYTES);
        sent += piece.length;
        options.onProgress?.(sent);
        yield { part: { $case: 'chunk', chunk: piece } };
      }
    }
  }
  const { version } = await client.registerModelVersion(parts(), {
    deadline: options.deadlineMs ?? 10 * 60_000,
  });
  if (!version) throw new Error('the registry answered RegisterModelVersion without a version');
  return version;
}
