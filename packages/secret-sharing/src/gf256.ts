/**
 * Arithmetic in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b), the field of
 * byte-wise Shamir sharing (the same field as HashiCorp Vault's and `shamir-secret-sharing`).
 *
 * Everything here runs in time independent of secret values: no table is indexed by a secret,
 * no branch depends on one. Multiplication is the shift-and-add ("Russian peasant") method on
 * masks; {@link xtimeWords} doubles four packed bytes of a 32-bit word at once (SWAR), which is
 * what the bulk Shamir loops are built from. Branches only ever depend on public constants
 * (share x-coordinates, Lagrange coefficients).
 * @module
 */
import { UnseenError } from '@unseen/core';

/** The reduction polynomial x^8 + x^4 + x^3 + x + 1. */
export const GF256_POLY = 0x11b;

function abyte(a: number, title: string): number {
  if (!Number.isInteger(a) || a < 0 || a > 255) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: expected a byte, got ${String(a)}`);
  }
  return a;
}

/** a * x mod 0x11b for one byte, without a secret-dependent branch. */
function xtime(a: number): number {
  // -(a >> 7) is all ones when the top bit is set: reduce by 0x1b (x^8 = x^4 + x^3 + x + 1).
  return ((a << 1) ^ (-(a >> 7) & 0x1b)) & 0xff;
}

/** Sum (and difference) in GF(2^8): XOR. */
export function gfAdd(a: number, b: number): number {
  return abyte(a, 'a') ^ abyte(b, 'b');
}

/** Product in GF(2^8), constant time: eight conditional (masked) additions of a * x^i. */
export function gfMul(a: number, b: number): number {
  return _mul(abyte(a, 'a'), abyte(b, 'b'));
}

/** {@link gfMul} without argument checks. */
function _mul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) {
    r ^= -(b & 1) & a; // add a * x^i when bit i of b is set
    b >>= 1;
    a = xtime(a);
  }
  return r;
}

/**
 * Multiplicative inverse in GF(2^8): a^254 (a^(2^8 - 2), Fermat), constant time.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for 0, which has no inverse
 */
export function gfInv(a: number): number {
  if (abyte(a, 'a') === 0) throw new UnseenError('ERR_INVALID_ARGUMENT', 'gfInv: 0 has no inverse');
  return _inv(a);
}

/** {@link gfInv} without checks (0 maps to 0). */
function _inv(a: number): number {
  // 254 = 11111110b: square-and-multiply over its bits, high to low.
  let r = 1;
  for (let i = 7; i >= 0; i--) {
    r = _mul(r, r);
    if (((254 >> i) & 1) === 1) r = _mul(r, a); // public exponent: the branch leaks nothing
  }
  return r;
}

/**
 * Quotient a / b in GF(2^8).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` when b is 0
 */
export function gfDiv(a: number, b: number): number {
  return gfMul(a, gfInv(b));
}

/** Four packed bytes each multiplied by x (SWAR doubling), for a 32-bit word. */
export function xtimeWords(w: number): number {
  // Shift each byte left within its lane, then reduce the lanes whose top bit fell out:
  // (w >>> 7) & 0x01010101 has a 1 in each such lane, and 0x1b * 1 never crosses a lane.
  return ((w & 0x7f7f7f7f) << 1) ^ Math.imul((w >>> 7) & 0x01010101, 0x1b);
}

// Log and exp tables to the generator 3 (x + 1), built at load. For PUBLIC values only (share
// x-coordinates, Lagrange coefficients): a table lookup indexed by a secret would leak it through
// cache timing, which is why the secret-dependent code above uses no tables.
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
for (let i = 0, v = 1; i < 255; i++) {
  EXP[i] = v;
  EXP[i + 255] = v;
  LOG[v] = i;
  v ^= xtime(v); // v * 3 = v * x + v
}

/** Product of two public bytes by table lookup (not constant time). */
export function _mulPublic(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

/** Inverse of a public non-zero byte by table lookup (not constant time). */
export function _invPublic(a: number): number {
  return EXP[255 - LOG[a]!]!;
}
