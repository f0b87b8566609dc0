import { scalarShamir } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf, subsets } from './helpers.js';

const primes = [2n ** 127n - 1n, 2n ** 61n - 1n, 65_537n];

describe('scalarShamir over GF(q)', () => {
  it('every threshold subset recovers the secret, for several primes (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...primes), fc.bigInt({ min: 0n, max: 2n ** 200n }), (q, raw) => {
        const secret = raw % q;
        const shares = scalarShamir.split(secret, { shares: 5, threshold: 3, modulus: q });
        for (const subset of subsets(5, 3)) {
          expect(
            scalarShamir.combine(
              subset.map((i) => shares[i]!),
              q,
            ),
          ).toBe(secret);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('linearity: sums and public multiples of shares open to sums and multiples', () => {
    const q = primes[0]!;
    const a = scalarShamir.split(11n, { shares: 3, threshold: 2, modulus: q });
    const b = scalarShamir.split(q - 4n, { shares: 3, threshold: 2, modulus: q });
    const sum = a.map((s, i) => ({ index: s.index, value: (s.value + b[i]!.value) % q }));
    expect(scalarShamir.combine(sum.slice(1), q)).toBe(7n);
    const triple = a.map((s) => ({ index: s.index, value: (3n * s.value) % q }));
    expect(scalarShamir.combine(triple.slice(0, 2), q)).toBe(33n);
  });

  it('bad input gives typed errors', () => {
    const q = primes[1]!;
    expect(codeOf(() => scalarShamir.split(q, { shares: 3, threshold: 2, modulus: q }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => scalarShamir.split(1n, { shares: 3, threshold: 2, modulus: 2n }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const shares = scalarShamir.split(5n, { shares: 3, threshold: 2, modulus: q });
    expect(codeOf(() => scalarShamir.combine([shares[0]!], q))).toBe('ERR_INSUFFICIENT_SHARES');
    expect(codeOf(() => scalarShamir.combine([shares[0]!, shares[0]!], q))).toBe(
      'ERR_INVALID_SHARE',
    );
    expect(codeOf(() => scalarShamir.combine([shares[0]!, { index: 0, value: 1n }], q))).toBe(
      'ERR_INVALID_SHARE',
    );
    expect(codeOf(() => scalarShamir.combine([shares[0]!, { index: 2, value: q }], q))).toBe(
      'ERR_INVALID_SHARE',
    );
  });
});
