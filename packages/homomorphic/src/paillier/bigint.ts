/**
 * BigInt arithmetic for Paillier: byte codecs, uniform sampling from `crypto.getRandomValues`
 * (through core's `randomBytes`), sliding-window and fixed-base modular exponentiation, inverses
 * and the Chinese remainder theorem.
 *
 * Native BigInt `%` is the fastest modular reduction available in JavaScript engines today
 * (measured here against Barrett and Montgomery written in BigInt, which both lose because every
 * BigInt multiplication is a full one), so the work goes into doing fewer of them: windows for
 * variable bases, precomputed tables for fixed bases, CRT for the key holder.
 * @module
 */
import { bytesToHex, hexToBytes, randomBytes, UnseenError } from '@unseen/core';

/** Number of bits of a non-negative bigint (0 for 0). */
export function bitLength(x: bigint): number {
  if (x < 0n) x = -x;
  if (x === 0n) return 0;
  // toString(16) is linear and exact; refine the last digit.
  const hex = x.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0]!, 16)));
}

/** Big-endian unsigned bytes of `x`, left-padded to `length` bytes. */
export function bigintToBytes(x: bigint, length: number): Uint8Array {
  if (x < 0n) throw new UnseenError('ERR_INVALID_ARGUMENT', 'bigintToBytes: negative value');
  const hex = x.toString(16);
  if (hex.length > 2 * length) {
    throw new UnseenError('ERR_OVERFLOW', `bigintToBytes: value needs more than ${length} bytes`);
  }
  return hexToBytes(hex.padStart(2 * length, '0'));
}

/** The unsigned big-endian integer in `bytes` (0 for an empty array). */
export function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytesToHex(bytes)}`);
}

/** A uniform integer with exactly `bits` random bits (top bit not forced): `[0, 2^bits)`. */
export function randomBits(bits: number): bigint {
  const bytes = randomBytes(Math.ceil(bits / 8));
  const excess = bytes.length * 8 - bits;
  if (excess > 0) bytes[0]! &= 0xff >> excess;
  return bytesToBigint(bytes);
}

/** A uniform integer in `[0, bound)`, by rejection sampling (no modulo bias). */
export function randomBelow(bound: bigint): bigint {
  if (bound <= 0n) throw new UnseenError('ERR_INVALID_ARGUMENT', 'randomBelow: bound must be > 0');
  const bits = bitLength(bound - 1n);
  if (bits === 0) return 0n;
  for (;;) {
    const r = randomBits(bits);
    if (r < bound) return r;
  }
}

/** A uniform unit of Z_n: `r` in `[1, n)` with `gcd(r, n) = 1`. */
export function randomUnit(n: bigint): bigint {
  for (;;) {
    const r = randomBelow(n);
    if (r !== 0n && gcd(r, n) === 1n) return r;
  }
}

/** Greatest common divisor (Euclid on BigInt). */
export function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** `a mod m` in `[0, m)` for any sign of `a`. */
export function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/**
 * The inverse of `a` modulo `m` (extended Euclid).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` when `gcd(a, m) != 1`
 */
export function modInverse(a: bigint, m: bigint): bigint {
  let r0 = mod(a, m);
  let r1 = m;
  let s0 = 1n;
  let s1 = 0n;
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new UnseenError('ERR_INVALID_ARGUMENT', 'modInverse: not invertible');
  return mod(s0, m);
}

function windowBits(expBits: number): number {
  if (expBits <= 32) return 2;
  if (expBits <= 160) return 4;
  if (expBits <= 768) return 5;
  return 6;
}

/**
 * `base^exp mod m` for `exp >= 0` by left-to-right sliding windows (HAC algorithm 14.85): about
 * one squaring per exponent bit and one multiplication per window of `w` bits, against one per
 * set bit for square-and-multiply.
 */
export function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  if (m === 1n) return 0n;
  if (exp < 0n) return modPow(modInverse(base, m), -exp, m);
  base = mod(base, m);
  if (exp === 0n) return 1n;
  const bits = exp.toString(2);
  const w = windowBits(bits.length);
  // Odd powers base^1, base^3, ..., base^(2^w - 1).
  const table: bigint[] = new Array(1 << (w - 1));
  table[0] = base;
  const sq = (base * base) % m;
  for (let i = 1; i < table.length; i++) table[i] = (table[i - 1]! * sq) % m;
  let acc = 1n;
  let started = false;
  let i = 0;
  const len = bits.length;
  while (i < len) {
    if (bits.charCodeAt(i) === 48) {
      if (started) acc = (acc * acc) % m;
      i++;
      continue;
    }
    // The longest window [i, j) of at most w bits that ends in a 1.
    let j = Math.min(i + w, len);
    while (bits.charCodeAt(j - 1) === 48) j--;
    let value = 0;
    for (let k = i; k < j; k++) {
      value = (value << 1) | (bits.charCodeAt(k) - 48);
      if (started) acc = (acc * acc) % m;
    }
    acc = started ? (acc * table[value >> 1]!) % m : table[value >> 1]!;
    started = true;
    i = j;
  }
  return acc;
}

/**
 * Precomputed powers of one fixed base for exponents up to `maxBits` bits: `g^(d * 2^(w*i))` for
 * every window position `i` and digit `d`, so an exponentiation is one multiplication per window
 * and no squaring (the fixed-base windowing of HAC section 14.6.3, "fixed-base windowing").
 */
export class FixedBaseTable {
  readonly modulus: bigint;
  readonly maxBits: number;
  readonly #w: number;
  readonly #table: bigint[][];

  constructor(base: bigint, modulus: bigint, maxBits: number, windowBits = 5) {
    this.modulus = modulus;
    this.maxBits = maxBits;
    this.#w = windowBits;
    const windows = Math.ceil(maxBits / windowBits);
    const digits = 1 << windowBits;
    this.#table = [];
    let g = mod(base, modulus);
    for (let i = 0; i < windows; i++) {
      const row: bigint[] = new Array(digits);
      row[0] = 1n;
      row[1] = g;
      for (let d = 2; d < digits; d++) row[d] = (row[d - 1]! * g) % modulus;
      this.#table.push(row);
      g = (row[digits - 1]! * g) % modulus; // g^(2^w)
    }
  }

  /** `base^exp mod modulus` for `0 <= exp < 2^maxBits`. */
  pow(exp: bigint): bigint {
    if (exp < 0n || bitLength(exp) > this.maxBits) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'FixedBaseTable: exponent out of range');
    }
    const m = this.modulus;
    const w = this.#w;
    const bits = exp.toString(2);
    let acc = 1n;
    let first = true;
    // Window i covers exponent bits [w*i, w*(i+1)), read from the end of the binary string.
    for (let i = 0, end = bits.length; end > 0; i++, end -= w) {
      let d = 0;
      for (let k = Math.max(0, end - w); k < end; k++) d = (d << 1) | (bits.charCodeAt(k) - 48);
      if (d === 0) continue;
      const t = this.#table[i]![d]!;
      acc = first ? t : (acc * t) % m;
      first = false;
    }
    return acc;
  }
}

/**
 * Garner's CRT for two coprime moduli: the `x` in `[0, p*q)` with `x = a mod p`, `x = b mod q`,
 * given `qInvP = q^-1 mod p`.
 */
export function crt2(a: bigint, p: bigint, b: bigint, q: bigint, qInvP: bigint): bigint {
  // x = b + q * ((a - b) * q^-1 mod p)
  return b + q * mod((a - b) * qInvP, p);
}
