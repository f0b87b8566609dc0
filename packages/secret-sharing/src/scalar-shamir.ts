/**
 * Shamir secret sharing of one big integer over a prime field GF(q) with BigInt: the scalar
 * sharing behind Feldman VSS (q = the order of ristretto255) and usable for any prime modulus.
 * Not for bulk data: vectors belong in `fieldShamir` (32-bit limbs) or `shamir` (bytes).
 * @module
 */
import { abigint, aint, randomBytes, UnseenError } from '@unseen/core';

/** A share of a scalar: the evaluation point (1..n) and f(index) mod q. */
export interface ScalarShare {
  readonly index: number;
  readonly value: bigint;
}

/** Options of {@link scalarShamir}.split. */
export interface ScalarSplitOptions {
  /** Number of shares n, 2..65,535. */
  shares: number;
  /** Shares needed to recover t, 2..n. */
  threshold: number;
  /** The prime modulus q (primality is the caller's promise). */
  modulus: bigint;
}

function amodulus(q: unknown): bigint {
  return abigint(q, 'modulus', 3n);
}

/** a mod q in [0, q). */
export function modQ(a: bigint, q: bigint): bigint {
  const r = a % q;
  return r < 0n ? r + q : r;
}

/** a^-1 mod q (extended Euclid). @throws UnseenError `ERR_INVALID_ARGUMENT` when none exists */
export function invQ(a: bigint, q: bigint): bigint {
  let [r0, r1] = [modQ(a, q), q];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const k = r0 / r1;
    [r0, r1] = [r1, r0 - k * r1];
    [s0, s1] = [s1, s0 - k * s1];
  }
  if (r0 !== 1n) throw new UnseenError('ERR_INVALID_ARGUMENT', 'no inverse modulo q');
  return modQ(s0, q);
}

/** A uniform integer in [min, q), by rejection sampling of bit-length-sized draws. */
export function randomBelow(q: bigint, min = 0n): bigint {
  const bits = q.toString(2).length;
  const bytes = Math.ceil(bits / 8);
  const topMask = 0xff >> (bytes * 8 - bits);
  for (;;) {
    const b = randomBytes(bytes);
    b[0] = b[0]! & topMask;
    let v = 0n;
    for (const x of b) v = (v << 8n) | BigInt(x);
    b.fill(0);
    if (v >= min && v < q) return v;
  }
}

/** f(x) mod q for coefficients a_0..a_{t-1} (Horner). */
export function evaluatePolynomial(coefficients: readonly bigint[], x: bigint, q: bigint): bigint {
  let acc = 0n;
  for (let j = coefficients.length - 1; j >= 0; j--) acc = modQ(acc * x + coefficients[j]!, q);
  return acc;
}

/** Lagrange interpolation at 0 through the points (index, value) mod q. */
function combine(shares: readonly ScalarShare[], modulus: bigint): bigint {
  const q = amodulus(modulus);
  if (!Array.isArray(shares) || shares.length < 2) {
    throw new UnseenError(
      'ERR_INSUFFICIENT_SHARES',
      'scalarShamir.combine: at least 2 shares are needed',
    );
  }
  const seen = new Set<number>();
  for (const [i, s] of shares.entries()) {
    if (
      typeof s !== 'object' ||
      s === null ||
      !Number.isInteger(s.index) ||
      s.index < 1 ||
      s.index > 65_535
    ) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `share ${i}: index must be an integer in [1, 65535]`,
      );
    }
    if (typeof s.value !== 'bigint' || s.value < 0n || s.value >= q) {
      throw new UnseenError('ERR_INVALID_SHARE', `share ${i}: value must be a bigint in [0, q)`);
    }
    if (seen.has(s.index)) {
      throw new UnseenError('ERR_INVALID_SHARE', `two shares have index ${s.index}`, {
        details: { index: s.index },
      });
    }
    seen.add(s.index);
  }
  let secret = 0n;
  for (const si of shares) {
    let num = 1n;
    let den = 1n;
    for (const sj of shares) {
      if (sj === si) continue;
      num = modQ(num * BigInt(sj.index), q);
      den = modQ(den * BigInt(sj.index - si.index), q);
    }
    secret = modQ(secret + si.value * num * invQ(den, q), q);
  }
  return secret;
}

/**
 * Splits `secret` in [0, q) and returns the shares with the polynomial's coefficients
 * (a_0 = secret first), which Feldman VSS commits to.
 */
export function splitWithCoefficients(
  secret: bigint,
  options: ScalarSplitOptions,
  nonZeroCoefficients = false,
): { shares: ScalarShare[]; coefficients: bigint[] } {
  const q = amodulus(options?.modulus);
  abigint(secret, 'secret', 0n, q);
  const n = aint(options.shares, 'shares', 2, 65_535);
  const t = aint(options.threshold, 'threshold (2 <= threshold <= shares)', 2, n);
  const coefficients = [secret];
  for (let j = 1; j < t; j++) coefficients.push(randomBelow(q, nonZeroCoefficients ? 1n : 0n));
  const shares: ScalarShare[] = [];
  for (let i = 1; i <= n; i++)
    shares.push({ index: i, value: evaluatePolynomial(coefficients, BigInt(i), q) });
  return { shares, coefficients };
}

/**
 * Shamir sharing of a scalar over GF(q).
 * @example
 * ```ts
 * const q = 2n ** 127n - 1n;
 * const shares = scalarShamir.split(42n, { shares: 3, threshold: 2, modulus: q });
 * scalarShamir.combine([shares[0]!, shares[2]!], q); // 42n
 * ```
 */
export const scalarShamir = {
  /** Shares 1..n of `secret` (in [0, q)); any t recover it. */
  split: (secret: bigint, options: ScalarSplitOptions): ScalarShare[] =>
    splitWithCoefficients(secret, options).shares,
  /**
   * Interpolates at 0 through all given shares.
   * @throws UnseenError `ERR_INSUFFICIENT_SHARES`, `ERR_INVALID_SHARE`
   */
  combine,
} as const;
