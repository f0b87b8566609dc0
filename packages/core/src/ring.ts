/**
 * Vectors over the rings Z_2^32 and Z_2^64 in typed arrays, the arithmetic of additive masking
 * and additive secret sharing. An element of Z_2^32 is one Uint32 word; an element of Z_2^64 is
 * two words, low then high (little-endian limb order), so a vector of `n` elements is a
 * `Uint32Array` of `n` or `2n` words. No BigInt anywhere.
 * @module
 */
import { aoneOf, UnseenError } from './errors.js';

/** The ring size in bits: Z_2^32 or Z_2^64. */
export type RingBits = 32 | 64;

/** Checks `bits` and returns it. */
export function aringBits(bits: unknown, title = 'bits'): RingBits {
  return aoneOf(bits, [32, 64] as const, title);
}

/** Words per element: 1 for Z_2^32, 2 for Z_2^64. */
export function wordsPerElement(bits: RingBits): 1 | 2 {
  return bits === 32 ? 1 : 2;
}

/** A zero vector of `length` elements. */
export function ringZeros(bits: RingBits, length: number): Uint32Array {
  return new Uint32Array(length * wordsPerElement(bits));
}

function sameLength(a: Uint32Array, b: Uint32Array, op: string): void {
  if (a.length !== b.length) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${op}: vectors of ${a.length} and ${b.length} words`,
      {
        details: { left: a.length, right: b.length },
      },
    );
  }
}

/** `acc += x` element-wise, modulo 2^bits. @returns `acc` */
export function ringAddInto(bits: RingBits, acc: Uint32Array, x: Uint32Array): Uint32Array {
  sameLength(acc, x, 'ringAddInto');
  if (bits === 32) {
    // A Uint32Array store reduces modulo 2^32.
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + x[i]!;
    return acc;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! + x[i]!;
    acc[i] = lo;
    acc[i + 1] = acc[i + 1]! + x[i + 1]! + (lo > 0xffffffff ? 1 : 0);
  }
  return acc;
}

/** `acc -= x` element-wise, modulo 2^bits. @returns `acc` */
export function ringSubInto(bits: RingBits, acc: Uint32Array, x: Uint32Array): Uint32Array {
  sameLength(acc, x, 'ringSubInto');
  if (bits === 32) {
    for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! - x[i]!;
    return acc;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! - x[i]!;
    acc[i] = lo;
    acc[i + 1] = acc[i + 1]! - x[i + 1]! - (lo < 0 ? 1 : 0);
  }
  return acc;
}

/** `acc = -acc` element-wise, modulo 2^bits. @returns `acc` */
export function ringNegInto(bits: RingBits, acc: Uint32Array): Uint32Array {
  const zero = new Uint32Array(acc.length);
  ringSubInto(bits, zero, acc);
  acc.set(zero);
  return acc;
}

/** `a + b` in a new vector. */
export function ringAdd(bits: RingBits, a: Uint32Array, b: Uint32Array): Uint32Array {
  return ringAddInto(bits, a.slice(), b);
}

/** `a - b` in a new vector. */
export function ringSub(bits: RingBits, a: Uint32Array, b: Uint32Array): Uint32Array {
  return ringSubInto(bits, a.slice(), b);
}
