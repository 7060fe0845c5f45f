import { InvalidArgumentError } from '@slipway/errors';
import { describe, expect, it } from 'vitest';
import { parseCron } from './cron.js';

const at = (iso: string): Date => new Date(iso);
/** The next `count` occurrences after `from`, as ISO strings. */
function upcoming(expression: string, from: string, count: number): string[] {
  const cron = parseCron(expression);
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < count; i++) {
    const next = cron.next(t);
    if (!next) break;
    out.push(next.toISOString());
    t = next;
  }
  return out;
}

describe('parseCron: next and previous', () => {
  it('every minute: the next whole minute strictly after the time', () => {
    expect(upcoming('* * * * *', '2026-11-27T02:00:00.000Z', 2)).toEqual([
      '2026-11-27T02:01:00.000Z',
      '2026-11-27T02:02:00.000Z',
    ]);
    expect(upcoming('* * * * *', '2026-11-27T02:00:59.999Z', 1)).toEqual(['2026-11-27T02:01:00.000Z']);
  });

  it('a daily time rolls over days, months and years', () => {
    expect(upcoming('0 2 * * *', '2026-12-31T02:00:00Z', 2)).toEqual([
      '2027-01-01T02:00:00.000Z',
      '2027-01-02T02:00:00.000Z',
    ]);
    expect(upcoming('0 2 * * *', '2026-11-27T01:59:00Z', 1)).toEqual(['2026-11-27T02:00:00.000Z']);
  });

  it('lists, ranges and steps', () => {
    expect(upcoming('*/15 9-10 * * *', '2026-11-27T08:59:00Z', 9)).toEqual([
      '2026-11-27T09:00:00.000Z',
      '2026-11-27T09:15:00.000Z',
      '2026-11-27T09:30:00.000Z',
      '2026-11-27T09:45:00.000Z',
      '2026-11-27T10:00:00.000Z',
      '2026-11-27T10:15:00.000Z',
      '2026-11-27T10:30:00.000Z',
      '2026-11-27T10:45:00.000Z',
      '2026-11-28T09:00:00.000Z',
    ]);
    expect(upcoming('5,35 0-12/6 * * *', '2026-11-27T00:00:00Z', 5)).toEqual([
      '2026-11-27T00:05:00.000Z',
      '2026-11-27T00:35:00.000Z',
      '2026-11-27T06:05:00.000Z',
      '2026-11-27T06:35:00.000Z',
      '2026-11-27T12:05:00.000Z',
    ]);
    // a/step runs from a to the end of the field.
    expect(upcoming('50/5 * * * *', '2026-11-27T00:00:00Z', 3)).toEqual([
      '2026-11-27T00:50:00.000Z',
      '2026-11-27T00:55:00.000Z',
      '2026-11-27T01:50:00.000Z',
    ]);
  });

  it('month and weekday names, Sunday as 0 or 7', () => {
    // 2026-11-27 is a Friday.
    expect(upcoming('0 8 * * MON-fri', '2026-11-27T09:00:00Z', 2)).toEqual([
      '2026-11-30T08:00:00.000Z',
      '2026-12-01T08:00:00.000Z',
    ]);
    expect(upcoming('0 0 * * 7', '2026-11-27T00:00:00Z', 1)).toEqual(['2026-11-29T00:00:00.000Z']);
    expect(upcoming('0 0 * * SUN', '2026-11-27T00:00:00Z', 1)).toEqual(['2026-11-29T00:00:00.000Z']);
    expect(upcoming('0 0 1 jan,JUL *', '2026-11-27T00:00:00Z', 2)).toEqual([
      '2027-01-01T00:00:00.000Z',
      '2027-07-01T00:00:00.000Z',
    ]);
  });

  it('day of month OR day of week when both are restricted; AND when one starts with *', () => {
    // The 1st of the month, and every Monday.
    expect(upcoming('0 0 1 * MON', '2026-11-27T00:00:00Z', 3)).toEqual([
      '2026-11-30T00:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
      '2026-12-07T00:00:00.000Z',
    ]);
    // Odd days of the month that are also Mondays (Vixie cron: */2 counts as *).
    expect(upcoming('0 0 */2 * MON', '2026-11-27T00:00:00Z', 2)).toEqual([
      '2026-12-07T00:00:00.000Z',
      '2026-12-21T00:00:00.000Z',
    ]);
  });

  it('skips months too short for the day, and finds leap days', () => {
    expect(upcoming('0 0 31 * *', '2026-01-31T00:00:00Z', 2)).toEqual([
      '2026-03-31T00:00:00.000Z',
      '2026-05-31T00:00:00.000Z',
    ]);
    expect(upcoming('0 12 29 2 *', '2026-11-27T00:00:00Z', 2)).toEqual([
      '2028-02-29T12:00:00.000Z',
      '2032-02-29T12:00:00.000Z',
    ]);
  });

  it('macros', () => {
    expect(upcoming('@yearly', '2026-11-27T00:00:00Z', 1)).toEqual(['2027-01-01T00:00:00.000Z']);
    expect(upcoming('@hourly', '2026-11-27T00:00:00Z', 1)).toEqual(['2026-11-27T01:00:00.000Z']);
    expect(upcoming('@weekly', '2026-11-27T00:00:00Z', 1)).toEqual(['2026-11-29T00:00:00.000Z']);
    expect(upcoming('@DAILY', '2026-11-27T00:00:00Z', 1)).toEqual(['2026-11-28T00:00:00.000Z']);
  });

  it('previous: the last occurrence at or before the time', () => {
    const cron = parseCron('30 2 * * *');
    expect(cron.previous(at('2026-11-27T02:30:00Z'))).toEqual(at('2026-11-27T02:30:00Z'));
    expect(cron.previous(at('2026-11-27T02:30:59Z'))).toEqual(at('2026-11-27T02:30:00Z'));
    expect(cron.previous(at('2026-11-27T02:29:59Z'))).toEqual(at('2026-11-26T02:30:00Z'));
    expect(parseCron('0 0 1 1 *').previous(at('2026-11-27T00:00:00Z'))).toEqual(at('2026-01-01T00:00:00Z'));
    expect(parseCron('0 12 29 2 *').previous(at('2026-11-27T00:00:00Z'))).toEqual(at('2024-02-29T12:00:00Z'));
    expect(parseCron('59 23 31 12 *').previous(at('2026-01-01T00:00:00Z'))).toEqual(
      at('2025-12-31T23:59:00Z'),
    );
  });

  it('matches ignores seconds', () => {
    const cron = parseCron('0 2 * * *');
    expect(cron.matches(at('2026-11-27T02:00:42Z'))).toBe(true);
    expect(cron.matches(at('2026-11-27T02:01:00Z'))).toBe(false);
  });
});

