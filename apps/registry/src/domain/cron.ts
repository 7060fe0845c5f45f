/**
 * Five-field cron expressions, evaluated in UTC: `minute hour day-of-month month day-of-week`.
 *
 * Each field is `*` or a comma-separated list of `n`, `a-b`, `*` `/step`, `a-b/step` and
 * `a/step` (from a to the field's end). Months also take JAN..DEC and days of the week SUN..SAT
 * (0 and 7 are both Sunday). `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily`
 * (`@midnight`) and `@hourly` stand for their usual expressions.
 *
 * Day of month and day of week combine as in Vixie cron (and so Debian's, cronie's and
 * Kubernetes CronJobs'): when both are restricted, a day matches if EITHER matches
 * (`0 0 1 * MON` = the 1st and every Monday); when one of them starts with `*` (`*` or `*``/2`),
 * a day must match both.
 *
 * Written here rather than taken from a library because the registry needs only this small,
 * fixed dialect with `previous()` as well as `next()`, and exact error messages.
 */
import { invalidArgument } from './problems.js';

/** A parsed cron expression. */
export interface CronSchedule {
  /** The expression as given (trimmed). */
  readonly expression: string;
  /** True when `time`'s minute is an occurrence (seconds are ignored). */
  matches(time: Date): boolean;
  /** The first occurrence strictly after `after`; undefined if none in the next 28 years. */
  next(after: Date): Date | undefined;
  /** The last occurrence at or before `atOrBefore`; undefined if none in the 28 years before. */
  previous(atOrBefore: Date): Date | undefined;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** The first value of `names` (e.g. 1 for JAN). */
  readonly namesFrom?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
    namesFrom: 1,
  },
  {
    name: 'day-of-week',
    min: 0,
    max: 7,
    names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
    namesFrom: 0,
  },
];

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MINUTE_MS = 60_000;
/** How far next() and previous() look: 28 years hold every weekday/leap-year combination. */
const SEARCH_MS = 28 * 366 * 24 * 60 * MINUTE_MS;
const USAGE = 'expected 5 fields: minute hour day-of-month month day-of-week (UTC), e.g. "0 2 * * *"';

/** One parsed field: allowed values as a lookup and sorted, and whether it started with `*`. */
interface Field {
  readonly allowed: readonly boolean[];
  readonly values: readonly number[];
  readonly star: boolean;
}

/**
 * Parses a five-field cron expression (UTC).
 *
 * @throws InvalidArgumentError naming every problem, e.g.
 *   `cron "61 * * * *" is invalid: minute 61 is out of range 0-59`.
 */
export function parseCron(expression: string): CronSchedule {
  const text = expression.trim();
  const subject = `cron "${text}" is invalid`;
  if (text === '') throw invalidArgument(subject, [`it is empty; ${USAGE}`]);
  const expanded = text.startsWith('@') ? MACROS[text.toLowerCase()] : text;
  if (expanded === undefined) {
    throw invalidArgument(subject, [
      `unknown macro ${text}; use ${Object.keys(MACROS).join(', ')} or 5 fields`,
    ]);
  }
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) {
    throw invalidArgument(subject, [
      `it has ${parts.length} field${parts.length === 1 ? '' : 's'}; ${USAGE}${parts.length === 6 ? ' (seconds are not supported)' : ''}`,
    ]);
  }
  const problems: string[] = [];
  const fields = parts.map((part, i) => parseField(part, FIELDS[i]!, problems));
  if (problems.length > 0) throw invalidArgument(subject, problems);
  const [minute, hour, dom, month, dowRaw] = fields as [Field, Field, Field, Field, Field];
  // Sunday is 0 and 7; fold 7 onto 0.
  const dowAllowed = dowRaw.allowed.slice(0, 7);
  if (dowRaw.allowed[7]) dowAllowed[0] = true;
  const dow: Field = {
    allowed: dowAllowed,
    values: dowAllowed.flatMap((on, i) => (on ? [i] : [])),
    star: dowRaw.star,
  };
  const schedule = createSchedule(text, minute, hour, dom, month, dow);
  if (schedule.next(new Date(Date.UTC(2000, 0, 1) - MINUTE_MS)) === undefined) {
    throw invalidArgument(subject, [
      'it never matches: no month in it has that day of the month (e.g. February 30)',
    ]);
  }
  return schedule;
}

