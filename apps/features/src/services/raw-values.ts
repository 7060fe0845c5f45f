import type { features } from '@slipway/contracts';
import type { RawValue } from '../domain/online-store.js';

/** A proto raw value as a domain value; an unset kind and `null_value` are null. */
export function fromProtoValue(value: features.RawValue | undefined): RawValue {
  const kind = value?.kind;
  if (kind === undefined) return null;
  if (kind.$case === 'number') return kind.number;
  if (kind.$case === 'text') return kind.text;
  return null;
}

/** A domain value as a proto raw value; null leaves the kind unset (which means null). */
export function toProtoValue(value: RawValue): features.RawValue {
  if (typeof value === 'number') return { kind: { $case: 'number', number: value } };
  if (typeof value === 'string') return { kind: { $case: 'text', text: value } };
  return { kind: undefined };
}

/** A proto value map as a domain record. */
export function fromProtoValues(
  values: Readonly<Record<string, features.RawValue>>,
): Record<string, RawValue> {
  const out: Record<string, RawValue> = {};
  for (const key in values) out[key] = fromProtoValue(values[key]);
  return out;
}

/** Request-time values for libs/features; undefined when there are none. */
export function requestRow(
  values: Readonly<Record<string, features.RawValue>>,
): Record<string, RawValue> | undefined {
  for (const _ in values) return fromProtoValues(values);
  return undefined;
}

/** A domain record as a proto value map. */
export function toProtoValues(values: Readonly<Record<string, RawValue>>): Record<string, features.RawValue> {
  const out: Record<string, features.RawValue> = {};
  for (const key in values) out[key] = toProtoValue(values[key]!);
  return out;
}