describe('parseCron: agrees with a naive minute-by-minute reading of the expression', () => {
  // An independent reading of the syntax: membership tested arithmetically per item.
  const inItem = (item: string, v: number, min: number, max: number): boolean => {
    const [range, stepText] = item.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let [lo, hi] = [Number(range), stepText === undefined ? Number(range) : max];
    if (range === '*') [lo, hi] = [min, max];
    else if (range!.includes('-')) [lo, hi] = range!.split('-').map(Number) as [number, number];
    return v >= lo && v <= hi && (v - lo) % step === 0;
  };
  const inField = (field: string, v: number, min: number, max: number): boolean =>
    field.split(',').some((item) => inItem(item, v, min, max));
  /** The naive reading, split in the day test and the time-of-day test (to scan day by day). */
  const naive = (expression: string) => {
    const [mi, h, dom, mo, dow] = expression.split(' ') as [string, string, string, string, string];
    const day = (d: Date): boolean => {
      const weekday = d.getUTCDay();
      const byDom = inField(dom, d.getUTCDate(), 1, 31);
      const byDow = inField(dow, weekday, 0, 7) || (weekday === 0 && inField(dow, 7, 0, 7));
      const byDay = dom.startsWith('*') || dow.startsWith('*') ? byDom && byDow : byDom || byDow;
      return byDay && inField(mo, d.getUTCMonth() + 1, 1, 12);
    };
    const time = (d: Date): boolean =>
      inField(mi, d.getUTCMinutes(), 0, 59) && inField(h, d.getUTCHours(), 0, 23);
    return { day, matches: (d: Date): boolean => day(d) && time(d) };
  };
  /** The first matching minute in [from, to), scanning day by day; undefined when none. */
  const firstMatch = (reading: ReturnType<typeof naive>, from: number, to: number): number | undefined => {
    let t = from;
    while (t < to) {
      const d = new Date(t);
      if (!reading.day(d)) {
        t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
        continue;
      }
      if (reading.matches(d)) return t;
      t += 60_000;
    }
    return undefined;
  };

  // mulberry32, seeded: the same cases on every run.
  let state = 20261127;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const fieldText = (min: number, max: number): string => {
    const kind = int(0, 5);
    if (kind === 0) return '*';
    if (kind === 1) return `*/${int(2, 7)}`;
    if (kind === 2) return String(int(min, max));
    if (kind === 3) {
      const a = int(min, max);
      return `${a}-${int(a, max)}`;
    }
    if (kind === 4) {
      const a = int(min, max);
      return `${a}-${int(a, max)}/${int(1, 4)}`;
    }
    return `${int(min, max)},${int(min, max)},${int(min, max)}`;
  };

  it('next and previous over 200 random expressions and times', () => {
    let checked = 0;
    while (checked < 200) {
      const expression = [
        fieldText(0, 59),
        fieldText(0, 23),
        // Keep days of the month low so every expression matches in most months.
        fieldText(1, 28),
        fieldText(1, 12),
        fieldText(0, 7),
      ].join(' ');
      const cron = parseCron(expression);
      const reading = naive(expression);
      const from = new Date(Date.UTC(2026, int(0, 11), int(1, 28), int(0, 23), int(0, 59), int(0, 59)));
      const next = cron.next(from)!;
      const previous = cron.previous(from)!;
      const minute = Math.floor(from.getTime() / 60_000) * 60_000;
      expect(next.getTime()).toBeGreaterThan(from.getTime());
      expect(previous.getTime()).toBeLessThanOrEqual(from.getTime());
      // next: the first match after the time's minute; previous: nothing matches after it.
      expect(
        firstMatch(reading, minute + 60_000, next.getTime() + 60_000),
        `${expression} next of ${from.toISOString()}`,
      ).toBe(next.getTime());
      expect(reading.matches(previous), `${expression} previous ${previous.toISOString()}`).toBe(true);
      expect(
        firstMatch(reading, previous.getTime() + 60_000, minute + 60_000),
        `${expression} previous of ${from.toISOString()}`,
      ).toBeUndefined();
      checked++;
    }
  });
});

