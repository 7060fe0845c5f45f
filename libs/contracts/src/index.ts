/**
 * Slipway's gRPC contracts, generated from `proto/` by ts-proto (`npm run codegen`).
 *
 * One namespace per proto package. Every int64/uint64 field is a `bigint` (decided once, here:
 * exact for INT64 tensors and registry revisions, never a string or a Long). Timestamps are
 * `Date`, `google.protobuf.Struct` is a plain object, oneofs are `{ $case, ... }` unions.
 *
 * Each namespace holds the message codecs (`X.encode/decode/fromPartial`), the grpc-js service
 * definitions (`XServiceService`) and client constructors (`XServiceClient`).
 */
export * as inference from './inference.js';
export * as registry from './registry.js';
export * as serving from './serving.js';
export * as features from './features.js';
export * as monitor from './monitor.js';
export * as testing from './testing.js';
export { PROTO_ROOT, listProtoFiles } from './proto-files.js';
