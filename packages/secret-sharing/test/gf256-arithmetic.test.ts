import { GF256_POLY, gfAdd, gfDiv, gfInv, gfMul, xtimeWords } from '@unseen/secret-sharing';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

/**
 * The bitwise reference: carry-less (XOR) schoolbook product of two polynomials over GF(2),
 * then long division by x^8 + x^4 + x^3 + x + 1, written independently of the implementation.
 */
function referenceMul(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 8; i++) if ((b >> i) & 1) product ^= a << i;
  for (let deg = 14; deg >= 8; deg--) if ((product >> deg) & 1) product ^= GF256_POLY << (deg - 8);
  return product;
}

describe('GF(2^8) arithmetic', () => {
  it('multiplication matches the bitwise reference for all 65,536 pairs', () => {
    let mismatches = 0;
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b++) if (gfMul(a, b) !== referenceMul(a, b)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('matches the FIPS 197 worked examples', () => {
    // FIPS 197, section 4.2: {57} * {83} = {c1}; section 4.2.1: {57} * {13} = {fe}.
    expect(gfMul(0x57, 0x83)).toBe(0xc1);
    expect(gfMul(0x57, 0x13)).toBe(0xfe);
    expect(gfAdd(0x57, 0x83)).toBe(0xd4); // section 4.1
  });

  it('every non-zero element has an inverse, and division undoes multiplication', () => {
    for (let a = 1; a < 256; a++) {
      expect(gfMul(a, gfInv(a))).toBe(1);
      for (let b = 1; b < 256; b += 17) expect(gfDiv(gfMul(a, b), b)).toBe(a);
    }
    expect(codeOf(() => gfInv(0))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => gfDiv(3, 0))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => gfMul(256, 1))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => gfMul(1.5, 1))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('packed-word doubling (SWAR) doubles each of the four bytes, for every byte value', () => {
    for (let v = 0; v < 256; v++) {
      // v in each lane, and v beside lanes with and without their top bit set
      for (const word of [v * 0x01010101, (v << 24) | 0x00ff80, (v << 8) | 0x7f0000ff]) {
        const bytes = new Uint8Array(Uint32Array.of(word >>> 0).buffer);
        const doubled = new Uint8Array(Uint32Array.of(xtimeWords(word >>> 0)).buffer);
        expect(Array.from(doubled)).toEqual(Array.from(bytes, (b) => referenceMul(b, 2)));
      }
    }
  });
});
