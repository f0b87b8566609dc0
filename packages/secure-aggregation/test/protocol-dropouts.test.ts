import { isUnseenError, type RingBits } from '@unseen/core';
import { type SecAggRound, simulate } from '@unseen/secure-aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inline, plainSum, randomInputs } from './helpers.js';

interface Case {
  n: number;
  k: number;
  t: number;
  bits: RingBits;
  length: number;
  /** The round each client drops in, or null. */
  drops: (SecAggRound | null)[];
}

function caseArb(active: boolean, bitsChoices: RingBits[]): fc.Arbitrary<Case> {
  const rounds: (SecAggRound | null)[] = ['advertiseKeys', 'shareKeys', 'maskedInput', 'unmask'];
  if (active) rounds.push('consistencyCheck');
  return fc
    .integer({ min: 3, max: 12 })
    .chain((n) =>
      fc.tuple(
        fc.constant(n),
        fc.integer({ min: 2, max: n - 1 }).filter((k) => (n * k) % 2 === 0),
      ),
    )
    .chain(([n, k]) =>
      fc.record({
        n: fc.constant(n),
        k: fc.constant(k),
        t: fc.integer({ min: Math.floor((k + 1) / 2) + 1, max: k + 1 }),
        bits: fc.constantFrom(...bitsChoices),
        length: fc.integer({ min: 1, max: 24 }),
        drops: fc.array(
          fc.oneof(
            { weight: 5, arbitrary: fc.constant(null) },
            { weight: 2, arbitrary: fc.constantFrom(...rounds) },
          ),
          { minLength: n, maxLength: n },
        ),
      }),
    );
}

async function check(c: Case, active: boolean): Promise<'sum' | 'abort'> {
  const words = c.bits === 32 ? c.length : 2 * c.length;
  const inputs = randomInputs(c.n, words);
  const dropouts: Partial<Record<SecAggRound, number[]>> = {};
  c.drops.forEach((r, i) => {
    if (r !== null) dropouts[r] = [...(dropouts[r] ?? []), i];
  });
  const dropped = c.drops.filter((r) => r !== null).length;
  const sentInput = c.drops
    .map((r, i) => (r === null || r === 'consistencyCheck' || r === 'unmask' ? i : -1))
    .filter((i) => i >= 0);
  try {
    const r = await simulate({
      inputs,
      bits: c.bits,
      threshold: c.t,
      neighbours: c.k,
      active,
      dropouts,
      pool: inline,
      // Small graphs and thresholds below the analysis: this tests the mechanics of dropouts.
      allowUnsafeParameters: true,
    });
    // The revealed sum is the plain sum of exactly the clients it claims to contain.
    expect(Array.from(r.sum)).toEqual(Array.from(plainSum(c.bits, inputs, r.survivors)));
    for (const s of r.survivors) expect(sentInput).toContain(s);
    // With the full graph nobody is pruned: the survivors are the clients that sent inputs.
    if (c.k === c.n - 1) expect(r.survivors).toEqual(sentInput);
    // Fewer than t clients left at the end: the round must have aborted.
    expect(c.n - dropped).toBeGreaterThanOrEqual(c.t);
    return 'sum';
  } catch (e) {
    if (!isUnseenError(e)) throw e;
    if (e.code === 'ERR_PROTOCOL_ABORTED') {
      // The survivors' graph fell apart: the server refuses to unmask (partial sums). On the
      // Harary ring that takes two separate runs of floor(k/2) missing clients.
      const details = e.details as { reason: string; components: number[] };
      expect(details.reason).toBe('disconnected');
      expect(details.components.length).toBeGreaterThan(1);
      expect(c.k).toBeLessThan(c.n - 1);
      expect(dropped).toBeGreaterThanOrEqual(2 * Math.floor(c.k / 2));
      return 'abort';
    }
    expect(e.code).toBe('ERR_INSUFFICIENT_SHARES');
    // Every group keeps at least t members when at most k + 1 - t clients drop: no abort then.
    expect(dropped).toBeGreaterThan(c.k + 1 - c.t);
    return 'abort';
  }
}

/** Runs the property and checks that both outcomes were exercised. */
async function property(arb: fc.Arbitrary<Case>, active: boolean, numRuns: number): Promise<void> {
  const seen = { sum: 0, abort: 0 };
  await fc.assert(
    fc.asyncProperty(arb, async (c) => {
      seen[await check(c, active)] += 1;
    }),
    { numRuns },
  );
  expect(seen.sum).toBeGreaterThan(numRuns / 4);
  expect(seen.abort).toBeGreaterThan(0);
}

describe('dropouts in every round (fast-check over n, t, k, dropout sets)', () => {
  it('semi-honest, Z_2^32 and Z_2^64: the sum of the survivors, or an abort below threshold', async () => {
    await property(caseArb(false, [32, 64]), false, 120);
  }, 120_000);

  it('active variant (signatures and consistency check)', async () => {
    await property(caseArb(true, [32]), true, 40);
  }, 120_000);

  it('known cases: 13 clients (active, t = 9 = floor(2 * 13 / 3) + 1), a drop in each round', async () => {
    const inputs = randomInputs(13, 16);
    const r = await simulate({
      inputs,
      pool: inline,
      active: true,
      dropouts: { advertiseKeys: [1], shareKeys: [2], maskedInput: [3], consistencyCheck: [4] },
    });
    expect(r.params.threshold).toBe(9);
    expect(r.survivors).toEqual([0, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(r.dropped).toEqual({
      advertiseKeys: [1],
      shareKeys: [2],
      maskedInput: [3],
      consistencyCheck: [4],
      unmask: [],
    });
    expect(Array.from(r.sum)).toEqual(Array.from(plainSum(32, inputs, r.survivors)));
  });
});
