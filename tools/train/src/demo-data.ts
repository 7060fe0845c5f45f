import { createSeededRandom } from '@slipway/onnx';

/** One card transaction of the demo use case, with its (later arriving) fraud label. */
export interface Transaction {
  transactionId: string;
  userId: string;
  merchantId: string;
  eventTime: Date;
  amount: number;
  hourOfDay: number;
  merchantRisk: number;
  distanceKm: number;
  txCount24h: number;
  isForeign: number;
  accountAgeDays: number;
  avgAmount30d: number;
  /** 1 fraud, 0 legitimate. */
  label: number;
}

/**
 * The raw numeric fields of a transaction. The demo model does not read these directly: its input
 * is the `demo_transactions` feature set's transform of them (see `demo-feature-set.ts`).
 */
export const DEMO_RAW_FIELDS = [
  'amount',
  'hourOfDay',
  'merchantRisk',
  'distanceKm',
  'txCount24h',
  'isForeign',
  'accountAgeDays',
  'avgAmount30d',
] as const satisfies ReadonlyArray<keyof Transaction>;

/** Options of {@link generateTransactions}. */
export interface DemoDataOptions {
  rows: number;
  seed: number;
  users?: number;
  merchants?: number;
  /** First event time; events are spread over `days`. */
  start?: Date;
  days?: number;
  /** Shifts the amount distribution (in log space) to simulate data drift. Default 0. */
  amountShift?: number;
}

/**
 * Deterministic, seeded card transactions. Fraud follows a known logistic relationship
 * (large amounts far from home, at night, at risky merchants, on young accounts), so a model
 * trained on it has something real to learn and its quality can be checked.
 */
export function generateTransactions(options: DemoDataOptions): Transaction[] {
  const random = createSeededRandom(options.seed);
  const users = options.users ?? 1_000;
  const merchants = options.merchants ?? 200;
  const start = (options.start ?? new Date('2026-01-01T00:00:00Z')).getTime();
  const spanMs = (options.days ?? 30) * 86_400_000;
  const merchantRisk = Array.from({ length: merchants }, () => random.next() ** 3);
  const userAge = Array.from({ length: users }, () => Math.floor(random.uniform(1, 3_000)));
  const userAvg = Array.from({ length: users }, () => Math.exp(random.normal() * 0.6 + 3.5));
  const rows: Transaction[] = [];
  for (let i = 0; i < options.rows; i++) {
    const user = Math.floor(random.next() * users);
    const merchant = Math.floor(random.next() * merchants);
    const eventTime = new Date(start + Math.floor(random.next() * spanMs));
    const amount = Math.exp(random.normal() * 1.1 + 3.6 + (options.amountShift ?? 0));
    const hourOfDay = eventTime.getUTCHours();
    const distanceKm = Math.exp(random.normal() * 1.4 + 2);
    const txCount24h = Math.floor(-Math.log(1 - random.next()) * 3);
    const isForeign = random.next() < 0.08 ? 1 : 0;
    const night = hourOfDay < 6 ? 1 : 0;
    const logit =
      -6.2 +
      0.9 * Math.log1p(amount / userAvg[user]!) +
      2.6 * merchantRisk[merchant]! +
      0.35 * Math.log1p(distanceKm) +
      0.9 * night +
      1.1 * isForeign +
      0.12 * txCount24h -
      0.0006 * userAge[user]!;
    const label = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
    rows.push({
      transactionId: `tx-${options.seed}-${i}`,
      userId: `u${user}`,
      merchantId: `m${merchant}`,
      eventTime,
      amount: Math.round(amount * 100) / 100,
      hourOfDay,
      merchantRisk: merchantRisk[merchant]!,
      distanceKm,
      txCount24h,
      isForeign,
      accountAgeDays: userAge[user]!,
      avgAmount30d: userAvg[user]!,
      label,
    });
  }
  return rows;
}
