/**
 * The vector a client contributes when its update must stay hidden (secure and homomorphic
 * aggregation): `w * clip(u)` in fixed point and the weight `w` (secure-aggregation's
 * `encodeUpdate`, on core's fixed-point encoding), then the client's count of clipped values as
 * two more ring elements, so that the count too is released only as a sum over clients:
 *
 * ```
 * [ w * clip(u_1) ... w * clip(u_n) | w | clipped mod 2^16 | floor(clipped / 2^16) ]
 * ```
 *
 * Split in 16-bit halves, the count sums without wrapping in Z_2^32 for up to 65,535 clients
 * (a count is at most 2^26, the longest model). Under differential privacy the count is not
 * released at all (clients send zeros there): it is data-dependent and outside the accountant.
 * @module
 */
import { type RingBits, UnseenError } from '@unseen/core';
import {
  type DecodedAggregate,
  decodeAggregate,
  encodedUpdateLength,
  encodeUpdate,
  type UpdateEncoding,
} from '@unseen/secure-aggregation';

/** Ring elements of a hidden update of `length` values: values, weight, clipped count. */
export function hiddenUpdateLength(length: number): number {
  return encodedUpdateLength(length) + 2;
}

/**
 * Encodes a client's update for a hidden sum.
 * @param reportClipped false under DP: the count elements stay zero
 * @returns ring words (one or two per element) and the client's own count of clipped values
 */
export function encodeHiddenUpdate(
  values: ArrayLike<number>,
  encoding: UpdateEncoding,
  weight: number,
  reportClipped: boolean,
): { data: Uint32Array; clipped: number } {
  const { data: update, clipped } = encodeUpdate(values, encoding, weight);
  const wpe = encoding.bits === 32 ? 1 : 2;
  const data = new Uint32Array(update.length + 2 * wpe);
  data.set(update);
  if (reportClipped) {
    data[update.length] = clipped % 65536;
    data[update.length + wpe] = Math.floor(clipped / 65536);
  }
  return { data, clipped };
}

/** A decoded hidden sum. */
export interface HiddenAggregate extends DecodedAggregate {
  /** Values clipped over all contributors (undefined when not reported, e.g. under DP). */
  clippedValues: number | undefined;
}

/**
 * Decodes the sum of `count` hidden updates (ring words modulo 2^bits).
 * @throws UnseenError `ERR_OVERFLOW` when `count` exceeds the encoding's capacity
 */
export function decodeHiddenAggregate(
  sum: Uint32Array,
  encoding: UpdateEncoding,
  count: number,
  reportClipped: boolean,
): HiddenAggregate {
  const wpe = encoding.bits === 32 ? 1 : 2;
  if (sum.length < 3 * wpe) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'decodeHiddenAggregate: not a hidden sum');
  }
  const at = sum.length - 2 * wpe;
  const decoded = decodeAggregate(sum.subarray(0, at), encoding, count);
  const low = sum[at]!;
  const high = sum[at + wpe]!;
  return { ...decoded, clippedValues: reportClipped ? low + 65536 * high : undefined };
}

/** Signed integers of ring elements (two's complement modulo 2^bits), for BFV plaintexts. */
export function ringToSigned(words: Uint32Array, bits: RingBits): BigInt64Array {
  if (bits === 32) return BigInt64Array.from(words, (w) => BigInt(w | 0));
  const out = new BigInt64Array(words.length / 2);
  for (let i = 0; i < out.length; i++) {
    // (low, high) words; the high word signed
    out[i] = (BigInt(words[2 * i + 1]! | 0) << 32n) | BigInt(words[2 * i]!);
  }
  return out;
}

/** Ring elements (modulo 2^bits) of signed integers: the inverse of {@link ringToSigned}. */
export function signedToRing(values: BigInt64Array, bits: RingBits): Uint32Array {
  if (bits === 32) return Uint32Array.from(values, (v) => Number(BigInt.asUintN(32, v)));
  const out = new Uint32Array(2 * values.length);
  for (let i = 0; i < values.length; i++) {
    const u = BigInt.asUintN(64, values[i]!);
    out[2 * i] = Number(u & 0xffffffffn);
    out[2 * i + 1] = Number(u >> 32n);
  }
  return out;
}