describe('parseCron: invalid expressions', () => {
  const problem = (expression: string): string => {
    try {
      parseCron(expression);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      return (error as Error).message;
    }
    throw new Error(`"${expression}" was accepted`);
  };

  it('names the field, the value and the fix', () => {
    expect(problem('61 * * * *')).toBe('cron "61 * * * *" is invalid: minute 61 is out of range 0-59');
    expect(problem('0 24 * * *')).toBe('cron "0 24 * * *" is invalid: hour 24 is out of range 0-23');
    expect(problem('0 0 0 * *')).toBe('cron "0 0 0 * *" is invalid: day-of-month 0 is out of range 1-31');
    expect(problem('0 0 * 13 *')).toBe('cron "0 0 * 13 *" is invalid: month 13 is out of range 1-12');
    expect(problem('0 0 * * 8')).toBe('cron "0 0 * * 8" is invalid: day-of-week 8 is out of range 0-7');
    expect(problem('0 0 * * FUN')).toBe(
      'cron "0 0 * * FUN" is invalid: day-of-week "FUN" is not a number or a name (SUN..SAT)',
    );
    expect(problem('*/0 * * * *')).toBe(
      'cron "*/0 * * * *" is invalid: minute step "0" in "*/0" must be a whole number of 1 or more',
    );
    expect(problem('0 5-3 * * *')).toBe(
      'cron "0 5-3 * * *" is invalid: hour range "5-3" runs backwards (5 > 3); write it as two ranges',
    );
    expect(problem('0 1,,2 * * *')).toBe(
      'cron "0 1,,2 * * *" is invalid: hour "1,,2" has an empty list item',
    );
    expect(problem('0 1-2-3 * * *')).toBe(
      'cron "0 1-2-3 * * *" is invalid: hour range "1-2-3" must be start-end, e.g. 1-5',
    );
  });

  it('lists every problem at once', () => {
    expect(problem('60 25 * * *')).toBe(
      'cron "60 25 * * *" is invalid (2 problems): 1) minute 60 is out of range 0-59; 2) hour 25 is out of range 0-23',
    );
  });

  it('refuses the wrong number of fields, unknown macros, and expressions that never match', () => {
    expect(problem('')).toBe(
      'cron "" is invalid: it is empty; expected 5 fields: minute hour day-of-month month day-of-week (UTC), e.g. "0 2 * * *"',
    );
    expect(problem('0 2 * *')).toMatch(/it has 4 fields; expected 5 fields/);
    expect(problem('0 0 2 * * *')).toMatch(/it has 6 fields; .* \(seconds are not supported\)$/);
    expect(problem('@reboot')).toMatch(/unknown macro @reboot; use @yearly, @annually/);
    expect(problem('0 0 30 2 *')).toBe(
      'cron "0 0 30 2 *" is invalid: it never matches: no month in it has that day of the month (e.g. February 30)',
    );
  });
});
