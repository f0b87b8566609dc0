/**
 * The server steps around corrupted unmasking shares (audit L3): Reed-Solomon decoding of the
 * Shamir shares corrects up to floor((m - t) / 2) wrong shares among m (one when m = t + 1),
 * whatever t, at a bounded cost; beyond that the round fails with a typed ERR_INTEGRITY.
 */
import { decodeMessage, encodeMessage, equalBytes, randomBytes } from '@unseen/core';
import { shamir } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { correctableShares, reconstruct } from '../src/recovery.js';
import { decodeShares } from '../src/reed-solomon.js';
import { decodeUnmask, encodeUnmask, MSG, open } from '../src/wire.js';
import { codeOf, Harness, plainSum } from './helpers.js';

/** Corrupts share i in `bytes` random positions (never its x-coordinate). */
function corrupt(share: Uint8Array, positions: number[]): void {
  for (const p of positions) share[1 + (p % (share.length - 1))]! ^= 1 + (p % 255);
}

describe('reconstruct: one or more bad shares are stepped around for any threshold', () => {
  it('the audit case: t = 10, 12 shares, one corrupted', async () => {
    const secret = new Uint8Array(16).fill(42);
    const shares = shamir.split(secret, { shares: 12, threshold: 10 });
    shares[8]![1]! ^= 1;
    let checks = 0;
    const out = await reconstruct(shares, 10, async (s) => {
      checks++;
      return s.every((b) => b === 42);
    });
    expect(out).toEqual(secret);
    expect(checks).toBeLessThanOrEqual(2);
  });

  it('property: up to correctableShares(m, t) corrupted shares, anywhere, in any bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 60 })
          .chain((t) =>
            fc.tuple(
              fc.constant(t),
              fc.integer({ min: t, max: Math.min(255, t + 24) }),
              fc.integer({ min: 1, max: 33 }),
              fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
            ),
          ),
        async ([t, m, len, noise]) => {
          const secret = randomBytes(len);
          const shares = shamir.split(secret, { shares: m, threshold: t });
          const e = correctableShares(m, t);
          const bad = new Set<number>();
          for (const x of noise) if (bad.size < e) bad.add(x % m);
          for (const i of bad) corrupt(shares[i]!, noise);
          let checks = 0;
          const out = await reconstruct(shares, t, async (s) => {
            checks++;
            return equalBytes(s, secret);
          });
          expect(out).toEqual(secret);
          expect(checks).toBeLessThanOrEqual(m + 2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('decodeShares locates the wrong shares; too many errors in one byte fail, never a wrong value unchecked', () => {
    const secret = randomBytes(32);
    const shares = shamir.split(secret, { shares: 20, threshold: 10 });
    for (const i of [3, 7, 11, 19]) shares[i]![5]! ^= 0x80;
    const got = decodeShares(shares, 10);
    expect(got?.secret).toEqual(secret);
    expect(got?.wrong).toEqual([3, 7, 11, 19]);
    // Six wrong values in the same byte exceed floor((20 - 10) / 2) = 5.
    for (const i of [0, 1, 2]) shares[i]![5]! ^= 0x11;
    const beyond = decodeShares(shares, 10);
    if (beyond !== undefined) expect(beyond.secret).not.toEqual(secret);
  });

  it('gives up with undefined beyond the radius, and the server with a typed error', async () => {
    const secret = randomBytes(16);
    const shares = shamir.split(secret, { shares: 12, threshold: 10 });
    // Two wrong in the same byte, one correctable (wrong in different bytes, each byte decodes).
    shares[0]![1]! ^= 1;
    shares[5]![1]! ^= 1;
    const out = await reconstruct(shares, 10, async (s) => equalBytes(s, secret));
    expect(out).toBeUndefined();
  });
});

describe('in a round: corrupted unmasking shares from several holders', () => {
  /** A 13-client round up to the unmasking replies, with holders `liars` corrupting one share. */
  async function round(liars: number[]): Promise<Harness> {
    const h = await Harness.create({ clients: 13, length: 5 }); // full graph, t = 7
    for (let r = 0; r < 3; r++) await h.round();
    await h.deliver();
    for (const u of liars) {
      const m = h.replies.get(u)!;
      const body = decodeUnmask(
        open(m, MSG.unmask, h.server.session, 2 ** 24).body,
        h.server.params,
      );
      const entry = body.entries.find((e) => e.owner === 12)!; // the share of client 12's seed
      entry.share[3]! ^= 0x5a;
      h.replies.set(u, encodeMessage({ ...decodeMessage(m), body: encodeUnmask(body) }));
    }
    await h.collect();
    return h;
  }

  it('three liars spread over the holders (no window of t honest shares): the right sum', async () => {
    // 13 holders, t = 7: holders 0, 4 and 8 lie, so every cyclic window of 7 shares contains a
    // bad one; decoding corrects floor((13 - 7) / 2) = 3.
    const h = await round([0, 4, 8]);
    const step = await h.advance();
    expect(step.round).toBe('done');
    if (step.round === 'done') {
      expect(Array.from(step.result.sum)).toEqual(
        Array.from(
          plainSum(
            32,
            h.inputs,
            Array.from({ length: 13 }, (_, i) => i),
          ),
        ),
      );
    }
  });

  it('four liars: ERR_INTEGRITY naming the client, the shares and how many were correctable', async () => {
    const h = await round([0, 3, 6, 9]);
    const err = await h.advance().catch((e) => e);
    expect(err.code).toBe('ERR_INTEGRITY');
    expect(err.details).toEqual({ client: 12, shares: 13, threshold: 7, correctable: 3 });
    expect(await codeOf(() => h.advance())).toBe('ERR_INVALID_STATE');
  });
});
