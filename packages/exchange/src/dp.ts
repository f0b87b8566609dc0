/**
 * Exact sampling of the discrete Laplace distribution, for differentially private releases
 * of integer aggregates. Floating-point Laplace noise leaks through the gaps of the doubles
 * (Mironov, "On Significance of the Least Significant Bits for Differential Privacy", CCS
 * 2012); this sampler uses only integer arithmetic and unbiased uniform draws, following
 * Canonne, Kamath and Steinke, "The Discrete Gaussian for Differential Privacy" (NeurIPS 2020),
 * Algorithm 1 (Bernoulli(exp(-gamma))) and Algorithm 2 (discrete Laplace).
 *
 * Lap_Z(b) has P[x] proportional to exp(-|x| / b); adding Lap_Z(Δ/ε) to an integer query of
 * sensitivity Δ gives ε-differential privacy (the geometric mechanism, Ghosh, Roughgarden and
 * Sundararajan, STOC 2009).
 * @module
 */
import { aint, randomBytes } from '@unseen/core';

/** A uniform integer in [0, bound) for bound < 2^53, by rejection (no modulo bias). */
export function randomBelow(bound: number): number {
  aint(bound, 'bound', 1, Number.MAX_SAFE_INTEGER);
  if (bound === 1) return 0;
  const limit = 2 ** 53 - (2 ** 53 % bound);
  for (;;) {
    const b = randomBytes(7);
    // 53 random bits: 5 from the first byte, 48 from the other six.
    const v =
      (b[0]! & 0x1f) * 2 ** 48 +
      ((b[1]! << 16) | (b[2]! << 8) | b[3]!) * 2 ** 24 +
      ((b[4]! << 16) | (b[5]! << 8) | b[6]!);
    if (v < limit) return v % bound;
  }
}

/** Bernoulli(num / den). */
function bernoulli(num: number, den: number): boolean {
  return randomBelow(den) < num;
}

/**
 * Bernoulli(exp(-num/den)) for num, den positive integers (CKS20 Algorithm 1).
 */
export function bernoulliExp(num: number, den: number): boolean {
  aint(num, 'num', 0);
  aint(den, 'den', 1);
  let n = num;
  // exp(-g) = exp(-1)^floor(g) * exp(-(g - floor(g))).
  while (n > den) {
    if (!bernoulliExpFraction(1, 1)) return false;
    n -= den;
  }
  return bernoulliExpFraction(n, den);
}

/** Bernoulli(exp(-g)) for g = num/den in [0, 1]: K = 1; while Bernoulli(g/K) K++; odd K. */
function bernoulliExpFraction(num: number, den: number): boolean {
  let k = 1;
  while (den * k <= 2 ** 53 && bernoulli(num, den * k)) k++;
  return k % 2 === 1;
}

/**
 * A sample of Lap_Z(t/s), the discrete Laplace with scale t/s (CKS20 Algorithm 2).
 * @param t scale numerator (integer >= 1)
 * @param s scale denominator (integer >= 1)
 */
export function sampleDiscreteLaplace(t: number, s: number): number {
  aint(t, 't', 1, 2 ** 40);
  aint(s, 's', 1, 2 ** 40);
  for (;;) {
    const u = randomBelow(t);
    if (!bernoulliExp(u, t)) continue;
    let v = 0;
    while (bernoulliExp(1, 1)) v++;
    const x = u + t * v;
    const y = Math.floor(x / s);
    const negative = randomBelow(2) === 1;
    if (negative && y === 0) continue;
    return negative ? -y : y;
  }
}

/**
 * Integer noise for an ε-DP release of a query with integer sensitivity Δ: Lap_Z(Δ/ε) with ε
 * taken in units of 1e-6 (the exchange's budget unit), so that the scale is the exact
 * rational Δ·10^6 / ε_micros.
 */
export function discreteLaplaceNoise(sensitivity: number, epsilonMicros: number): number {
  aint(sensitivity, 'sensitivity', 1, 2 ** 20);
  aint(epsilonMicros, 'epsilonMicros', 1, 2 ** 40);
  return sampleDiscreteLaplace(sensitivity * 1_000_000, epsilonMicros);
}
