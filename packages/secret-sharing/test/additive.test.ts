import { randomBytes } from '@unseen/core';
import { additive, decodeRingIntegers, encodeRingIntegers } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareCritical, chiSquareUniform, codeOf, codeOfAsync } from './helpers.js';

describe('additive sharing over Z_2^32 and Z_2^64', () => {
  for (const bits of [32, 64] as const) {
    const mod = 1n << BigInt(bits);
    const toInts = (v: Uint32Array) =>
      decodeRingIntegers(bits, v).map((x) => ((x % mod) + mod) % mod);

    it(`Z_2^${bits}: shares sum to the vector; linearity (property)`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: -3e8, max: 3e8 }), { minLength: 1, maxLength: 20 }),
          fc.integer({ min: 2, max: 6 }),
          fc.integer({ min: -1000, max: 1000 }),
          (xs, n, c) => {
            const ys = xs.map((x) => 7 * x - 3);
            const x = encodeRingIntegers(bits, xs);
            const y = encodeRingIntegers(bits, ys);
            const sx = additive.share(x, { parties: n, bits });
            const sy = additive.share(y, { parties: n, bits });
            expect(sx.length).toBe(n);
            expect(additive.reveal(sx, bits)).toEqual(x);
            const expect1 = (got: Uint32Array[], want: bigint[]) =>
              expect(toInts(additive.reveal(got, bits))).toEqual(
                want.map((v) => ((v % mod) + mod) % mod),
              );
            const X = xs.map(BigInt);
            const Y = ys.map(BigInt);
            const C = BigInt(c);
            expect1(
              sx.map((s, i) => additive.add(s, sy[i]!, bits)),
              X.map((v, i) => v + Y[i]!),
            );
            expect1(
              sx.map((s, i) => additive.sub(s, sy[i]!, bits)),
              X.map((v, i) => v - Y[i]!),
            );
            expect1(
              sx.map((s) => additive.neg(s, bits)),
              X.map((v) => -v),
            );
            expect1(
              sx.map((s) => additive.mulConst(s, c, bits)),
              X.map((v) => v * C),
            );
            expect1(
              sx.map((s, i) => additive.addConst(s, c, i, bits)),
              X.map((v) => v + C),
            );
          },
        ),
        { numRuns: 100 },
      );
    });

    it(`Z_2^${bits}: seeded shares expand to the same sharing`, async () => {
      const x = encodeRingIntegers(bits, [1, -2, 3, 2 ** 20]);
      const { seeds, last } = await additive.shareWithSeeds(x, { parties: 4, bits });
      expect(seeds).toHaveLength(3);
      const expanded = await Promise.all(seeds.map((s) => additive.expandSeed(s, 4, bits)));
      expect(additive.reveal([...expanded, last], bits)).toEqual(x);
    });
  }

  it('any n - 1 shares are uniform whatever the vector (chi-square over the low byte)', () => {
    const critical = chiSquareCritical(255, 1e-6);
    for (const value of [0, 0xffffffff, 0x12345678]) {
      const shares = additive.share(new Uint32Array(256 * 200).fill(value), { parties: 3 });
      for (const s of [shares[1]!, shares[2]!]) {
        const counts = new Float64Array(256);
        for (const w of s) counts[w & 0xff]!++;
        expect(chiSquareUniform(counts)).toBeLessThan(critical);
      }
    }
  });

  it('bad input gives typed errors', async () => {
    const x = new Uint32Array(4);
    expect(codeOf(() => additive.share(x, { parties: 1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => additive.share(new Uint32Array(3), { parties: 2, bits: 64 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => additive.share(x, { parties: 2, bits: 16 as 32 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => additive.reveal([]))).toBe('ERR_INSUFFICIENT_SHARES');
    expect(codeOf(() => additive.reveal([x, new Uint32Array(3)]))).toBe('ERR_PARAMETER_MISMATCH');
    expect(codeOf(() => additive.add(x, new Uint32Array(3)))).toBe('ERR_PARAMETER_MISMATCH');
    expect(await codeOfAsync(() => additive.expandSeed(randomBytes(15), 4))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });
});
