/**
 * The prime field GF(p) for p = 2^31 - 1 (a Mersenne prime), on plain numbers and Uint32Array
 * vectors, with no BigInt: every element is below 2^31, sums fit 32 bits, and a product is
 * formed from 16-bit halves so that every partial product is exact in a double (< 2^53), then
 * reduced with the Mersenne identity 2^31 = 1 (mod p).
 *
 * Signed integers map to the field as v mod p, and back through the centred range
 * (-(p-1)/2 .. (p-1)/2): {@link encodeSignedField} / {@link decodeSignedField}.
 * @module
 */
import { aint, fillRandom, UnseenError } from '@unseen/core';

/** The modulus p = 2^31 - 1. */
export const P31 = 2_147_483_647;
/** Largest magnitude a signed value may have to survive the centred decoding: (p - 1) / 2. */
export const P31_HALF = (P31 - 1) / 2;

const TWO_15 = 32_768;
const TWO_16 = 65_536;
const TWO_31 = 2_147_483_648;

/** a + b mod p, for a, b in [0, p). */
export function fpAdd(a: number, b: number): number {
  const s = a + b;
  return s >= P31 ? s - P31 : s;
}

/** a - b mod p, for a, b in [0, p). */
export function fpSub(a: number, b: number): number {
  const d = a - b;
  return d < 0 ? d + P31 : d;
}

/** -a mod p. */
export function fpNeg(a: number): number {
  return a === 0 ? 0 : P31 - a;
}

/** a * b mod p, for a, b in [0, p), without BigInt. */
export function fpMul(a: number, b: number): number {
  // a = ah * 2^16 + al with ah < 2^15, al < 2^16.
  const al = a & 0xffff;
  const ah = a >>> 16;
  // ah * b < 2^46 is exact; write it th * 2^15 + tl, then ah * b * 2^16 = th * 2^31 + tl * 2^16
  // = th + tl * 2^16 (mod p), because 2^31 = 1 (mod p).
  const t = ah * b;
  const th = Math.floor(t / TWO_15);
  const tl = t - th * TWO_15;
  // s < 2^47 + 2^31 + 2^31 < 2^48: exact. Fold once more: s = sh * 2^31 + sl = sh + sl (mod p).
  let s = al * b + th + tl * TWO_16;
  const sh = Math.floor(s / TWO_31);
  s = s - sh * TWO_31 + sh; // < 2^31 + 2^17, so one conditional subtraction finishes
  return s >= P31 ? s - P31 : s;
}

/** a^e mod p for a safe-integer exponent e >= 0 (square-and-multiply). */
export function fpPow(a: number, e: number): number {
  let result = 1;
  let base = a;
  let k = e;
  while (k > 0) {
    if (k % 2 === 1) result = fpMul(result, base);
    base = fpMul(base, base);
    k = Math.floor(k / 2);
  }
  return result;
}

/**
 * a^-1 mod p by Fermat (a^(p-2)).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for a = 0 (mod p)
 */
export function fpInv(a: number): number {
  if (a % P31 === 0) throw new UnseenError('ERR_INVALID_ARGUMENT', 'fpInv: 0 has no inverse');
  return fpPow(a, P31 - 2);
}

/**
 * Checks that `value` is a Uint32Array of canonical field elements (each < p).
 * @returns `value`
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function afieldVector(value: unknown, title = 'field vector'): Uint32Array {
  if (!(value instanceof Uint32Array)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: expected a Uint32Array`);
  }
  for (let i = 0; i < value.length; i++) {
    if (value[i]! >= P31) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `${title}: element ${i} is not below p = 2^31 - 1`,
        { details: { index: i } },
      );
    }
  }
  return value;
}

/** Checks that `value` is a field element (an integer in [0, p)). @returns `value` */
export function afieldElement(value: unknown, title = 'field element'): number {
  return aint(value, title, 0, P31 - 1);
}

/**
 * Fills `out` with independent uniform field elements: 31-bit draws from
 * `crypto.getRandomValues`, rejecting the single value p (probability 2^-31 per draw).
 * @returns `out`
 */
export function randomFieldElements(out: Uint32Array): Uint32Array {
  fillRandom(out);
  for (let i = 0; i < out.length; i++) {
    let v = out[i]! & 0x7fffffff;
    while (v === P31) v = fillRandom(new Uint32Array(1))[0]! & 0x7fffffff;
    out[i] = v;
  }
  return out;
}

/**
 * Maps signed integers in [-(p-1)/2, (p-1)/2] to field elements (v mod p).
 * @throws UnseenError `ERR_OVERFLOW` for a value outside the range or not an integer
 */
export function encodeSignedField(values: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v > P31_HALF || v < -P31_HALF) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `encodeSignedField: value at index ${i} is not an integer in [-(p-1)/2, (p-1)/2]`,
        { details: { index: i } },
      );
    }
    out[i] = v < 0 ? v + P31 : v;
  }
  return out;
}

/** Maps field elements back to signed integers in the centred range [-(p-1)/2, (p-1)/2]. */
export function decodeSignedField(values: Uint32Array): Float64Array {
  afieldVector(values, 'decodeSignedField input');
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = v > P31_HALF ? v - P31 : v;
  }
  return out;
}
