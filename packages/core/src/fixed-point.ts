/**
 * Fixed-point encoding of real vectors into Z_2^32 or Z_2^64, so that sums of encoded vectors
 * (by masking, secret sharing or homomorphic addition) decode to the sum of the reals.
 *
 * A value v is clipped to [-clip, clip], scaled by 2^f (f = `fractionalBits`), rounded to the
 * nearest integer and stored in two's complement modulo 2^bits. Error: each encoded value is
 * within 2^-(f+1) of the clipped input, so a decoded sum of k vectors is within k * 2^-(f+1)
 * ({@link fixedPointError}), plus the rounding of the result to a double (relative 2^-53, which
 * matters only for 64-bit sums above 2^53 units). Overflow: a sum of k vectors is exact while
 * k * round(clip * 2^f) <= 2^(bits-1) - 1 ({@link fixedPointCapacity}); decoding refuses larger k.
 * Clipping is reported (`clipped`), never silent.
 * @module
 */
import { aint, anumber, UnseenError } from './errors.js';
import { aringBits, type RingBits } from './ring.js';

/** How reals map into the ring. */
export interface FixedPointParams {
  /** Ring size: Z_2^32 or Z_2^64. */
  bits: RingBits;
  /** Fractional bits f: resolution 2^-f. */
  fractionalBits: number;
  /** Inputs are clipped to [-clip, clip]. */
  clip: number;
}

/** The result of {@link encodeFixedPoint}. */
export interface FixedPointEncoding {
  /** Ring elements: one word per value (32-bit) or two words, low then high (64-bit). */
  data: Uint32Array;
  /** How many inputs lay outside [-clip, clip] and were clipped. */
  clipped: number;
}

/** Validates params and returns M = round(clip * 2^f), the largest encoded magnitude. */
function checkParams(params: FixedPointParams): number {
  const bits = aringBits(params.bits);
  const f = aint(params.fractionalBits, 'fractionalBits', 0, bits - 2);
  const clip = anumber(params.clip, 'clip', Number.MIN_VALUE);
  const max = Math.round(clip * 2 ** f);
  // One value must fit in the signed range, and (for 64 bits) convert exactly from a double.
  const limit = bits === 32 ? 2 ** 31 - 1 : 2 ** 53;
  if (max > limit || max < 1) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `fixed point: clip * 2^fractionalBits = ${max} must be in [1, ${limit}] for ${bits}-bit rings`,
    );
  }
  return max;
}

/**
 * The largest number k of encoded vectors whose sum decodes exactly (no wrap-around):
 * floor((2^(bits-1) - 1) / round(clip * 2^f)).
 */
export function fixedPointCapacity(params: FixedPointParams): number {
  const max = checkParams(params);
  // In BigInt: as a double, 2^63 - 1 rounds up to 2^63, which would admit one summand too many.
  const capacity = ((1n << BigInt(params.bits - 1)) - 1n) / BigInt(max);
  return capacity > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(capacity);
}

/** The worst-case absolute error of a decoded sum of `count` vectors: count * 2^-(f+1). */
export function fixedPointError(params: FixedPointParams, count = 1): number {
  checkParams(params);
  return aint(count, 'count', 1) * 2 ** -(params.fractionalBits + 1);
}

/**
 * Encodes reals into ring elements, clipping to [-clip, clip].
 * @throws UnseenError `ERR_INVALID_ARGUMENT` on NaN inputs or invalid params
 * @example
 * ```ts
 * const p = { bits: 32, fractionalBits: 16, clip: 1 } as const;
 * const { data, clipped } = encodeFixedPoint(new Float64Array([0.5, -0.25, 3]), p); // clipped = 1
 * ```
 */
export function encodeFixedPoint(
  values: ArrayLike<number>,
  params: FixedPointParams,
): FixedPointEncoding {
  checkParams(params);
  const { bits, clip } = params;
  const scale = 2 ** params.fractionalBits;
  const n = values.length;
  const data = new Uint32Array(bits === 32 ? n : 2 * n);
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    let v = values[i]!;
    if (Number.isNaN(v)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `fixed point: value at index ${i} is NaN`, {
        details: { index: i },
      });
    }
    if (v > clip) {
      v = clip;
      clipped++;
    } else if (v < -clip) {
      v = -clip;
      clipped++;
    }
    const q = Math.round(v * scale);
    if (bits === 32) {
      data[i] = q; // two's complement by the Uint32 store
    } else {
      data[2 * i] = q; // low word: q mod 2^32
      data[2 * i + 1] = Math.floor(q / 2 ** 32); // high word, mod 2^32 by the store
    }
  }
  return { data, clipped };
}

/**
 * Decodes ring elements (an encoded vector, or the sum of `count` of them) back to reals.
 * @param count how many encoded vectors were summed (default 1); checked against capacity
 * @throws UnseenError `ERR_OVERFLOW` if `count` exceeds {@link fixedPointCapacity};
 * `ERR_INVALID_ARGUMENT` if the data length does not fit the ring
 */
export function decodeFixedPoint(
  data: Uint32Array,
  params: FixedPointParams,
  count = 1,
): Float64Array {
  const capacity = fixedPointCapacity(params);
  aint(count, 'count', 1);
  if (count > capacity) {
    throw new UnseenError(
      'ERR_OVERFLOW',
      `fixed point: a sum of ${count} vectors may wrap around; at most ${capacity} fit ${params.bits} bits with clip ${params.clip} and ${params.fractionalBits} fractional bits`,
      { details: { count, capacity } },
    );
  }
  if (!(data instanceof Uint32Array) || (params.bits === 64 && data.length % 2 !== 0)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'fixed point: data must be a Uint32Array of whole elements',
    );
  }
  const inv = 2 ** -params.fractionalBits;
  if (params.bits === 32) {
    const out = new Float64Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = (data[i]! | 0) * inv; // signed view
    return out;
  }
  const out = new Float64Array(data.length / 2);
  for (let i = 0; i < out.length; i++) {
    const lo = data[2 * i]!;
    const hi = data[2 * i + 1]! | 0; // signed high word
    // One rounding (the sum); scaling by a power of two is exact: relative error 2^-53.
    out[i] = (hi * 2 ** 32 + lo) * inv;
  }
  return out;
}
