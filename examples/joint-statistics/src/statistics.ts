/**
 * The joint computation every hospital runs (the same program on every party).
 *
 * Each hospital summarises its own records locally (count, sum and sum of squares of the
 * deviations from a public reference value) and shares the three numbers; nobody sees another
 * hospital's summary, let alone a record. The parties add the summaries in shares, open only the
 * combined count N (the cohort size, checked against a minimum), and compute in shares
 *
 *   mean     = ref + S / N
 *   variance = Q / N - (S / N)^2
 *
 * where S and Q are the combined sums of deviations and squared deviations: a division by the
 * public N (multiplication by round(2^g / N), then truncation) and one Beaver multiplication
 * with truncation. Only the mean and the variance are opened.
 *
 * Ranges, in Z_2^64 with f = 16 fractional bits: a record deviates at most DEVIATION_MAX from the
 * reference, so Q * 2^f * round(2^g / N) < DEVIATION_MAX^2 * 2^(f + g) < 2^62 with g = 30, the
 * bound probabilistic truncation needs.
 * @module
 */
import { UnseenError } from '@unseen/core';
import type { MpcSession, SharedVector } from '@unseen/secret-sharing';

/** The public reference value (mmHg) deviations are taken from. */
export const REFERENCE = 120;
/** Largest deviation of a record from the reference; records beyond it are refused. */
export const DEVIATION_MAX = 200;
/** The smallest combined cohort for which the statistics may be released. */
export const MIN_COHORT = 30;
/** Precision bits of the public factor 1 / N. */
const INVERSE_BITS = 30;
/** Clip of the shared summaries: the fixed-point encoding's range (2^36 * 2^16 < 2^53). */
const SUMMARY_CLIP = 2 ** 36;

/** What every hospital learns. */
export interface JointStatistics {
  count: number;
  mean: number;
  variance: number;
}

/** A hospital's local summary of its own records: [count, sum of deviations, sum of squares]. */
export function localSummary(records: ArrayLike<number>): number[] {
  let s = 0;
  let q = 0;
  for (let i = 0; i < records.length; i++) {
    const d = records[i]! - REFERENCE;
    if (!(Math.abs(d) <= DEVIATION_MAX)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `record ${i} lies outside the agreed range`);
    }
    s += d;
    q += d * d;
  }
  return [records.length, s, q];
}

/** Runs the joint computation as party `session.party`, whose own records are `records`. */
export async function jointStatistics(
  session: MpcSession,
  records: ArrayLike<number>,
): Promise<JointStatistics> {
  const mine = localSummary(records);
  // 1. Every hospital shares its summary (its own values; the others pass the length).
  let total: SharedVector | undefined;
  for (let owner = 0; owner < session.parties; owner++) {
    const shared = await session.inputFixed(
      owner,
      owner === session.party ? mine : 3,
      SUMMARY_CLIP,
    );
    total = total === undefined ? shared : session.add(total, shared);
  }
  if (total === undefined) throw new UnseenError('ERR_INVALID_STATE', 'no parties');
  // 2. Open the cohort size only, and stop below the minimum.
  const [count] = await session.revealNumbers(session.slice(total, 0, 1));
  const n = Math.round(count!);
  if (n < MIN_COHORT) {
    await session.abort(`cohort of ${n} is below the minimum of ${MIN_COHORT}`);
    throw new UnseenError('ERR_POLICY_DENIED', `the combined cohort (${n}) is below ${MIN_COHORT}`);
  }
  // 3. [S / N, Q / N]: multiply by round(2^g / N) (scale f + g), truncate back to f.
  const sums = session.slice(total, 1, 3);
  const moments = await session.rescale(
    session.mulPublic(sums, Math.round(2 ** INVERSE_BITS / n), INVERSE_BITS),
  );
  const meanDeviation = session.slice(moments, 0, 1);
  // 4. variance = Q / N - (S / N)^2: one Beaver multiplication with truncation.
  const square = await session.mulFixed(meanDeviation, meanDeviation);
  const variance = session.sub(session.slice(moments, 1, 2), square);
  const mean = session.addPublic(
    meanDeviation,
    BigInt(REFERENCE) << BigInt(session.fractionalBits),
  );
  // 5. Open the two results.
  const [m, v] = await session.revealNumbers(session.concat(mean, variance));
  return { count: n, mean: m!, variance: v! };
}