function parseField(text: string, spec: FieldSpec, problems: string[]): Field {
  const allowed = new Array<boolean>(spec.max + 1).fill(false);
  const fail = (problem: string): void => {
    problems.push(`${spec.name} ${problem}`);
  };
  const value = (token: string): number | undefined => {
    const upper = token.toUpperCase();
    const named = spec.names?.indexOf(upper) ?? -1;
    if (named >= 0) return named + (spec.namesFrom ?? 0);
    if (!/^\d+$/.test(token)) {
      fail(
        `"${token}" is not a number${spec.names ? ` or a name (${spec.names[0]}..${spec.names.at(-1)})` : ''}`,
      );
      return undefined;
    }
    const n = Number(token);
    if (n < spec.min || n > spec.max) {
      fail(`${n} is out of range ${spec.min}-${spec.max}`);
      return undefined;
    }
    return n;
  };
  const before = problems.length;
  for (const item of text.split(',')) {
    if (item === '') {
      fail(`"${text}" has an empty list item`);
      continue;
    }
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) {
      fail(`"${item}" has more than one "/"`);
      continue;
    }
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1) {
        fail(`step "${stepText}" in "${item}" must be a whole number of 1 or more`);
        continue;
      }
      step = Number(stepText);
    }
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range!.includes('-')) {
      const [a, b, more] = range!.split('-');
      if (more !== undefined || !a || !b) {
        fail(`range "${range}" must be start-end, e.g. 1-5`);
        continue;
      }
      from = value(a);
      to = value(b);
      if (from !== undefined && to !== undefined && from > to) {
        fail(`range "${range}" runs backwards (${from} > ${to}); write it as two ranges`);
        continue;
      }
    } else {
      from = value(range!);
      // `a/step` runs from a to the end of the field; a lone value is just itself.
      to = stepText === undefined ? from : spec.max;
    }
    if (from === undefined || to === undefined) continue;
    for (let v = from; v <= to; v += step) allowed[v] = true;
  }
  if (problems.length === before && !allowed.includes(true)) fail(`"${text}" allows no value`);
  return {
    allowed,
    values: allowed.flatMap((on, i) => (on ? [i] : [])),
    star: text.startsWith('*'),
  };
}

function createSchedule(
  expression: string,
  minute: Field,
  hour: Field,
  dom: Field,
  month: Field,
  dow: Field,
): CronSchedule {
  const either = !dom.star && !dow.star;
  const dayMatches = (d: Date): boolean => {
    const byDate = dom.allowed[d.getUTCDate()] === true;
    const byWeekday = dow.allowed[d.getUTCDay()] === true;
    return either ? byDate || byWeekday : byDate && byWeekday;
  };
  const atOrAfter = (field: Field, v: number): number | undefined => field.values.find((x) => x >= v);
  const atOrBefore = (field: Field, v: number): number | undefined => field.values.findLast((x) => x <= v);

  return {
    expression,
    matches(time) {
      const d = new Date(Math.floor(time.getTime() / MINUTE_MS) * MINUTE_MS);
      return (
        minute.allowed[d.getUTCMinutes()] === true &&
        hour.allowed[d.getUTCHours()] === true &&
        month.allowed[d.getUTCMonth() + 1] === true &&
        dayMatches(d)
      );
    },
    next(after) {
      const limit = after.getTime() + SEARCH_MS;
      let t = Math.floor(after.getTime() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      while (t <= limit) {
        const d = new Date(t);
        const [y, mo, day, h, m] = parts(d);
        if (!month.allowed[mo + 1]) {
          t = Date.UTC(y, mo + 1, 1);
          continue;
        }
        if (!dayMatches(d)) {
          t = Date.UTC(y, mo, day + 1);
          continue;
        }
        const hh = atOrAfter(hour, h);
        if (hh === undefined) {
          t = Date.UTC(y, mo, day + 1);
          continue;
        }
        if (hh !== h) {
          t = Date.UTC(y, mo, day, hh);
          continue;
        }
        const mm = atOrAfter(minute, m);
        if (mm === undefined) {
          t = Date.UTC(y, mo, day, h + 1);
          continue;
        }
        return new Date(Date.UTC(y, mo, day, h, mm));
      }
      return undefined;
    },
    previous(atOrBeforeTime) {
      const limit = atOrBeforeTime.getTime() - SEARCH_MS;
      let t = Math.floor(atOrBeforeTime.getTime() / MINUTE_MS) * MINUTE_MS;
      while (t >= limit) {
        const d = new Date(t);
        const [y, mo, day, h, m] = parts(d);
        if (!month.allowed[mo + 1]) {
          t = Date.UTC(y, mo, 1) - MINUTE_MS;
          continue;
        }
        if (!dayMatches(d)) {
          t = Date.UTC(y, mo, day) - MINUTE_MS;
          continue;
        }
        const hh = atOrBefore(hour, h);
        if (hh === undefined) {
          t = Date.UTC(y, mo, day) - MINUTE_MS;
          continue;
        }
        if (hh !== h) {
          t = Date.UTC(y, mo, day, hh, 59);
          continue;
        }
        const mm = atOrBefore(minute, m);
        if (mm === undefined) {
          t = Date.UTC(y, mo, day, h) - MINUTE_MS;
          continue;
        }
        return new Date(Date.UTC(y, mo, day, h, mm));
      }
      return undefined;
    },
  };
}

/** year, month (0-based), day, hour, minute in UTC. */
function parts(d: Date): [number, number, number, number, number] {
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
}
