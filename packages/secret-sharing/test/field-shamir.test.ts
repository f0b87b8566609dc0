import { isUnseenError } from '@unseen/core';
import { type FieldShare, fieldShamir, P31, randomFieldElements } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chiSquareCritical, chiSquareUniform, codeOf, subsets } from './helpers.js';

const P = BigInt(P31);
const vec = (n: number) => randomFieldElements(new Uint32Array(n));
const fieldVector = fc
  .array(fc.integer({ min: 0, max: P31 - 1 }), { minLength: 1, maxLength: 20 })
  .map((a) => Uint32Array.from(a));

describe('fieldShamir: reconstruction and secrecy', () => {
  it('every threshold-sized and larger subset of a 3-of-5 sharing recovers the vector', () => {
    const secret = vec(1000);
    const shares = fieldShamir.split(secret, { shares: 5, threshold: 3 });
    expect(shares.map((s) => s.x)).toEqual([1, 2, 3, 4, 5]);
    for (let k = 3; k <= 5; k++) {
      for (const subset of subsets(5, k)) {
        expect(fieldShamir.combine(subset.map((i) => shares[i]!))).toEqual(secret);
      }
    }
  });

  it('random thresholds and subsets (property)', () => {
    fc.assert(
      fc.property(
        fieldVector,
        fc
          .integer({ min: 2, max: 9 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }))),
        (secret, [n, t]) => {
          const shares = fieldShamir.split(secret, { shares: n, threshold: t });
          expect(fieldShamir.combine(shares.slice(n - t))).toEqual(secret);
        },
      ),
    );
  });

  it('one share of a 2-of-3 sharing is uniform whatever the secret (chi-square)', () => {
    const critical = chiSquareCritical(255, 1e-6);
    for (const value of [0, 1, P31 - 1]) {
      const shares = fieldShamir.split(new Uint32Array(256 * 200).fill(value), {
        shares: 3,
        threshold: 2,
      });
      const counts = new Float64Array(256);
      for (const y of shares[1]!.values) counts[Math.floor((y * 256) / P31)]!++;
      expect(chiSquareUniform(counts)).toBeLessThan(critical);
    }
  });
});

describe('fieldShamir: linearity (properties)', () => {
  it('add, sub, addConst and mulConst act on the secrets', () => {
    fc.assert(
      fc.property(fieldVector, fc.integer({ min: 0, max: P31 - 1 }), (a, c) => {
        const b = vec(a.length);
        const sa = fieldShamir.split(a, { shares: 4, threshold: 3 });
        const sb = fieldShamir.split(b, { shares: 4, threshold: 3 });
        const pick = (s: FieldShare[]) => [s[0]!, s[1]!, s[3]!];
        const open = (f: (x: FieldShare, y: FieldShare) => FieldShare) =>
          Array.from(fieldShamir.combine(pick(sa.map((s, i) => f(s, sb[i]!)))), BigInt);
        const A = Array.from(a, BigInt);
        const B = Array.from(b, BigInt);
        const C = BigInt(c);
        expect(open(fieldShamir.add)).toEqual(A.map((x, i) => (x + B[i]!) % P));
        expect(open(fieldShamir.sub)).toEqual(A.map((x, i) => (x - B[i]! + P) % P));
        expect(open((x) => fieldShamir.addConst(x, c))).toEqual(A.map((x) => (x + C) % P));
        expect(open((x) => fieldShamir.mulConst(x, c))).toEqual(A.map((x) => (x * C) % P));
        expect(open((x) => fieldShamir.mulConst(x, b))).toEqual(A.map((x, i) => (x * B[i]!) % P));
      }),
      { numRuns: 50 },
    );
  });

  it('the local product opens with 2t - 1 shares', () => {
    const a = vec(50);
    const b = vec(50);
    const sa = fieldShamir.split(a, { shares: 5, threshold: 3 });
    const sb = fieldShamir.split(b, { shares: 5, threshold: 3 });
    const prod = sa.map((s, i) => fieldShamir.mulLocal(s, sb[i]!));
    const expected = Array.from(a, (x, i) => (BigInt(x) * BigInt(b[i]!)) % P);
    expect(Array.from(fieldShamir.combine(prod), BigInt)).toEqual(expected);
    expect(Array.from(fieldShamir.combine(prod.slice(0, 3)), BigInt)).not.toEqual(expected);
  });
});

