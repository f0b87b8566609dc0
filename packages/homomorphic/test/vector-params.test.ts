// Parameter choice: ranges, limits reported, 128-bit bounds respected.
import { isUnseenError } from '@unseen/core';
import { planVector, TC128_MAX_BITS } from '@unseen/homomorphic';
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

  it('uses one 4096-degree prime for the common cases', () => {
    const bfv = planVector({ scheme: 'bfv', length: 100_000, maxContributions: 100 });
    expect(bfv).toMatchObject({ polyModulusDegree: 4096, levelPrimes: 1 });
    const ckks = planVector({ scheme: 'ckks', length: 100_000, maxContributions: 100 });
    expect(ckks).toMatchObject({ polyModulusDegree: 4096, levelPrimes: 1, scaleBits: 45 });
    expect(ckks.errorBound).toBeLessThanOrEqual(1e-6);
    const wide = planVector({
      scheme: 'bfv',
      length: 10,
      maxContributions: 1 << 20,
      valueBound: 1n << 36n,
    });
    expect(wide.levelPrimes).toBeGreaterThan(1);
  });
});
