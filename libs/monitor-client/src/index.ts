/**
 * `@slipway/monitor-client`: how prediction records reach the monitor. {@link createRecordSink}
 * gives the router (and batch and stream workers) a sink that never blocks the request path:
 * records are batched to `MonitorService/IngestPredictions` in the background and spooled to disk
 * while the monitor is slow or away.
 */
export {
  createRecordSink,
  type RecordSink,
  type RecordSinkOptions,
  type RecordSinkStats,
} from './record-sink.js';
