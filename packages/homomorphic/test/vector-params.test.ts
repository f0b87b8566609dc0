// Parameter choice: ranges, limits reported, 128-bit bounds respected.
import { isUnseenError } from '@unseen/core';
import { ckksNoise, freshCoefficientBound, planVector, TC128_MAX_BITS } from '@unseen/homomorphic';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isUnseenError(e)).toBe(true);
    return (e as { code: string }).code;
  }
  return 'none';
}

describe('planVector', () => {
  it('BFV: t > 2Bk and q0 leaves noise room; totals within tc128', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 1n << 40n }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.integer({ min: 1, max: 1 << 20 }),
        (bound, k, length) => {
          let plan: ReturnType<typeof planVector>;
          try {
            plan = planVector({ scheme: 'bfv', length, maxContributions: k, valueBound: bound });
          } catch (e) {
            expect(isUnseenError(e, 'ERR_OVERFLOW')).toBe(true);
            expect((2n * bound * BigInt(k)).toString(2).length + 2).toBeGreaterThan(60);
            return;
          }
          expect(2n ** BigInt(plan.plainBits - 1)).toBeGreaterThan(2n * bound * BigInt(k) + 1n);
          const dataBits = plan.primeBits.slice(0, plan.levelPrimes).reduce((a, b) => a + b, 0);
          expect(dataBits).toBeGreaterThanOrEqual(plan.plainBits + 10 + Math.log2(k));
          expect(plan.primeBits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(
            TC128_MAX_BITS[plan.polyModulusDegree]!,
          );
          expect(plan.primeBits.every((b) => b <= 60)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('CKKS: the stated error bound meets the requested precision and sums cannot wrap', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-3, max: 1e6, noNaN: true }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.double({ min: 1e-12, max: 1e-1, noNaN: true }),
        (bound, k, precision) => {
          let plan: ReturnType<typeof planVector>;
          try {
            plan = planVector({
              scheme: 'ckks',
              length: 10,
              maxContributions: k,
              valueBound: bound,
              precision,
            });
          } catch (e) {
            expect(isUnseenError(e, 'ERR_OVERFLOW')).toBe(true);
            return;
          }
          expect(plan.errorBound).toBeLessThanOrEqual(precision);
          const dataBits = plan.primeBits.slice(0, plan.levelPrimes).reduce((a, b) => a + b, 0);
          expect(2 ** dataBits).toBeGreaterThan(2 * 2 ** plan.scaleBits * bound * k);
          expect(plan.primeBits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(
            TC128_MAX_BITS[plan.polyModulusDegree]!,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports ranges it cannot reach and bad options', () => {
    expect(
      code(() =>
        planVector({ scheme: 'bfv', length: 1, valueBound: 1n << 50n, maxContributions: 1 << 20 }),
      ),
    ).toBe('ERR_OVERFLOW');
    expect(
      code(() =>
        planVector({ scheme: 'ckks', length: 1, precision: 2 ** -60, maxContributions: 1 << 20 }),
      ),
    ).toBe('ERR_OVERFLOW');
    expect(code(() => planVector({ scheme: 'bfv', length: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(
      code(() => planVector({ scheme: 'bfv', length: 1, maxContributions: (1 << 20) + 1 })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => planVector({ scheme: 'paillier' as never, length: 1 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(code(() => planVector({ scheme: 'bfv', length: 1, valueBound: 1.5 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('common cases fit N = 4096: BFV in one prime, flooded CKKS in two', () => {
    const bfv = planVector({ scheme: 'bfv', length: 100_000, maxContributions: 100 });
    expect(bfv).toMatchObject({ polyModulusDegree: 4096, levelPrimes: 1 });
    const ckks = planVector({ scheme: 'ckks', length: 100_000, maxContributions: 100 });
    expect(ckks).toMatchObject({
      polyModulusDegree: 4096,
      levelPrimes: 2,
      statisticalSecurity: 40,
      maxDecryptions: 16,
    });
    expect(ckks.errorBound).toBeLessThanOrEqual(1e-6);
    const wide = planVector({
      scheme: 'bfv',
      length: 10,
      maxContributions: 1 << 20,
      valueBound: 1n << 36n,
    });
    expect(wide.levelPrimes).toBeGreaterThan(1);
  });

  it('CKKS: flooding follows sqrt(12 tau) 2^(kappa/2) t, and more security or decryptions cost scale', () => {
    const base = { scheme: 'ckks', length: 5000, maxContributions: 50 } as const;
    const plan = planVector(base);
    const noise = ckksNoise({
      polyModulusDegree: plan.polyModulusDegree,
      specialBits: plan.primeBits.length > plan.levelPrimes ? plan.primeBits.at(-1) : undefined,
      maxContributions: 50,
      ciphertexts: 2, // 4096 values per ciphertext
      scaleBits: plan.scaleBits,
      valueBound: 1,
      precision: 1e-6,
      statisticalSecurity: 40,
      maxDecryptions: 16,
    });
    expect(noise.errorBound).toBe(plan.errorBound);
    // OpenFHE / Li-Micciancio-Schultz-Sorrell 2022: sigma = sqrt(12 tau) 2^(kappa/2) t.
    expect(noise.queries).toBe(2 * 16);
    expect(noise.coefficientBound).toBe(50 * freshCoefficientBound(4096, plan.primeBits.at(-1)));
    // t is the error's Euclidean length: sqrt(N) times its largest coefficient.
    expect(noise.errorLength).toBeCloseTo(64 * noise.coefficientBound, 3);
    expect(noise.coefficientStd).toBeCloseTo(Math.sqrt(12 * 32) * 2 ** 20 * noise.errorLength, -3);
    // Released values carry sigma * sqrt(N / 2) / scale (real and imaginary parts alike).
    expect(noise.std).toBeCloseTo(
      (noise.coefficientStd * Math.sqrt(2048)) / 2 ** plan.scaleBits,
      20,
    );
    const moreSecure = planVector({ ...base, statisticalSecurity: 60 });
    const moreQueries = planVector({ ...base, maxDecryptions: 4096 });
    expect(moreSecure.scaleBits).toBeGreaterThanOrEqual(plan.scaleBits + 9);
    expect(moreQueries.scaleBits).toBeGreaterThanOrEqual(plan.scaleBits + 3);
    expect(code(() => planVector({ ...base, statisticalSecurity: 8 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(code(() => planVector({ ...base, maxDecryptions: 0 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => planVector({ scheme: 'bfv', length: 1, maxDecryptions: 3 } as never))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });
});
