import { context, ROOT_CONTEXT, SpanKind, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { monitor } from '@slipway/contracts';
import { InvalidArgumentError } from '@slipway/errors';
import { createClient, createLogger, type Logger, type ServiceClient } from '@slipway/service-kit';
import { CorruptSpoolFileError, Spool, type SpoolFile } from './spool.js';

/** Options of {@link createRecordSink}. */
export interface RecordSinkOptions {
  /** The monitor's `host:port`. Unset: no monitor; `record()` is a no-op counted as `disabled`. */
  readonly address?: string;
  /** Bearer token with the deployer role. */
  readonly token?: string;
  /**
   * Where records go while the monitor is slow or away, and are replayed from when it is back
   * (also after a restart: files a previous sink left are replayed). One sink per directory.
   * Unset: records that do not fit in memory are dropped (and counted).
   */
  readonly spoolDir?: string;
  /** Records held in memory. Beyond it, the queue spills to the spool, or new records are dropped. Default 10000. */
  readonly maxQueue?: number;
  /** Records per IngestPredictions message; one call carries up to four messages. Default 500. */
  readonly batchSize?: number;
  /** Longest time a record waits in memory before a send is attempted. Default 200. */
  readonly flushIntervalMs?: number;
  /** Bound of the spool directory's size; batches beyond it are dropped (and counted). Default 64 MiB. */
  readonly maxSpoolBytes?: number;
  /** Deadline of one IngestPredictions call. Default 5000. */
  readonly callTimeoutMs?: number;
  /** How long `close()` tries to deliver before it spools what is left. Default 5000. */
  readonly closeTimeoutMs?: number;
  /** Default: `createLogger('record-sink')`. */
  readonly logger?: Logger;
}

/** What a sink has done with the records given to it, since it was created. */
export interface RecordSinkStats {
  /** Records the monitor acknowledged (durably stored or already there), replays included. */
  readonly sent: number;
  /** Records written to the spool. */
  readonly spooled: number;
  /** Records lost: memory queue full without a spool, spool full, invalid, refused, or after close. */
  readonly dropped: number;
  /** Records ignored because no monitor is configured. */
  readonly disabled: number;
  /** Records in memory: queued, being sent, or being written to the spool. */
  readonly pending: number;
  /** Bytes in the spool directory now. */
  readonly spoolBytes: number;
}

/**
 * The asynchronous sink for prediction records: the router (and batch and stream workers) hand
 * it every prediction, and it delivers them to the monitor's IngestPredictions in the background.
 * A slow or absent monitor never slows the caller: records queue in memory, then go to a spool
 * directory, and come back from it when the monitor does.
 */
export interface RecordSink {
  /**
   * Queues a record: synchronous, O(1), never throws, never waits for the network. The record is
   * sent as is later, so the caller must not change it afterwards. A record without request_id,
   * deployment or variant is dropped (the monitor would refuse it).
   *
   * @param link the span of the request the record describes: the call that delivers the record
   *   starts a span linked to it, so the monitor's ingestion shows up from the request's trace.
   *   Defaults to the active span, if any.
   */
  record(record: monitor.PredictionRecord, link?: SpanContext): void;
  /**
   * Resolves once every record queued before the call has been sent, spooled or dropped (without
   * a spool, records that could not be sent are kept queued for the next attempt).
   */
  flush(): Promise<void>;
  /**
   * Stops the sink: tries to deliver what is queued for up to `closeTimeoutMs`, spools the rest
   * (or drops it without a spool), and closes the channel. Idempotent; never rejects. Records
   * given after it are dropped.
   */
  close(): Promise<void>;
  stats(): RecordSinkStats;
}

/**
 * Creates a {@link RecordSink}. With a `spoolDir`, spool files a previous sink left there are
 * replayed once the monitor answers. Without an `address`, the sink only counts records (and
 * leaves any spool directory alone).
 *
 * @throws the file system's error when `spoolDir` cannot be created or listed: a misconfigured
 *   spool fails at start, not at the first outage.
 */
export function createRecordSink(options: RecordSinkOptions): RecordSink {
  return options.address === undefined ? new DisabledSink() : new MonitorRecordSink(options, options.address);
}

const MESSAGES_PER_CALL = 4;
/** Links on one send span at most. */
const MAX_LINKS = 128;
const tracer = trace.getTracer('@slipway/monitor-client');
const BACKOFF_BASE_MS = 200;
const BACKOFF_MAX_MS = 5_000;
/** A repeated warning (drops, failures) is logged at most this often. */
const WARN_INTERVAL_MS = 60_000;

type Client = ServiceClient<typeof monitor.MonitorServiceService>;

class DisabledSink implements RecordSink {
  #disabled = 0;
  record(): void {
    this.#disabled++;
  }
  flush(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  stats(): RecordSinkStats {
    return { sent: 0, spooled: 0, dropped: 0, disabled: this.#disabled, pending: 0, spoolBytes: 0 };
  }
}

class MonitorRecordSink implements RecordSink {
  readonly #address: string;
  readonly #client: Client;
  readonly #spool: Spool | undefined;
  readonly #logger: Logger;
  readonly #maxQueue: number;
  readonly #batchSize: number;
  readonly #perCall: number;
  readonly #callTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #timer: NodeJS.Timeout;
  /** Aborted when close() runs out of time: calls in flight fail, and their records are spooled. */
  readonly #abort = new AbortController();

  #queue: monitor.PredictionRecord[] = [];
  /** The sampled request spans of queued records, for the links of the span that sends them. */
  #links = new WeakMap<monitor.PredictionRecord, SpanContext>();
  #sending = 0;
  #spooling = 0;
  #sent = 0;
  #spooled = 0;
  #dropped = 0;

  #failures = 0;
  #retryAt = 0;
  #closed = false;
  #closing: Promise<void> | undefined;
  #pump: Promise<void> | undefined;
  #kickScheduled = false;
  readonly #deliveries = new Set<Promise<void>>();
  #spoolWrites: Promise<void> = Promise.resolve();
  readonly #warned = new Map<string, { at: number; suppressed: number }>();

  constructor(options: RecordSinkOptions, address: string) {
    this.#address = address;
    this.#logger = options.logger ?? createLogger('record-sink');
    this.#maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.#batchSize = Math.max(1, options.batchSize ?? 500);
    this.#perCall = this.#batchSize * MESSAGES_PER_CALL;
    this.#callTimeoutMs = options.callTimeoutMs ?? 5_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5_000;
    this.#client = createClient(monitor.MonitorServiceService, address, {
      token: options.token,
      defaultDeadlineMs: this.#callTimeoutMs,
    });
    if (options.spoolDir !== undefined) {
      this.#spool = new Spool(options.spoolDir, options.maxSpoolBytes ?? 64 * 1024 * 1024);
      if (this.#spool.files.length > 0) {
        this.#logger.info(
          { spoolDir: options.spoolDir, files: this.#spool.files.length, bytes: this.#spool.bytes },
          'spooled prediction records found; replaying them',
        );
      }
    }
    this.#timer = setInterval(() => this.#kick(), options.flushIntervalMs ?? 200);
    this.#timer.unref();
    if (this.#spool && this.#spool.files.length > 0) this.#kick();
  }

  record(record: monitor.PredictionRecord, link?: SpanContext): void {
    try {
      const span = link ?? trace.getSpanContext(context.active());
      if (span && (span.traceFlags & 1) === 1) this.#links.set(record, span);
      if (this.#closed) return this.#drop(1, 'the sink is closed');
      if (!record?.requestId || !record.deployment || !record.variant) {
        return this.#drop(1, 'a record without request_id, deployment or variant');
      }
      if (this.#queue.length >= this.#maxQueue && !this.#spill()) {
        return this.#drop(1, this.#spool ? 'queue and spool writes are full' : 'queue is full (no spool)');
      }
      this.#queue.push(record);
      if (this.#queue.length >= this.#batchSize) this.#scheduleKick();
    } catch {
      // Never throws: a record that could not even be counted properly is still a dropped record.
      this.#dropped++;
    }
  }

  async flush(): Promise<void> {
    const pending = [...this.#deliveries];
    if (this.#queue.length > 0) pending.push(this.#deliver(this.#takeAll()));
    await Promise.all(pending);
    await this.#spoolWrites;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  stats(): RecordSinkStats {
    return {
      sent: this.#sent,
      spooled: this.#spooled,
      dropped: this.#dropped,
      disabled: 0,
      pending: this.#queue.length + this.#sending + this.#spooling,
      spoolBytes: this.#spool?.bytes ?? 0,
    };
  }

  async #close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const flushed = this.flush().catch((err: unknown) =>
      this.#logger.error({ err }, 'flush at close failed'),
    );
    // The background loop stops after its current send or replay.
    const settled = Promise.all([flushed, this.#pump]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      settled.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.#closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    // Out of time: cancel the calls in flight; their records go to the spool.
    if (timedOut) this.#abort.abort();
    await settled;
    // Records put back in the queue by failed sends (no spool) have nowhere left to go.
    if (this.#queue.length > 0) this.#drop(this.#takeAll().length, 'the sink closed before they were sent');
    await this.#spoolWrites;
    this.#client.close();
    this.#logger.info({ ...this.stats(), timedOut }, 'record sink closed');
  }

  #scheduleKick(): void {
    if (this.#kickScheduled || this.#pump) return;
    this.#kickScheduled = true;
    setImmediate(() => {
      this.#kickScheduled = false;
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#closed || this.#pump) return;
    if (this.#queue.length === 0 && !this.#spool?.files.length) return;
    this.#pump = this.#runPump()
      .catch((err: unknown) => this.#logger.error({ err }, 'record sink loop failed'))
      .finally(() => {
        this.#pump = undefined;
      });
  }

  /**
   * Sends queued records and replays spool files, alternating so that neither starves the other,
   * until both are empty or the monitor fails. While the monitor is backing off, full batches go
   * straight to the spool, keeping memory free for new records.
   */
  async #runPump(): Promise<void> {
    let replayNext = false;
    while (!this.#closed) {
      if (Date.now() < this.#retryAt) {
        if (this.#spool && this.#queue.length >= this.#batchSize) this.#toSpool(this.#takeAll());
        return;
      }
      const spoolFile = this.#spool?.files[0];
      if (this.#queue.length > 0 && !(replayNext && spoolFile)) {
        await this.#deliver(this.#queue.splice(0, this.#perCall));
        replayNext = true;
      } else if (spoolFile) {
        await this.#replay(spoolFile);
        replayNext = false;
      } else {
        return;
      }
    }
  }

  /** Sends `records` in calls; what cannot be sent is spooled or requeued. */
  #deliver(records: monitor.PredictionRecord[]): Promise<void> {
    const delivery = (async () => {
      for (let i = 0; i < records.length; i += this.#perCall) {
        const batch = records.slice(i, i + this.#perCall);
        if (Date.now() < this.#retryAt) {
          this.#stash(batch);
          continue;
        }
        this.#sending += batch.length;
        try {
          await this.#sendLinked(batch);
          this.#sent += batch.length;
          this.#succeeded();
        } catch (err) {
          if (err instanceof InvalidArgumentError) {
            this.#drop(batch.length, 'the monitor refused a batch', err);
          } else {
            this.#failed(err);
            this.#stash(batch);
          }
        } finally {
          this.#sending -= batch.length;
        }
      }
    })();
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
    return delivery;
  }

  async #replay(file: SpoolFile): Promise<void> {
    const spool = this.#spool!;
    let messages: monitor.IngestPredictionsRequest[];
    try {
      messages = await spool.read(file);
    } catch (err) {
      if (!(err instanceof CorruptSpoolFileError)) {
        // Unreadable now (permissions, I/O): leave it and try again after a backoff.
        this.#failed(err);
        return;
      }
      const moved = await spool.quarantine(file);
      this.#logger.error({ err, file: moved }, 'corrupt spool file set aside; its records are not replayed');
      return;
    }
    const count = messages.reduce((sum, m) => sum + m.records.length, 0);
    try {
      await this.#send(messages);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) return this.#failed(err);
      this.#drop(count, 'the monitor refused a spooled batch', err);
      await spool.remove(file);
      return;
    }
    // Deleted only after the acknowledgement; a crash in between replays it again, harmlessly.
    await spool.remove(file);
    this.#sent += count;
    this.#succeeded();
  }

  /**
   * Sends records from memory inside a `slipway.records.send` span linked to the requests they
   * describe (at most {@link MAX_LINKS}); the IngestPredictions call is its child, so the
   * monitor's ingestion joins that span's trace and each request's trace links to it.
   */
  async #sendLinked(batch: monitor.PredictionRecord[]): Promise<void> {
    const links: Link[] = [];
    for (const record of batch) {
      const spanContext = this.#links.get(record);
      if (spanContext && links.length < MAX_LINKS) links.push({ context: spanContext });
    }
    if (links.length === 0) return this.#send(this.#messages(batch));
    const span = tracer.startSpan(
      'slipway.records.send',
      { kind: SpanKind.INTERNAL, links, attributes: { 'slipway.records.count': batch.length } },
      ROOT_CONTEXT,
    );
    try {
      await context.with(trace.setSpan(ROOT_CONTEXT, span), () => this.#send(this.#messages(batch)));
    } finally {
      span.end();
    }
  }

  async #send(messages: monitor.IngestPredictionsRequest[]): Promise<void> {
    await this.#client.ingestPredictions(messages, {
      deadline: this.#callTimeoutMs,
      signal: this.#abort.signal,
    });
  }

  #messages(records: monitor.PredictionRecord[]): monitor.IngestPredictionsRequest[] {
    const messages: monitor.IngestPredictionsRequest[] = [];
    for (let i = 0; i < records.length; i += this.#batchSize) {
      messages.push({ records: records.slice(i, i + this.#batchSize) });
    }
    return messages;
  }

  /** Records that could not be sent: to the spool, else back to the front of the queue if they fit. */
  #stash(records: monitor.PredictionRecord[]): void {
    if (this.#spool) return this.#toSpool(records);
    const room = this.#closed ? records.length : Math.max(0, this.#maxQueue - this.#queue.length);
    const kept = Math.min(room, records.length);
    if (kept > 0) this.#queue.unshift(...records.slice(0, kept));
    if (kept < records.length) this.#drop(records.length - kept, 'queue is full (no spool)');
  }

  /** Moves a full queue to the spool in O(1); false when the spool writer is as far behind as allowed. */
  #spill(): boolean {
    if (!this.#spool || this.#spooling >= this.#maxQueue) return false;
    this.#toSpool(this.#takeAll());
    return true;
  }

  #takeAll(): monitor.PredictionRecord[] {
    const records = this.#queue;
    this.#queue = [];
    return records;
  }

  /** Writes `records` to the spool in the background, one file per call's worth, in order. */
  #toSpool(records: monitor.PredictionRecord[]): void {
    const spool = this.#spool!;
    this.#spooling += records.length;
    this.#spoolWrites = this.#spoolWrites.then(async () => {
      for (let i = 0; i < records.length; i += this.#perCall) {
        const chunk = records.slice(i, i + this.#perCall);
        try {
          if (await spool.write(chunk, this.#batchSize)) this.#spooled += chunk.length;
          else this.#drop(chunk.length, 'the spool is full');
        } catch (err) {
          this.#drop(chunk.length, 'the spool could not be written', err);
        } finally {
          this.#spooling -= chunk.length;
        }
      }
    });
  }

  #succeeded(): void {
    if (this.#failures > 0) {
      this.#logger.info(
        { address: this.#address, failures: this.#failures, spoolBytes: this.#spool?.bytes ?? 0 },
        'monitor reachable again',
      );
    }
    this.#failures = 0;
    this.#retryAt = 0;
  }

  #failed(err: unknown): void {
    this.#failures++;
    // Exponential with equal jitter: 100-200 ms, 200-400 ms, ... up to 2.5-5 s.
    const cap = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.#failures - 1));
    this.#retryAt = Date.now() + cap / 2 + (Math.random() * cap) / 2;
    if (this.#failures === 1 && !this.#abort.signal.aborted) {
      this.#logger.warn(
        { err, address: this.#address, spool: this.#spool ? this.#spool.dir : null },
        this.#spool
          ? 'monitor unreachable; spooling prediction records until it is back'
          : 'monitor unreachable; holding prediction records in memory (no spool)',
      );
    }
  }

  #drop(count: number, reason: string, err?: unknown): void {
    this.#dropped += count;
    const now = Date.now();
    const last = this.#warned.get(reason);
    if (last && now - last.at < WARN_INTERVAL_MS) {
      last.suppressed += count;
      return;
    }
    this.#warned.set(reason, { at: now, suppressed: 0 });
    this.#logger.warn(
      { err, dropped: count, droppedSinceLastWarning: last?.suppressed, droppedTotal: this.#dropped },
      `prediction records dropped: ${reason}`,
    );
  }
}
