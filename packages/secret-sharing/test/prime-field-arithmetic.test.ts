import {
  decodeSignedField,
  encodeSignedField,
  fpAdd,
  fpInv,
  fpMul,
  fpNeg,
  fpPow,
  fpSub,
  P31,
  randomFieldElements,
} from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareCritical, chiSquareUniform, codeOf } from './helpers.js';

const P = BigInt(P31);
const element = fc.oneof(
  fc.integer({ min: 0, max: P31 - 1 }),
  fc.constantFrom(0, 1, 2, 65_535, 65_536, 2 ** 30, P31 - 2, P31 - 1),
);

describe('GF(2^31 - 1) arithmetic matches BigInt', () => {
  it('add, sub, neg, mul (property, with edge values)', () => {
    fc.assert(
      fc.property(element, element, (a, b) => {
        const A = BigInt(a);
        const B = BigInt(b);
        expect(BigInt(fpAdd(a, b))).toBe((A + B) % P);
        expect(BigInt(fpSub(a, b))).toBe((((A - B) % P) + P) % P);
        expect(BigInt(fpNeg(a))).toBe((P - A) % P);
        expect(BigInt(fpMul(a, b))).toBe((A * B) % P);
      }),
      { numRuns: 20_000 },
    );
  });

  it('pow and inverse', () => {
    fc.assert(
      fc.property(element, fc.integer({ min: 0, max: 2 ** 40 }), (a, e) => {
        let expected = 1n;
        let base = BigInt(a);
        let k = BigInt(e);
        while (k > 0n) {
          if (k & 1n) expected = (expected * base) % P;
          base = (base * base) % P;
          k >>= 1n;
        }
        expect(BigInt(fpPow(a, e))).toBe(expected);
        if (a !== 0) expect(fpMul(a, fpInv(a))).toBe(1);
      }),
      { numRuns: 2_000 },
    );
    expect(codeOf(() => fpInv(0))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('random elements are canonical and uniform (chi-square over 256 buckets)', () => {
    const v = randomFieldElements(new Uint32Array(256 * 400));
    const counts = new Float64Array(256);
    for (const x of v) {
      expect(x).toBeLessThan(P31);
      counts[Math.floor((x * 256) / P31)]!++;
    }
    expect(chiSquareUniform(counts)).toBeLessThan(chiSquareCritical(255, 1e-6));
  });

  it('signed values round-trip through the centred range, and out-of-range values are refused', () => {
    const values = [0, 1, -1, (P31 - 1) / 2, -(P31 - 1) / 2, 123_456, -654_321];
    expect(Array.from(decodeSignedField(encodeSignedField(values)))).toEqual(values);
    expect(codeOf(() => encodeSignedField([(P31 + 1) / 2]))).toBe('ERR_OVERFLOW');
    expect(codeOf(() => encodeSignedField([0.5]))).toBe('ERR_OVERFLOW');
    expect(codeOf(() => decodeSignedField(Uint32Array.of(P31)))).toBe('ERR_INVALID_ARGUMENT');
  });
});
