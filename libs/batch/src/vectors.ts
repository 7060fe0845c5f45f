import type { features } from '@slipway/contracts';
import { FailedPreconditionError } from '@slipway/errors';
import type { ServiceClient } from '@slipway/service-kit';
import type { ScoringRow } from './rows.js';
import { calling } from './service-errors.js';

type FeaturesClient = ServiceClient<typeof features.FeatureServiceService>;

/** Where a run's feature vectors come from. */
export interface VectorSource {
  /** The rows' vectors, rows × width, row-major, in the rows' order. */
  vectors(rows: readonly ScoringRow[]): Promise<Float32Array>;
}

/** One chunk's call may take this long: thousands of rows, one feature-service round trip. */
const CALL_DEADLINE_MS = 120_000;

/**
 * The feature service's own vectors, as online serving gets them: GetFeatureVectors (latest
 * stored values, one snapshot per call) or, with `asOf`, GetHistoricalFeatures with the feature
 * set (the values each entity had at that time, never a later event). Either way the vectors are
 * computed by the feature service's libs/features plan, so they are bit-identical to what a
 * Predict would have used.
 */
export function createVectorSource(
  client: FeaturesClient,
  address: string,
  featureSet: features.FeatureSetRef,
  width: number,
  asOf: Date | undefined,
): VectorSource {
  const check = (got: number, rows: number): void => {
    if (got !== rows * width) {
      throw new FailedPreconditionError(
        `the feature service returned ${got} values for ${rows} rows of feature set "${featureSet.name}" v${featureSet.version}; expected ${rows * width} (${width} columns)`,
      );
    }
  };

  const latest = async (rows: readonly ScoringRow[]): Promise<Float32Array> => {
    const response = await client.getFeatureVectors(
      {
        featureSet,
        entities: rows.map((r) => ({ entityKeys: r.entityKeys, requestValues: r.requestValues })),
      },
      { deadline: CALL_DEADLINE_MS },
    );
    check(response.matrix.length, rows.length);
    return Float32Array.from(response.matrix);
  };

  const pointInTime = async (rows: readonly ScoringRow[], time: Date): Promise<Float32Array> => {
    const matrix = new Float32Array(rows.length * width);
    let filled = 0;
    const stream = client.getHistoricalFeatures(
      {
        queries: rows.map((r) => ({
          entityKeys: r.entityKeys,
          asOfTime: time,
          requestValues: r.requestValues,
        })),
        views: [],
        featureSet,
      },
      { deadline: CALL_DEADLINE_MS },
    );
    for await (const message of stream) {
      message.rows.forEach((row, i) => {
        check(row.vector.length, 1);
        matrix.set(row.vector, (message.offset + i) * width);
      });
      filled += message.rows.length;
    }
    check(filled * width, rows.length);
    return matrix;
  };

  return {
    vectors: (rows) =>
      calling('feature service', address, () =>
        asOf === undefined ? latest(rows) : pointInTime(rows, asOf),
      ),
  };
}
