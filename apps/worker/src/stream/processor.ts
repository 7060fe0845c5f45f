import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { features, type monitor, type registry } from '@slipway/contracts';
import { InvalidArgumentError, UnavailableError } from '@slipway/errors';
import type { JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { RecordSink } from '@slipway/monitor-client';
import { chooseVariant, shadowsFor, type VariantChoice } from '@slipway/release';
import { statusNameOf, type Logger, type ServiceClient } from '@slipway/service-kit';
import { SlipwayAttributes, tracer } from '@slipway/telemetry';
import {
  checkEntityKeys,
  encodePrediction,
  fallbackEventId,
  parseEvent,
  type StreamEvent,
} from './events.js';
import type { JetStreamPublisher } from './publisher.js';
import type { StreamMetrics } from './stream-metrics.js';
import type { VariantModels, VersionRuntime } from './variant-models.js';

type FeaturesClient = ServiceClient<typeof features.FeatureServiceService>;

/** What {@link createProcessor} needs. */
export interface ProcessorOptions {
  readonly deploymentName: string;
  readonly consumer: string;
  /** Written to each prediction message (`worker`). */
  readonly workerId: string;
  readonly outputSubject: string;
  readonly deadLetterSubject: string;
  /** Deliveries of a poison event before it is dead-lettered. */
  readonly maxDeliveries: number;
  /** Keep each entity's events in order (see config SLIPWAY_STREAM_ORDERED). */
  readonly ordered: boolean;
  /** Share of predictions recorded to the monitor. */
  readonly recordSample: number;
  readonly publisher: JetStreamPublisher;
  /** The deployment as last seen in the registry. */
  readonly deployment: () => registry.Deployment | undefined;
  readonly models: VariantModels;
  readonly features: FeaturesClient;
  readonly records: RecordSink;
  readonly metrics: StreamMetrics;
  readonly logger: Logger;
  /** Set when the worker is stopping: retries in place give up and events are handed back. */
  readonly stopping: () => boolean;
  /** Shadow micro-batches running at most; beyond it shadow work is skipped (and counted). */
  readonly shadowConcurrency?: number;
}

/** Processes one micro-batch of deliveries end to end. Never rejects. */
export interface Processor {
  process(messages: JsMsg[]): Promise<void>;
  /** Shadow batches still running. */
  shadowsInFlight(): number;
}

const headerGetter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => {
    if (!carrier?.has(key)) return undefined;
    return carrier.get(key);
  },
};

const headerSetter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

const STATUS_NAMES = ['UNSPECIFIED', 'PRESENT', 'MISSING', 'EXPIRED', 'DEFAULTED'];
/** Longest wait before a failed event is delivered again. */
const MAX_RETRY_DELAY_MS = 30_000;
const MAX_LINKS = 128;

/** One delivery and what became of it in this batch. */
interface Item {
  readonly msg: JsMsg;
  /**
   * The event's own span: a CONSUMER span continuing the producer's trace when the message
   * carries one. Events without a trace context share their micro-batch's span instead (a span
   * per untraced event was a tenth of the worker's CPU), so `span` is that shared span.
   */
  readonly span: Span;
  readonly ownSpan: boolean;
  readonly ctx: Context;
  event?: StreamEvent;
  choice?: VariantChoice;
  runtime?: VersionRuntime;
  /** Why it cannot be scored, ever. */
  poison?: string;
  /** Why it could not be scored this time. */
  failure?: { reason: string; status: string };
  vector?: Float32Array;
  scores?: number[];
  featureStatus?: Record<string, string>;
  latencyMs?: number;
}

/** Delay before redelivery of an event that failed for a reason outside it: grows with its deliveries. */
function retryDelayMs(deliveryCount: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** Math.max(0, deliveryCount - 1));
}

