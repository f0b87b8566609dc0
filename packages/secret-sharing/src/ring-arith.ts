/**
 * Multiplication, public constants and integer conversion for the ring vectors of
 * `@unseen/core` (Z_2^32: one word per element; Z_2^64: low word then high word), the
 * arithmetic additive shares and Beaver triples need beyond core's add and subtract. No BigInt
 * in the loops: a 64-bit product modulo 2^64 is assembled from 16-bit partial products.
 * @module
 */
import { abigint, type RingBits, UnseenError, wordsPerElement } from '@unseen/core';

/** A public ring constant: a safe integer or a bigint (taken modulo 2^bits; negatives wrap). */
export type RingConstant = number | bigint;

/** The (low, high) words of a constant modulo 2^bits. */
export function constantWords(bits: RingBits, c: RingConstant): [number, number] {
  let v: bigint;
  if (typeof c === 'number') {
    if (!Number.isSafeInteger(c)) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `ring constant: expected a safe integer, got ${c}`,
      );
    }
    v = BigInt(c);
  } else v = abigint(c, 'ring constant');
  const m = BigInt.asUintN(bits, v);
  return [Number(m & 0xffffffffn), Number(m >> 32n)];
}

/** High 32 bits of the 64-bit product of two 32-bit words. */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  // Carries into bit 32: the middle column sums three terms below 2^17 + 2^16.
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

function sameLength(a: Uint32Array, b: Uint32Array, op: string): void {
  if (a.length !== b.length) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${op}: vectors of ${a.length} and ${b.length} words`,
      { details: { left: a.length, right: b.length } },
    );
  }
}

/** Checks that a vector holds whole ring elements. */
export function aringVector(bits: RingBits, v: unknown, title = 'ring vector'): Uint32Array {
  if (!(v instanceof Uint32Array) || v.length % wordsPerElement(bits) !== 0) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${title}: expected a Uint32Array of whole Z_2^${bits} elements`,
    );
  }
  return v;
}

/** `acc *= x` element-wise modulo 2^bits. @returns `acc` */
export function ringMulInto(bits: RingBits, acc: Uint32Array, x: Uint32Array): Uint32Array {
  sameLength(acc, x, 'ringMulInto');
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = Math.imul(acc[i]!, x[i]!);
    return acc;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const alo = acc[i]!;
    const ahi = acc[i + 1]!;
    const blo = x[i]!;
    const bhi = x[i + 1]!;
    // (alo + ahi 2^32)(blo + bhi 2^32) mod 2^64 = alo blo + (alo bhi + ahi blo) 2^32
    acc[i] = Math.imul(alo, blo);
    acc[i + 1] = mulHigh32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo);
  }
  return acc;
}

/** `acc *= c` for a public constant, element-wise modulo 2^bits. @returns `acc` */
export function ringMulConstInto(bits: RingBits, acc: Uint32Array, c: RingConstant): Uint32Array {
  const [clo, chi] = constantWords(bits, c);
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = Math.imul(acc[i]!, clo);
    return acc;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const alo = acc[i]!;
    const ahi = acc[i + 1]!;
    acc[i] = Math.imul(alo, clo);
    acc[i + 1] = mulHigh32(alo, clo) + Math.imul(alo, chi) + Math.imul(ahi, clo);
  }
  return acc;
}

/** `acc += c` for a public constant, element-wise modulo 2^bits. @returns `acc` */
export function ringAddConstInto(bits: RingBits, acc: Uint32Array, c: RingConstant): Uint32Array {
  const [clo, chi] = constantWords(bits, c);
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + clo;
    return acc;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! + clo;
    acc[i] = lo;
    acc[i + 1] = acc[i + 1]! + chi + (lo > 0xffffffff ? 1 : 0);
  }
  return acc;
}

/** The sum of all elements of a vector, as a one-element vector. */
export function ringSum(bits: RingBits, x: Uint32Array): Uint32Array {
  if (bits === 32) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s = (s + x[i]!) >>> 0;
    return Uint32Array.of(s);
  }
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < x.length; i += 2) {
    const l = lo + x[i]!;
    lo = l >>> 0;
    hi = (hi + x[i + 1]! + (l > 0xffffffff ? 1 : 0)) >>> 0;
  }
  return Uint32Array.of(lo, hi);
}

/**
 * Signed safe integers (or bigints) to ring elements in two's complement.
 * @throws UnseenError `ERR_OVERFLOW` when a value does not fit the signed range of the ring
 */
export function encodeRingIntegers(
  bits: RingBits,
  values: ArrayLike<number | bigint>,
): Uint32Array {
  const w = wordsPerElement(bits);
  const out = new Uint32Array(values.length * w);
  const max = (1n << BigInt(bits - 1)) - 1n;
  for (let i = 0; i < values.length; i++) {
    const raw = values[i]!;
    if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `value at index ${i} is not a safe integer`, {
        details: { index: i },
      });
    }
    const v = BigInt(raw);
    if (v > max || v < -max - 1n) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `value at index ${i} does not fit a signed ${bits}-bit ring`,
        {
          details: { index: i },
        },
      );
    }
    const [lo, hi] = constantWords(bits, v);
    out[i * w] = lo;
    if (w === 2) out[i * w + 1] = hi;
  }
  return out;
}

/** Ring elements to signed bigints (two's complement). */
export function decodeRingIntegers(bits: RingBits, data: Uint32Array): bigint[] {
  aringVector(bits, data, 'decodeRingIntegers input');
  const out: bigint[] = [];
  if (bits === 32) {
    for (let i = 0; i < data.length; i++) out.push(BigInt(data[i]! | 0));
    return out;
  }
  for (let i = 0; i < data.length; i += 2) {
    out.push(BigInt.asIntN(64, (BigInt(data[i + 1]!) << 32n) | BigInt(data[i]!)));
  }
  return out;
}

/** `acc >>= m` element-wise, logical (unsigned) shift, 0 <= m < bits. @returns `acc` */
export function ringShiftRightInto(bits: RingBits, acc: Uint32Array, m: number): Uint32Array {
  if (m === 0) return acc;
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! >>> m;
    return acc;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]!;
    const hi = acc[i + 1]!;
    if (m < 32) {
      acc[i] = (lo >>> m) | (hi << (32 - m));
      acc[i + 1] = hi >>> m;
    } else {
      acc[i] = hi >>> (m - 32);
      acc[i + 1] = 0;
    }
  }
  return acc;
}

/**
 * Splits every element into its top bit (returned as a ring vector of 0s and 1s) and the
 * remaining bits - 1 low bits (left in `acc`). @returns the top bits
 */
export function ringSplitTopBitInto(bits: RingBits, acc: Uint32Array): Uint32Array {
  const top = new Uint32Array(acc.length);
  const step = wordsPerElement(bits);
  for (let i = step - 1; i < acc.length; i += step) {
    top[i - step + 1] = acc[i]! >>> 31;
    acc[i] = acc[i]! & 0x7fffffff;
  }
  return top;
}
