import { equalBytes, randomBytes } from '@unseen/core';
import { shamir } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { subsets } from './helpers.js';

describe('shamir over GF(256): reconstruction', () => {
  it('every threshold-sized subset (and every larger one) of a 3-of-5 split recovers the secret', () => {
    const secret = randomBytes(77); // not a multiple of 4: exercises the padded last word
    const shares = shamir.split(secret, { shares: 5, threshold: 3 });
    expect(shares.map((s) => s[0])).toEqual([1, 2, 3, 4, 5]);
    for (const s of shares) expect(s.length).toBe(1 + secret.length);
    for (let k = 3; k <= 5; k++) {
      for (const subset of subsets(5, k)) {
        expect(shamir.combine(subset.map((i) => shares[i]!))).toEqual(secret);
      }
    }
  });

  it('every 4-subset of a 4-of-7 split recovers a multi-chunk secret', () => {
    const secret = randomBytes(3 * 8192 + 5); // spans several internal chunks
    const shares = shamir.split(secret, { shares: 7, threshold: 4 });
    for (const subset of subsets(7, 4)) {
      // equalBytes: vitest's deep equality is slow on 24 KiB arrays
      expect(equalBytes(shamir.combine(subset.map((i) => shares[i]!)), secret)).toBe(true);
    }
  });

  it('a 255-share split recovers from any 255 shares in any order, and from the top threshold', () => {
    const secret = randomBytes(16);
    const shares = shamir.split(secret, { shares: 255, threshold: 200 });
    expect(shamir.combine([...shares].reverse())).toEqual(secret);
    expect(shamir.combine(shares.slice(55))).toEqual(secret);
  });

  it('random sizes, thresholds and subsets (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.integer({ min: 2, max: 12 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            t: fc.integer({ min: 2, max: n }),
            order: fc.shuffledSubarray(
              Array.from({ length: n }, (_, i) => i),
              { minLength: n, maxLength: n },
            ),
          }),
        ),
        fc.boolean(),
        (secret, { n, t, order }, integrity) => {
          const shares = shamir.split(secret, { shares: n, threshold: t, integrity });
          const picked = order.slice(0, t).map((i) => shares[i]!);
          expect(shamir.combine(picked, { integrity })).toEqual(secret);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('two splits of the same secret give different shares (fresh randomness)', () => {
    const secret = randomBytes(32);
    const a = shamir.split(secret, { shares: 3, threshold: 2 });
    const b = shamir.split(secret, { shares: 3, threshold: 2 });
    expect(a[0]).not.toEqual(b[0]);
  });
});

describe('shamir over GF(256): linearity (properties)', () => {
  it('the byte-wise sum (XOR) of two splits combines to the sum of the secrets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (a) => {
        const b = randomBytes(a.length);
        const sa = shamir.split(a, { shares: 4, threshold: 3 });
        const sb = shamir.split(b, { shares: 4, threshold: 3 });
        const sum = sa.map((s, i) => {
          const out = s.slice();
          for (let k = 1; k < out.length; k++) out[k] = out[k]! ^ sb[i]![k]!;
          return out;
        });
        expect(shamir.combine(sum.slice(1))).toEqual(a.map((v, k) => v ^ b[k]!));
      }),
    );
  });

  it('adding a public constant to the y-bytes of every share adds it to the secret', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.integer({ min: 0, max: 255 }),
        (a, c) => {
          const shares = shamir.split(a, { shares: 3, threshold: 2 }).map((s) => {
            const out = s.slice();
            for (let k = 1; k < out.length; k++) out[k] = out[k]! ^ c;
            return out;
          });
          expect(shamir.combine([shares[0]!, shares[2]!])).toEqual(a.map((v) => v ^ c));
        },
      ),
    );
  });
});