describe('fieldShamir: bad input gives typed errors', () => {
  const secret = vec(8);
  const shares = fieldShamir.split(secret, { shares: 4, threshold: 2 });

  it('split validates the vector and counts', () => {
    expect(codeOf(() => fieldShamir.split(Uint32Array.of(P31), { shares: 3, threshold: 2 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(
      codeOf(() => fieldShamir.split([1] as unknown as Uint32Array, { shares: 3, threshold: 2 })),
    ).toBe('ERR_INVALID_ARGUMENT');
    for (const [n, t] of [
      [1, 1],
      [3, 4],
      [3, 1],
      [70_000, 2],
    ]) {
      expect(codeOf(() => fieldShamir.split(secret, { shares: n!, threshold: t! }))).toBe(
        'ERR_INVALID_ARGUMENT',
      );
    }
  });

  it('combine refuses duplicate x, zero x, mixed lengths, too few and non-canonical shares', () => {
    expect(codeOf(() => fieldShamir.combine([shares[0]!]))).toBe('ERR_INSUFFICIENT_SHARES');
    expect(codeOf(() => fieldShamir.combine([shares[0]!, shares[0]!]))).toBe('ERR_INVALID_SHARE');
    expect(
      codeOf(() => fieldShamir.combine([shares[0]!, { x: 0, values: shares[1]!.values }])),
    ).toBe('ERR_INVALID_SHARE');
    expect(
      codeOf(() =>
        fieldShamir.combine([shares[0]!, { x: 2, values: shares[1]!.values.subarray(1) }]),
      ),
    ).toBe('ERR_PARAMETER_MISMATCH');
    const bad = { x: 2, values: shares[1]!.values.slice() };
    bad.values[3] = P31;
    expect(codeOf(() => fieldShamir.combine([shares[0]!, bad]))).toBe('ERR_INVALID_SHARE');
    expect(codeOf(() => fieldShamir.combine([shares[0]!, null as unknown as FieldShare]))).toBe(
      'ERR_INVALID_SHARE',
    );
  });

  it('arithmetic refuses shares at different x or of different lengths, and bad constants', () => {
    expect(codeOf(() => fieldShamir.add(shares[0]!, shares[1]!))).toBe('ERR_PARAMETER_MISMATCH');
    expect(codeOf(() => fieldShamir.mulConst(shares[0]!, P31))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => fieldShamir.addConst(shares[0]!, Uint32Array.of(1)))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
  });

  it('shares round-trip through bytes; truncated, extended and flipped bytes are refused', () => {
    const bytes = fieldShamir.encodeShare(shares[2]!);
    expect(fieldShamir.decodeShare(bytes)).toEqual(shares[2]);
    expect(codeOf(() => fieldShamir.decodeShare(bytes.subarray(0, bytes.length - 1)))).toBe(
      'ERR_MALFORMED_MESSAGE',
    );
    const extended = new Uint8Array(bytes.length + 1);
    extended.set(bytes);
    expect(codeOf(() => fieldShamir.decodeShare(extended))).toBe('ERR_MALFORMED_MESSAGE');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: bytes.length * 8 - 1 }), (bit) => {
        const flipped = bytes.slice();
        flipped[bit >> 3] = flipped[bit >> 3]! ^ (1 << (bit & 7));
        try {
          const s = fieldShamir.decodeShare(flipped);
          expect(s).not.toEqual(shares[2]); // decoded, but as another (valid) share
        } catch (e) {
          expect(isUnseenError(e)).toBe(true);
        }
      }),
    );
  });
});
