/**
 * Arithmetic in GF(2^255 - 19) for the batched hash-to-curve of the X25519 suite: BigInt values
 * kept below 2^257 between operations and folded with 2^255 = 19 (mod p) instead of a division,
 * the RFC 7748 / ref10 exponentiation chain for x^((p-5)/8), and Montgomery's simultaneous
 * inversion. Every result is cross-checked against @noble/curves in the tests.
 *
 * Not constant time: the values are hashes of the caller's own set elements, and the protocol's
 * secrets (the scalars) never pass through this module.
 * @module
 */

/** p = 2^255 - 19 */
export const P = (1n << 255n) - 19n;
const P2 = 2n * P;
const MASK = (1n << 255n) - 1n;

/**
 * a * b mod p, for a, b < 2^257. Two folds of 2^255 = 19: the result is below 2^255 + 2^15, so
 * below 2p (not canonical: use {@link canon} before comparing or encoding).
 */
export function mul(a: bigint, b: bigint): bigint {
  let t = a * b;
  t = (t & MASK) + 19n * (t >> 255n);
  return (t & MASK) + 19n * (t >> 255n);
}

/** a^2 mod p (same bounds as {@link mul}). */
export function sqr(a: bigint): bigint {
  let t = a * a;
  t = (t & MASK) + 19n * (t >> 255n);
  return (t & MASK) + 19n * (t >> 255n);
}

/** a^(2^n) mod p: n squarings. */
export function sqrN(a: bigint, n: number): bigint {
  let t = a;
  for (let i = 0; i < n; i++) {
    t = t * t;
    t = (t & MASK) + 19n * (t >> 255n);
    t = (t & MASK) + 19n * (t >> 255n);
  }
  return t;
}

/** a + b, below 2^257 for inputs below 2^256. */
export function add(a: bigint, b: bigint): bigint {
  return a + b;
}

/** a - b mod p for a, b < 2p: non-negative and below 4p. */
export function sub(a: bigint, b: bigint): bigint {
  return a - b + P2;
}

/** The canonical representative in [0, p) of a non-negative value. */
export function canon(a: bigint): bigint {
  return a < P ? a : a % P;
}

/** -a mod p, canonical. */
export function neg(a: bigint): bigint {
  const c = canon(a);
  return c === 0n ? 0n : P - c;
}

/** x^((p - 5) / 8) = x^(2^252 - 3), by the chain of ref10's fe_pow22523 (250 squarings, 11 multiplications). */
export function pow22523(x: bigint): bigint {
  const x2 = sqr(x); // x^2
  const x9 = mul(x, sqrN(x2, 2)); // x^9
  const x11 = mul(x2, x9); // x^11
  const x_5_0 = mul(x9, sqr(x11)); // x^31 = x^(2^5 - 1)
  const x_10_0 = mul(sqrN(x_5_0, 5), x_5_0); // x^(2^10 - 1)
  const x_20_0 = mul(sqrN(x_10_0, 10), x_10_0); // x^(2^20 - 1)
  const x_40_0 = mul(sqrN(x_20_0, 20), x_20_0); // x^(2^40 - 1)
  const x_50_0 = mul(sqrN(x_40_0, 10), x_10_0); // x^(2^50 - 1)
  const x_100_0 = mul(sqrN(x_50_0, 50), x_50_0); // x^(2^100 - 1)
  const x_200_0 = mul(sqrN(x_100_0, 100), x_100_0); // x^(2^200 - 1)
  const x_250_0 = mul(sqrN(x_200_0, 50), x_50_0); // x^(2^250 - 1)
  return mul(sqrN(x_250_0, 2), x); // x^(2^252 - 4 + 1)
}

/** x^(p - 2) = x^-1 mod p (Fermat), canonical; 0 maps to 0. */
export function invert(x: bigint): bigint {
  // p - 2 = 2^255 - 21 = (2^252 - 3) * 8 + 3: x^(p-2) = (x^(2^252-3))^8 * x^3
  const t = pow22523(x);
  return canon(mul(sqrN(t, 3), mul(sqr(x), x)));
}

/**
 * Montgomery's trick: replaces every non-zero `values[i]` by its inverse with one field
 * inversion and 3(n - 1) multiplications. Zeros stay zero.
 */
export function batchInvert(values: bigint[]): void {
  const n = values.length;
  const prefix: bigint[] = new Array(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    const v = values[i]!;
    if (canon(v) !== 0n) acc = mul(acc, v);
  }
  let inv = invert(acc);
  for (let i = n - 1; i >= 0; i--) {
    const v = values[i]!;
    if (canon(v) === 0n) {
      values[i] = 0n;
      continue;
    }
    values[i] = canon(mul(inv, prefix[i]!));
    inv = mul(inv, v);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Little-endian 32-byte encoding of a canonical field element into `out` at `offset`. */
export function encodeLE(x: bigint, out: Uint8Array, offset: number): void {
  const h = x.toString(16).padStart(64, '0');
  for (let i = 0; i < 32; i++)
    out[offset + i] = Number.parseInt(h.slice(62 - 2 * i, 64 - 2 * i), 16);
}

/** The integer of 32 little-endian bytes (no reduction). */
export function decodeLE(bytes: Uint8Array, offset = 0): bigint {
  let h = '0x';
  for (let i = 31; i >= 0; i--) h += HEX[bytes[offset + i]!];
  return BigInt(h);
}
