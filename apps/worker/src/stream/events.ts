import type { features } from '@slipway/contracts';

/**
 * One input event, as producers publish it (JSON, UTF-8):
 *
 * ```json
 * {"id": "evt-1", "entity": {"userId": "u42"}, "values": {"amount": 31.5}}
 * ```
 *
 * `entity` holds the feature set's entity keys (strings, or numbers written as strings),
 * `values` the request-time values (numbers or strings). `id` is optional: without it the
 * message's `Nats-Msg-Id` header, else its stream and sequence, identify the event.
 */
export interface StreamEvent {
  readonly id: string;
  readonly entityKeys: Record<string, string>;
  readonly values: Record<string, features.RawValue>;
}

/** Why an event cannot be scored however often it is delivered. */
export class PoisonEventError extends Error {
  override readonly name = 'PoisonEventError';
}

const MAX_ID_LENGTH = 256;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The id of an event that has none in its body: `Nats-Msg-Id`, else `<stream>:<sequence>`. */
export function fallbackEventId(msgId: string | undefined, stream: string, sequence: number): string {
  return msgId && msgId.length <= MAX_ID_LENGTH ? msgId : `${stream}:${sequence}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and validates one event body.
 *
 * @param fallbackId the id when the body has none (see {@link fallbackEventId}).
 * @throws PoisonEventError saying what is wrong: not UTF-8 JSON, not an object, a bad id, no
 *   entity keys, or a value of the wrong type.
 */
export function parseEvent(data: Uint8Array, fallbackId: string): StreamEvent {
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new PoisonEventError(`the event is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (!isRecord(body)) throw new PoisonEventError('the event must be a JSON object');
  let id = fallbackId;
  if (body['id'] !== undefined) {
    const raw = body['id'];
    if ((typeof raw !== 'string' && typeof raw !== 'number') || String(raw) === '') {
      throw new PoisonEventError('"id" must be a non-empty string or a number');
    }
    id = String(raw);
    if (id.length > MAX_ID_LENGTH)
      throw new PoisonEventError(`"id" is longer than ${MAX_ID_LENGTH} characters`);
  }
  const entity = body['entity'];
  if (!isRecord(entity) || Object.keys(entity).length === 0) {
    throw new PoisonEventError('"entity" must be an object of entity keys, e.g. {"userId": "u42"}');
  }
  const entityKeys: Record<string, string> = {};
  for (const [key, value] of Object.entries(entity)) {
    if (typeof value === 'string' && value !== '') entityKeys[key] = value;
    else if (typeof value === 'number' && Number.isFinite(value)) entityKeys[key] = String(value);
    else throw new PoisonEventError(`entity key "${key}" must be a non-empty string or a finite number`);
  }
  const values: Record<string, features.RawValue> = {};
  const rawValues = body['values'];
  if (rawValues !== undefined) {
    if (!isRecord(rawValues)) throw new PoisonEventError('"values" must be an object of request-time values');
    for (const [key, value] of Object.entries(rawValues)) {
      if (typeof value === 'number' && Number.isFinite(value))
        values[key] = { kind: { $case: 'number', number: value } };
      else if (typeof value === 'string') values[key] = { kind: { $case: 'text', text: value } };
      else if (value !== null)
        throw new PoisonEventError(`value "${key}" must be a finite number, a string or null`);
    }
  }
  return { id, entityKeys, values };
}

/**
 * Checks an event against the entity keys of the feature set that will score it.
 * @throws PoisonEventError naming the missing keys.
 */
export function checkEntityKeys(event: StreamEvent, required: readonly string[], featureSet: string): void {
  const missing = required.filter((k) => event.entityKeys[k] === undefined);
  if (missing.length > 0) {
    throw new PoisonEventError(
      `the event lacks entity key${missing.length > 1 ? 's' : ''} ${missing.map((k) => `"${k}"`).join(', ')} of feature set "${featureSet}" (it has ${Object.keys(
        event.entityKeys,
      )
        .map((k) => `"${k}"`)
        .join(', ')})`,
    );
  }
}

/** One prediction message, as published to the output subject (JSON). */
export interface PredictionMessage {
  readonly eventId: string;
  readonly deployment: string;
  readonly model: string;
  readonly version: number;
  readonly variant: string;
  /** Set when an A/B experiment chose the variant. */
  readonly experiment?: string;
  readonly entity: Readonly<Record<string, string>>;
  /** The model's first output for this event, flattened. */
  readonly scores: readonly number[];
  /** Features whose inputs were not all present and fresh: MISSING, EXPIRED or DEFAULTED. */
  readonly featureStatus?: Readonly<Record<string, string>>;
  /** When the prediction was made, ISO 8601. */
  readonly time: string;
  /** The stream worker that made it. */
  readonly worker: string;
  /** The trace the prediction belongs to (the producer's, when it sent one). */
  readonly traceId?: string;
}

const encoder = new TextEncoder();

export function encodePrediction(message: PredictionMessage): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}
