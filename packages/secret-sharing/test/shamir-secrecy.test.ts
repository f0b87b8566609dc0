import { shamir } from '@unseen/secret-sharing';
import { describe, expect, it } from 'vitest';
import { chiSquareCritical, chiSquareUniform } from './helpers.js';

// A significance of 1e-6 per check: an honest implementation fails one run in a million, while a
// dependence of the shares on the secret is found with overwhelming probability (see the control).
const ALPHA = 1e-6;

describe('shamir over GF(256): fewer than threshold shares are independent of the secret', () => {
  it('one share of 2-of-3 one-byte splits is uniform whatever the secret (chi-square, 256 bins)', () => {
    const critical = chiSquareCritical(255, ALPHA);
    for (const secretByte of [0x00, 0x01, 0x80, 0xff, 0x5a]) {
      const counts = new Float64Array(256);
      const secret = Uint8Array.of(secretByte);
      for (let run = 0; run < 25_600; run++) {
        const shares = shamir.split(secret, { shares: 3, threshold: 2 });
        counts[shares[1]![1]!]!++;
      }
      expect(chiSquareUniform(counts)).toBeLessThan(critical);
    }
  });

  it('two shares of 3-of-5 splits are jointly uniform whatever the secret (chi-square, 65,536 bins)', () => {
    // A secret of N equal bytes is N independent one-byte splits (one polynomial per byte).
    const N = 65_536 * 16;
    const critical = chiSquareCritical(65_535, ALPHA);
    for (const secretByte of [0x00, 0xff, 0x3c]) {
      const shares = shamir.split(new Uint8Array(N).fill(secretByte), { shares: 5, threshold: 3 });
      const a = shares[1]!;
      const b = shares[4]!;
      const counts = new Float64Array(65_536);
      for (let k = 1; k <= N; k++) counts[(a[k]! << 8) | b[k]!]!++;
      expect(chiSquareUniform(counts)).toBeLessThan(critical);
    }
  });

  it('control: the same test rejects threshold-many shares, which determine the secret', () => {
    const N = 65_536 * 16;
    const shares = shamir.split(new Uint8Array(N).fill(0x42), { shares: 3, threshold: 2 });
    const counts = new Float64Array(65_536);
    for (let k = 1; k <= N; k++) counts[(shares[0]![k]! << 8) | shares[2]![k]!]!++;
    expect(chiSquareUniform(counts)).toBeGreaterThan(chiSquareCritical(65_535, ALPHA) * 100);
  });
});
