import { isUnseenError, randomBytes } from '@unseen/core';
import { SHAMIR_INTEGRITY_OVERHEAD, shamir } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

describe('shamir over GF(256): bad input gives typed errors', () => {
  const secret = randomBytes(20);
  const shares = shamir.split(secret, { shares: 5, threshold: 3 });

  it('split rejects bad secrets and counts', () => {
    const split = (s: unknown, o: unknown) => () =>
      shamir.split(s as Uint8Array, o as { shares: number; threshold: number });
    expect(codeOf(split(new Uint8Array(0), { shares: 3, threshold: 2 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(split('secret', { shares: 3, threshold: 2 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(split(secret, undefined))).toBe('ERR_INVALID_ARGUMENT');
    for (const [n, t] of [
      [1, 1],
      [3, 1],
      [3, 4],
      [256, 2],
      [3.5, 2],
      [3, 2.5],
      [Number.NaN, 2],
    ]) {
      expect(codeOf(split(secret, { shares: n, threshold: t }))).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(codeOf(split(secret, { shares: 3, threshold: 2, integrity: 'yes' }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });

  it('combine rejects wrong counts, duplicate and zero x, mixed lengths and non-shares', () => {
    expect(codeOf(() => shamir.combine([]))).toBe('ERR_INSUFFICIENT_SHARES');
    expect(codeOf(() => shamir.combine([shares[0]!]))).toBe('ERR_INSUFFICIENT_SHARES');
    expect(codeOf(() => shamir.combine('x' as unknown as Uint8Array[]))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => shamir.combine(new Array(256).fill(shares[0]!)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => shamir.combine([shares[0]!, shares[1]!, shares[0]!]))).toBe(
      'ERR_INVALID_SHARE',
    );
    const zero = shares[2]!.slice();
    zero[0] = 0;
    expect(codeOf(() => shamir.combine([shares[0]!, zero, shares[1]!]))).toBe('ERR_INVALID_SHARE');
    expect(codeOf(() => shamir.combine([shares[0]!, shares[1]!.subarray(0, 10)]))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    expect(codeOf(() => shamir.combine([shares[0]!, [1, 2] as unknown as Uint8Array]))).toBe(
      'ERR_INVALID_SHARE',
    );
    expect(codeOf(() => shamir.combine([Uint8Array.of(1), Uint8Array.of(2)]))).toBe(
      'ERR_INVALID_SHARE',
    );
  });

  it('integrity: fewer than threshold shares are detected', () => {
    const protectedShares = shamir.split(secret, { shares: 5, threshold: 3, integrity: true });
    expect(protectedShares[0]!.length).toBe(1 + secret.length + SHAMIR_INTEGRITY_OVERHEAD);
    expect(shamir.combine(protectedShares.slice(2), { integrity: true })).toEqual(secret);
    expect(codeOf(() => shamir.combine(protectedShares.slice(0, 2), { integrity: true }))).toBe(
      'ERR_INTEGRITY',
    );
    // Without integrity, two shares of a 3-of-5 split silently give a wrong value.
    expect(shamir.combine(shares.slice(0, 2))).not.toEqual(secret);
  });

  it('integrity: any single flipped bit in any share is detected (property)', () => {
    const protectedShares = shamir.split(secret, { shares: 4, threshold: 3, integrity: true });
    const length = protectedShares[0]!.length;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: length - 1 }),
        fc.integer({ min: 0, max: 7 }),
        (which, at, bit) => {
          const picked = protectedShares.slice(0, 3).map((s) => s.slice());
          picked[which]![at] = picked[which]![at]! ^ (1 << bit);
          expect(codeOf(() => shamir.combine(picked, { integrity: true }))).toBe('ERR_INTEGRITY');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('integrity: shares of two different secrets, or without a check, are refused', () => {
    const a = shamir.split(secret, { shares: 3, threshold: 2, integrity: true });
    const b = shamir.split(randomBytes(20), { shares: 3, threshold: 2, integrity: true });
    expect(codeOf(() => shamir.combine([a[0]!, b[1]!], { integrity: true }))).toBe('ERR_INTEGRITY');
    expect(codeOf(() => shamir.combine(shares.slice(0, 3), { integrity: true }))).toBe(
      'ERR_INVALID_SHARE',
    );
    const long = shamir.split(randomBytes(60), { shares: 3, threshold: 2 });
    expect(codeOf(() => shamir.combine(long.slice(0, 2), { integrity: true }))).toBe(
      'ERR_INTEGRITY',
    );
  });

  it('combine on random byte arrays never throws anything but an UnseenError (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }),
        fc.boolean(),
        (arrays, integrity) => {
          try {
            shamir.combine(arrays, { integrity });
          } catch (e) {
            expect(isUnseenError(e)).toBe(true);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
