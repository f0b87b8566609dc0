/**
 * Interoperability with `shamir-secret-sharing` 0.0.4 (Privy; audited; a port of HashiCorp
 * Vault's shamir). Both use GF(2^8) with x^8 + x^4 + x^3 + x + 1 and interpolate at 0; its share
 * format puts the x-coordinate last where ours puts it first. Moving that byte is the only
 * conversion: each library then combines the other's shares. What this checks: the field
 * arithmetic and the interpolation agree. It does not claim the share formats are the same.
 */
import { shamir } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { combine as peerCombine, split as peerSplit } from 'shamir-secret-sharing';
import { describe, expect, it } from 'vitest';

const toPeer = (s: Uint8Array): Uint8Array => {
  const out = new Uint8Array(s.length);
  out.set(s.subarray(1));
  out[s.length - 1] = s[0]!;
  return out;
};
const fromPeer = (s: Uint8Array): Uint8Array => {
  const out = new Uint8Array(s.length);
  out[0] = s[s.length - 1]!;
  out.set(s.subarray(0, s.length - 1), 1);
  return out;
};

describe('interoperability with shamir-secret-sharing 0.0.4', () => {
  it('each library combines the shares the other split (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc
          .integer({ min: 2, max: 8 })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 2, max: n }))),
        async (secret, [n, t]) => {
          const ours = shamir.split(secret, { shares: n, threshold: t });
          expect(await peerCombine(ours.slice(n - t).map(toPeer))).toEqual(secret);
          // The peer picks random distinct x-coordinates in 1..255.
          const theirs = await peerSplit(secret, n, t);
          expect(shamir.combine(theirs.slice(0, t).map(fromPeer))).toEqual(secret);
        },
      ),
      { numRuns: 100 },
    );
  });
});
