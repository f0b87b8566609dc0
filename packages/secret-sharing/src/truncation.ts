/**
 * Probabilistic truncation of additively shared values in Z_2^k with a dealer-made pair
 * ([r], [r' >> m], [r_{k-1}]), r uniform, r' = r mod 2^{k-1}: the ring version of Catrina and de
 * Hoogh's TruncPr (SCN 2010) in which the top bit of r is shared on its own so that the
 * wrap-around of the masked value is known exactly (Dalskov, Escudero and Keller, "Secure
 * evaluation of quantized neural networks", PoPETs 2020; Escudero et al., CRYPTO 2020). One
 * opening per call.
 *
 * For a signed z with |z| < 2^{k-2}, let a = z + 2^{k-2} in [0, 2^{k-1}). The parties open
 * c = a + r (uniform: it says nothing about z). With c' = c mod 2^{k-1} and c_{k-1} its top bit,
 * a + r' = c' + u * 2^{k-1} where u = c_{k-1} XOR r_{k-1}, which is linear in [r_{k-1}] because c
 * is public. Then
 *
 *   floor(a / 2^m) + b = (c' >> m) - (r' >> m) + u * 2^{k-1-m},   b in {0, 1},
 *
 * and subtracting 2^{k-2-m} gives floor(z / 2^m) + b.
 *
 * Error and failure: the result is floor(z / 2^m) + b with Pr[b = 1] = (z mod 2^m) / 2^m, i.e.
 * z / 2^m rounded up or down at random with an expected value of exactly z / 2^m (stochastic
 * rounding; |error| < 1 unit of the last place). It never fails while |z| < 2^{k-2}. Compare
 * SecureML's local truncation (Mohassel and Zhang, S&P 2017): two parties only, no opening,
 * but a wrong result with probability about 2^{l_z + 1 - k} for |z| < 2^{l_z}.
 * @module
 */
import { type RingBits, ringAddInto, ringNegInto, UnseenError } from '@unseen/core';
import type { TruncationShares } from './correlations.js';
import {
  ringAddConstInto,
  ringMulConstInto,
  ringShiftRightInto,
  ringSplitTopBitInto,
} from './ring-arith.js';

/** Checks a shift for a k-bit ring: 1 <= m <= k - 2. */
export function checkShift(bits: RingBits, m: number): number {
  if (!Number.isInteger(m) || m < 1 || m > bits - 2) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `truncation: the shift must be an integer in [1, ${bits - 2}]`,
    );
  }
  return m;
}

/** This party's share of c = z + 2^{k-2} + r, to be opened. */
export function truncationMask(
  bits: RingBits,
  party: number,
  z: Uint32Array,
  pair: TruncationShares,
): Uint32Array {
  if (pair.r.length !== z.length) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      'truncation: the pair does not match the vector length',
    );
  }
  const out = z.slice();
  ringAddInto(bits, out, pair.r);
  return party === 0 ? ringAddConstInto(bits, out, 1n << BigInt(bits - 2)) : out;
}

/** This party's share of floor(z / 2^m) + b from the opened c. */
export function truncationFinish(
  bits: RingBits,
  party: number,
  m: number,
  opened: Uint32Array,
  pair: TruncationShares,
): Uint32Array {
  checkShift(bits, m);
  if (opened.length !== pair.r.length) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      'truncation: the opened vector does not match the pair',
    );
  }
  const low = opened.slice();
  const top = ringSplitTopBitInto(bits, low); // low = c', top = c_{k-1} (public)
  // [u] = c_{k-1} XOR [r_{k-1}] = c_{k-1} ? 1 - [r_{k-1}] : [r_{k-1}] (party 0 holds the 1).
  const u = pair.rMsb.slice();
  const one = party === 0 ? 1 : 0;
  if (bits === 32) {
    for (let i = 0; i < u.length; i++) if (top[i] === 1) u[i] = one - u[i]!;
  } else {
    for (let i = 0; i < u.length; i += 2) {
      if (top[i] !== 1) continue;
      const lo = one - u[i]!; // (one - u) mod 2^64 with a borrow from the low word
      u[i] = lo;
      u[i + 1] = -u[i + 1]! - (lo < 0 ? 1 : 0);
    }
  }
  // [res] = u * 2^{k-1-m} - [r' >> m] + (party 0: (c' >> m) - 2^{k-2-m})
  const res = ringMulConstInto(bits, u, 1n << BigInt(bits - 1 - m));
  const negTrunc = ringNegInto(bits, pair.rTrunc.slice());
  ringAddInto(bits, res, negTrunc);
  if (party === 0) {
    ringAddInto(bits, res, ringShiftRightInto(bits, low, m));
    ringAddConstInto(bits, res, -(1n << BigInt(bits - 2 - m)));
  }
  return res;
}
