import {
  decodeRingIntegers,
  encodeRingIntegers,
  ringAddConstInto,
  ringMulConstInto,
  ringMulInto,
  ringSum,
} from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

function toBig(bits: 32 | 64, v: Uint32Array): bigint[] {
  if (bits === 32) return Array.from(v, BigInt);
  const out: bigint[] = [];
  for (let i = 0; i < v.length; i += 2) out.push(BigInt(v[i]!) + (BigInt(v[i + 1]!) << 32n));
  return out;
}
const word = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 1, 0xffff, 0x10000, 0xffffffff),
);

describe('ring multiplication and constants match BigInt modulo 2^bits', () => {
  for (const bits of [32, 64] as const) {
    const mod = 1n << BigInt(bits);
    const w = bits / 32;
    const vector = fc
      .array(word, { minLength: 0, maxLength: 12 * w })
      .map((a) => Uint32Array.from(a.slice(0, a.length - (a.length % w))));
    it(`Z_2^${bits}: mul, mulConst, addConst, sum`, () => {
      fc.assert(
        fc.property(vector, fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (a, c) => {
          const b = a.map((x) => (x * 2654435761) >>> 0);
          const A = toBig(bits, a);
          const B = toBig(bits, b);
          const C = ((c % mod) + mod) % mod;
          expect(toBig(bits, ringMulInto(bits, a.slice(), b))).toEqual(
            A.map((x, i) => (x * B[i]!) % mod),
          );
          expect(toBig(bits, ringMulConstInto(bits, a.slice(), c))).toEqual(
            A.map((x) => (x * C) % mod),
          );
          expect(toBig(bits, ringAddConstInto(bits, a.slice(), c))).toEqual(
            A.map((x) => (x + C) % mod),
          );
          expect(toBig(bits, ringSum(bits, a))).toEqual([A.reduce((s, x) => s + x, 0n) % mod]);
        }),
        { numRuns: 500 },
      );
    });
  }

  it('integers round-trip in two complement; too large ones are refused', () => {
    expect(
      decodeRingIntegers(32, encodeRingIntegers(32, [0, -1, 2 ** 31 - 1, -(2 ** 31)])),
    ).toEqual([0n, -1n, 2n ** 31n - 1n, -(2n ** 31n)]);
    expect(
      decodeRingIntegers(64, encodeRingIntegers(64, [-5, 2n ** 63n - 1n, -(2n ** 63n)])),
    ).toEqual([-5n, 2n ** 63n - 1n, -(2n ** 63n)]);
    expect(codeOf(() => encodeRingIntegers(32, [2 ** 31]))).toBe('ERR_OVERFLOW');
    expect(codeOf(() => encodeRingIntegers(32, [0.5]))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => ringMulConstInto(32, new Uint32Array(1), 2 ** 60))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => ringMulInto(64, new Uint32Array(2), new Uint32Array(4)))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
  });
});