export function createProcessor(options: ProcessorOptions): Processor {
  const { publisher, logger, metrics } = options;
  const tr = tracer('slipway-stream');
  const shadowConcurrency = options.shadowConcurrency ?? 2;
  let shadowsRunning = 0;

  const startItem = (msg: JsMsg, batch: { span: Span; ctx: Context }): Item => {
    if (!msg.headers?.has('traceparent')) return { msg, span: batch.span, ctx: batch.ctx, ownSpan: false };
    const parent = propagation.extract(ROOT_CONTEXT, msg.headers, headerGetter);
    const span = tr.startSpan(
      `process ${msg.subject}`,
      {
        kind: SpanKind.CONSUMER,
        links: [{ context: batch.span.spanContext() }],
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'process',
          'messaging.destination.name': msg.subject,
          'messaging.consumer.group.name': options.consumer,
          'messaging.nats.stream.sequence': msg.info.streamSequence,
          'messaging.nats.delivery_count': msg.info.deliveryCount,
          [SlipwayAttributes.DEPLOYMENT]: options.deploymentName,
        },
      },
      parent,
    );
    return { msg, span, ctx: trace.setSpan(parent, span), ownSpan: true };
  };

  /** The micro-batch's span: the parent of its untraced events' work. */
  const startBatch = (messages: JsMsg[]): { span: Span; ctx: Context } => {
    const span = tr.startSpan(`process ${messages[0]?.subject ?? ''}`, {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'nats',
        'messaging.operation.type': 'process',
        'messaging.consumer.group.name': options.consumer,
        'messaging.batch.message_count': messages.length,
        [SlipwayAttributes.DEPLOYMENT]: options.deploymentName,
      },
    });
    return { span, ctx: trace.setSpan(ROOT_CONTEXT, span) };
  };

  /** Parses the event and chooses its variant; marks poison and failures. */
  const prepare = (item: Item, deployment: registry.Deployment | undefined): void => {
    const { msg } = item;
    const msgId = msg.headers?.has('Nats-Msg-Id') ? msg.headers.get('Nats-Msg-Id') : undefined;
    try {
      item.event = parseEvent(msg.data, fallbackEventId(msgId, msg.info.stream, msg.info.streamSequence));
    } catch (err) {
      item.poison = (err as Error).message;
      return;
    }
    if (item.ownSpan) {
      item.span.setAttribute('messaging.message.id', item.event.id);
      item.span.setAttribute(SlipwayAttributes.REQUEST_ID, item.event.id);
    }
    if (!deployment) {
      item.failure = {
        reason: `deployment "${options.deploymentName}" is not known to the registry (yet)`,
        status: 'UNAVAILABLE',
      };
      return;
    }
    const event = item.event;
    let choice: VariantChoice | undefined;
    try {
      choice = chooseVariant(deployment, {
        lookup: (key) => {
          const entity = event.entityKeys[key];
          if (entity !== undefined) return entity;
          const value = event.values[key]?.kind;
          if (value?.$case === 'text') return value.text;
          if (value?.$case === 'number') return String(value.number);
          return undefined;
        },
        isReady: (v) => options.models.get(v.model, v.version) !== undefined,
      });
    } catch (err) {
      if (err instanceof InvalidArgumentError) {
        item.poison = err.message;
        return;
      }
      throw err;
    }
    if (!choice) {
      item.failure = {
        reason: `deployment "${deployment.name}" has no variant taking traffic`,
        status: 'UNAVAILABLE',
      };
      return;
    }
    item.choice = choice;
    const runtime = options.models.get(choice.variant.model, choice.variant.version);
    if (!runtime) {
      item.failure = {
        reason: `model "${choice.variant.model}" version ${choice.variant.version} is still loading`,
        status: 'UNAVAILABLE',
      };
      return;
    }
    try {
      checkEntityKeys(event, runtime.entityKeys, runtime.featureSet.name);
    } catch (err) {
      item.poison = (err as Error).message;
      return;
    }
    item.runtime = runtime;
    if (item.ownSpan)
      item.span.setAttributes({
        [SlipwayAttributes.VARIANT]: choice.variant.name,
        [SlipwayAttributes.MODEL_NAME]: runtime.model,
        [SlipwayAttributes.MODEL_VERSION]: runtime.version,
        ...(choice.experiment ? { [SlipwayAttributes.EXPERIMENT]: choice.experiment } : {}),
      });
  };

  /** Feature vectors for a group of events of one version: one call, or one per event to isolate a bad one. */
  const vectorsOf = async (
    runtime: VersionRuntime,
    group: Item[],
    parent: Context,
  ): Promise<Array<{ vector: Float32Array; status: Record<string, string> } | { poison: string }>> => {
    const call = async (items: Item[]) => {
      const response = await context.with(parent, () =>
        options.features.getFeatureVectors({
          featureSet: runtime.featureSet,
          entities: items.map((i) => ({ entityKeys: i.event!.entityKeys, requestValues: i.event!.values })),
        }),
      );
      const width = response.columns.length;
      const names = response.featureNames;
      if (response.matrix.length !== items.length * width) {
        throw new UnavailableError(
          `the feature service returned ${response.matrix.length} values for ${items.length} events of ${width} columns`,
        );
      }
      return items.map((_, r) => {
        const status: Record<string, string> = {};
        for (let f = 0; f < names.length; f++) {
          const s = response.statuses[r * names.length + f];
          if (s !== undefined && s !== features.FeatureStatus.FEATURE_STATUS_PRESENT) {
            status[names[f]!] = STATUS_NAMES[s] ?? String(s);
          }
        }
        return { vector: Float32Array.from(response.matrix.slice(r * width, (r + 1) * width)), status };
      });
    };
    try {
      return await call(group);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
      if (group.length === 1) return [{ poison: err.message }];
      // One bad event must not fail the others: ask for each alone.
      return Promise.all(
        group.map((item) =>
          call([item]).then(
            ([one]) => one!,
            (e: unknown) => {
              if (e instanceof InvalidArgumentError) return { poison: e.message };
              throw e;
            },
          ),
        ),
      );
    }
  };

  /** Features and model for the prepared items, grouped by version. */
  const score = async (items: Item[]): Promise<void> => {
    const groups = new Map<VersionRuntime, Item[]>();
    for (const item of items) {
      if (!item.runtime) continue;
      let group = groups.get(item.runtime);
      if (!group) groups.set(item.runtime, (group = []));
      group.push(item);
    }
    await Promise.all(
      [...groups].map(async ([runtime, group]) => {
        // Child of the first event's span (its own, or the micro-batch's), linked to the other traced events.
        const links: Link[] = group
          .slice(1)
          .filter((i) => i.ownSpan)
          .slice(0, MAX_LINKS)
          .map((i) => ({ context: i.span.spanContext() }));
        const batchSpan = tr.startSpan(
          'score micro-batch',
          {
            links,
            attributes: {
              [SlipwayAttributes.BATCH_SIZE]: group.length,
              [SlipwayAttributes.MODEL_NAME]: runtime.model,
              [SlipwayAttributes.MODEL_VERSION]: runtime.version,
              [SlipwayAttributes.FEATURE_SET]: `${runtime.featureSet.name}:${runtime.featureSet.contentHash}`,
            },
          },
          group[0]!.ctx,
        );
        const parent = trace.setSpan(group[0]!.ctx, batchSpan);
        const started = performance.now();
        try {
          const vectors = await vectorsOf(runtime, group, parent);
          const scored: Item[] = [];
          vectors.forEach((v, i) => {
            const item = group[i]!;
            if ('poison' in v) item.poison = v.poison;
            else {
              item.vector = v.vector;
              item.featureStatus = v.status;
              scored.push(item);
            }
          });
          if (scored.length === 0) return;
          const width = scored[0]!.vector!.length;
          const matrix = new Float32Array(scored.length * width);
          scored.forEach((item, r) => matrix.set(item.vector!, r * width));
          const scores = await context.with(parent, () => runtime.scorer.score(matrix, scored.length));
          const perRow = runtime.scorer.scoresPerRow;
          const latencyMs = performance.now() - started;
          scored.forEach((item, r) => {
            const out: number[] = [];
            for (let k = 0; k < perRow; k++) out.push(Number(scores[r * perRow + k]));
            item.scores = out;
            item.latencyMs = latencyMs;
          });
        } catch (err) {
          const reason = (err as Error).message;
          batchSpan.setStatus({ code: SpanStatusCode.ERROR, message: reason });
          for (const item of group) {
            if (!item.poison) item.failure = { reason, status: statusNameOf(err) };
          }
        } finally {
          batchSpan.end();
        }
      }),
    );
  };

  const publishPrediction = async (item: Item): Promise<boolean> => {
    const { event, choice, runtime } = item;
    // A publish span, and trace context in the output's headers, when the event is traced: its
    // process span records, or the producer sent a trace context to carry on.
    const traced = item.ownSpan;
    const span = traced
      ? tr.startSpan(
          `send ${options.outputSubject}`,
          {
            kind: SpanKind.PRODUCER,
            attributes: {
              'messaging.system': 'nats',
              'messaging.operation.type': 'send',
              'messaging.destination.name': options.outputSubject,
              'messaging.message.id': event!.id,
            },
          },
          item.ctx,
        )
      : undefined;
    let h: MsgHdrs | undefined;
    if (span) {
      h = natsHeaders();
      propagation.inject(trace.setSpan(item.ctx, span), h, headerSetter);
    }
    const traceId = item.span.spanContext().traceId;
    const payload = encodePrediction({
      eventId: event!.id,
      deployment: options.deploymentName,
      model: runtime!.model,
      version: runtime!.version,
      variant: choice!.variant.name,
      ...(choice!.experiment ? { experiment: choice!.experiment } : {}),
      entity: event!.entityKeys,
      scores: item.scores!,
      ...(Object.keys(item.featureStatus ?? {}).length > 0 ? { featureStatus: item.featureStatus } : {}),
      time: new Date().toISOString(),
      worker: options.workerId,
      ...(item.ownSpan ? { traceId } : {}),
    });
    try {
      const ack = await publisher.publish(options.outputSubject, payload, event!.id, h);
      metrics.events(ack.duplicate ? 'duplicate' : 'published');
      span?.setAttribute('messaging.nats.duplicate', ack.duplicate);
      return true;
    } catch (err) {
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      item.failure = {
        reason: `publishing the prediction failed: ${(err as Error).message}`,
        status: 'UNAVAILABLE',
      };
      return false;
    } finally {
      span?.end();
    }
  };

  const deadLetter = async (item: Item): Promise<boolean> => {
    const { msg } = item;
    const h = natsHeaders();
    if (msg.headers)
      for (const key of msg.headers.keys()) if (key !== 'Nats-Msg-Id') h.set(key, msg.headers.get(key));
    h.set('Slipway-Dead-Letter-Reason', item.poison!.replace(/[\r\n]+/g, ' ').slice(0, 1024));
    h.set('Slipway-Source-Subject', msg.subject);
    h.set('Slipway-Source-Stream', msg.info.stream);
    h.set('Slipway-Source-Sequence', String(msg.info.streamSequence));
    h.set('Slipway-Deliveries', String(msg.info.deliveryCount));
    h.set('Slipway-Deployment', options.deploymentName);
    try {
      await publisher.publish(
        options.deadLetterSubject,
        msg.data,
        `dead-letter:${msg.info.stream}:${msg.info.streamSequence}`,
        h,
      );
      metrics.events('dead_lettered');
      logger.warn(
        {
          stream: msg.info.stream,
          sequence: msg.info.streamSequence,
          reason: item.poison,
          subject: options.deadLetterSubject,
        },
        'event dead-lettered',
      );
      return true;
    } catch (err) {
      logger.warn(
        { err: (err as Error).message },
        'dead-lettering an event failed; it will be delivered again',
      );
      return false;
    }
  };

  const record = (item: Item, shadow: boolean, variant: registry.Variant, runtime: VersionRuntime): void => {
    const { event, choice } = item;
    const rec: monitor.PredictionRecord = {
      requestId: event!.id,
      deployment: options.deploymentName,
      variant: variant.name,
      model: runtime.model,
      version: runtime.version,
      features: item.vector ? Array.from(item.vector) : [],
      outputs: item.scores ?? [],
      latencyMs: item.latencyMs ?? 0,
      status: item.failure ? item.failure.status : 'OK',
      time: new Date(),
      experimentArm: !shadow && choice?.experiment ? variant.name : '',
      unitKey: !shadow && choice?.unit ? choice.unit : '',
      source: 'stream',
      shadow,
      featureSetHash: runtime.featureSet.contentHash,
      entityKeys: event!.entityKeys,
      error: item.failure?.reason ?? '',
      experiment: !shadow && choice?.experiment ? choice.experiment : '',
    };
    options.records.record(rec, item.span.spanContext());
  };

  const sampled = (): boolean => options.recordSample >= 1 || Math.random() < options.recordSample;

  /** Shadow variants score sampled events in the background; their answers are recorded, never published. */
  const runShadows = (items: Item[], deployment: registry.Deployment): void => {
    const byVersion = new Map<string, { variant: registry.Variant; items: Item[] }>();
    for (const item of items) {
      for (const variant of shadowsFor(deployment)) {
        const key = `${variant.model}@${variant.version}`;
        let group = byVersion.get(key);
        if (!group) byVersion.set(key, (group = { variant, items: [] }));
        group.items.push(item);
      }
    }
    for (const { variant, items: group } of byVersion.values()) {
      const runtime = options.models.get(variant.model, variant.version);
      if (!runtime || shadowsRunning >= shadowConcurrency) {
        metrics.shadowSkipped(group.length);
        continue;
      }
      shadowsRunning++;
      const shadowItems: Item[] = group
        .filter((i) => {
          try {
            checkEntityKeys(i.event!, runtime.entityKeys, runtime.featureSet.name);
            return true;
          } catch {
            return false;
          }
        })
        .map((i) => ({
          msg: i.msg,
          span: i.span,
          ctx: i.ctx,
          ownSpan: false,
          event: i.event!,
          choice: i.choice!,
          runtime,
        }));
      void score(shadowItems)
        .then(() => {
          for (const item of shadowItems)
            if (item.scores || item.failure) record(item, true, variant, runtime);
        })
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'shadow scoring failed'))
        .finally(() => shadowsRunning--);
    }
  };

  /** Publishes, dead-letters or hands back one delivery. Resolves true when its prediction was published. */
  const settleOne = async (item: Item): Promise<boolean> => {
    const { msg } = item;
    try {
      if (item.scores && !item.failure && (await publishPrediction(item))) {
        msg.ack();
        metrics.eventLatency(Date.now() - msg.info.timestampNanos / 1e6);
        if (sampled()) record(item, false, item.choice!.variant, item.runtime!);
        return true;
      }
      if (item.poison) {
        if (item.ownSpan) item.span.setStatus({ code: SpanStatusCode.ERROR, message: item.poison });
        if (msg.info.deliveryCount >= options.maxDeliveries && (await deadLetter(item))) msg.ack();
        else {
          msg.nak(Math.min(MAX_RETRY_DELAY_MS, 100 * msg.info.deliveryCount));
          metrics.events('retried');
        }
        return false;
      }
      const failure = item.failure ?? { reason: 'not scored', status: 'INTERNAL' };
      if (item.ownSpan) item.span.setStatus({ code: SpanStatusCode.ERROR, message: failure.reason });
      if (item.choice && item.runtime && failure.status !== 'ABORTED' && sampled()) {
        record(item, false, item.choice.variant, item.runtime);
      }
      msg.nak(retryDelayMs(msg.info.deliveryCount));
      metrics.events('retried');
      return false;
    } finally {
      if (item.ownSpan) item.span.end();
    }
  };

  const settle = async (items: Item[]): Promise<void> => {
    if (!options.ordered) {
      await Promise.all(items.map(settleOne));
      return;
    }
    // Each entity's events are published one after the other, in delivery order; when one is not
    // published, its entity's later events are handed back with it.
    const chains = new Map<string, Item[]>();
    const unkeyed: Item[] = [];
    for (const item of items) {
      const key = item.event ? entityKeyOf(item.event) : undefined;
      if (key === undefined) unkeyed.push(item);
      else {
        let chain = chains.get(key);
        if (!chain) chains.set(key, (chain = []));
        chain.push(item);
      }
    }
    await Promise.all([
      ...unkeyed.map(settleOne),
      ...[...chains.values()].map(async (chain) => {
        let blocked = false;
        for (const item of chain) {
          if (blocked && !item.poison) {
            item.failure = { reason: 'held behind an earlier event of the same entity', status: 'ABORTED' };
            item.scores = undefined;
          }
          const published = await settleOne(item);
          if (!published && !item.poison) blocked = true;
        }
      }),
    ]);
  };

  return {
    shadowsInFlight: () => shadowsRunning,
    async process(messages) {
      const started = performance.now();
      const redelivered = messages.filter((m) => m.info.deliveryCount > 1).length;
      if (redelivered > 0) metrics.redelivered(redelivered);
      const batch = startBatch(messages);
      let items = messages.map((m) => startItem(m, batch));
      try {
        const deployment = options.deployment();
        for (const item of items) prepare(item, deployment);
        await score(items);
        if (options.ordered) {
          // Failures outside the events (feature service or model away) are retried in place, so
          // an entity's later events never overtake its earlier ones.
          let attempt = 1;
          while (items.some((i) => i.failure) && !options.stopping()) {
            const failed = items.filter((i) => i.failure);
            logger.warn(
              { events: failed.length, reason: failed[0]!.failure!.reason },
              'retrying events in place to keep their order',
            );
            await new Promise((r) => setTimeout(r, retryDelayMs(attempt++)));
            for (const m of messages) m.working();
            const current = options.deployment();
            for (const item of failed) {
              item.failure = undefined;
              item.runtime = undefined;
              prepare(item, current);
            }
            await score(failed);
          }
        }
        if (deployment) {
          const primary = items.filter((i) => i.scores && !i.failure);
          if (primary.length > 0 && deployment.variants.some((v) => v.sampleRate > 0))
            runShadows(primary, deployment);
        }
        await settle(items);
      } catch (err) {
        logger.error({ err }, 'micro-batch failed; its events will be delivered again');
        for (const item of items) {
          item.msg.nak(retryDelayMs(item.msg.info.deliveryCount));
          if (item.ownSpan) item.span.end();
        }
        items = [];
      }
      batch.span.end();
      metrics.batch(messages.length, performance.now() - started);
    },
  };
}

function entityKeyOf(event: StreamEvent): string {
  return Object.keys(event.entityKeys)
    .sort()
    .map((k) => `${k}=${event.entityKeys[k]}`)
    .join('&');
}
