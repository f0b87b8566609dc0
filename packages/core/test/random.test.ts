import { isUnseenError, randomBytes, randomInt, shuffle } from '@unseen/core';
import { describe, expect, it } from 'vitest';

/** Chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((acc, c) => acc + (c - expected) ** 2 / expected, 0);
}

describe('randomness', () => {
  it('draws more than getRandomValues allows in one call', () => {
    const bytes = randomBytes(200_000);
    expect(bytes.length).toBe(200_000);
    // Every 64 KiB chunk was filled: none of them is all zero.
    for (let off = 0; off < bytes.length; off += 65_536) {
      expect(bytes.subarray(off, off + 65_536).some((b) => b !== 0)).toBe(true);
    }
    expect(randomBytes(0).length).toBe(0);
  });

  it('byte values are uniform (chi-square, 255 dof, p = 1e-6 bound 377)', () => {
    const counts = new Array(256).fill(0);
    for (const b of randomBytes(256 * 400)) counts[b]++;
    // Critical values at p = 1e-6 (Wilson-Hilferty), so that CI fails by chance once in a million.
    expect(chiSquare(counts)).toBeLessThan(377);
  });

  it('randomInt is unbiased for a bound that does not divide 2^32 (chi-square, 5 dof)', () => {
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[randomInt(6)]++;
    expect(chiSquare(counts)).toBeLessThan(35.9); // p = 1e-6
    expect(randomInt(1)).toBe(0);
    const big = randomInt(2 ** 32);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(2 ** 32);
  });

  it('rejects bad bounds', () => {
    for (const bad of [0, -1, 2 ** 32 + 1, 1.5]) {
      expect(() => randomInt(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => randomBytes(-1)).toSatisfy(() => {
      try {
        randomBytes(-1);
      } catch (e) {
        return isUnseenError(e, 'ERR_INVALID_ARGUMENT');
      }
      return false;
    });
  });

  it('shuffle is a permutation and every position is uniform (chi-square, 23 dof)', () => {
    // All 24 permutations of 4 items should appear equally often.
    const counts = new Map<string, number>();
    for (let i = 0; i < 24_000; i++) {
      const key = shuffle([0, 1, 2, 3]).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    expect(chiSquare([...counts.values()])).toBeLessThan(71.2); // p = 1e-6
    const big = Array.from({ length: 50_000 }, (_, i) => i);
    expect(shuffle(big.slice()).sort((a, b) => a - b)).toEqual(big);
  });
});
