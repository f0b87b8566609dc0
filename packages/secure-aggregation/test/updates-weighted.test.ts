import {
  aggregateUpdates,
  decodeAggregate,
  encodeUpdate,
  simulate,
  updateEncoding,
} from '@unseen/secure-aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf, inline } from './helpers.js';

/** Plain weighted sum of clipped values in float64: the reference. */
function reference(
  updates: Float32Array[],
  weights: number[],
  clip: number,
  chosen: number[],
): Float64Array {
  const out = new Float64Array(updates[0]!.length);
  for (const i of chosen) {
    for (let j = 0; j < out.length; j++)
      out[j]! += weights[i]! * Math.max(-clip, Math.min(clip, updates[i]![j]!));
  }
  return out;
}

describe('weighted real-valued updates', () => {
  it('the README example: a weighted mean of three updates', async () => {
    const r = await aggregateUpdates(
      [Float32Array.of(0.5, -1), Float32Array.of(0.25, 1), Float32Array.of(0, 0)],
      { clip: 1, weights: [10, 30, 60], pool: inline },
    );
    expect(r.totalWeight).toBe(100);
    expect(Array.from(r.mean)).toEqual([0.125, 0.2]);
    expect(r.survivors).toEqual([0, 1, 2]);
  });

  it('equals the plain weighted sum of the survivors within the fixed-point error, with dropouts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 9 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 2 }),
        async (n, length, dropCount) => {
          const updates = Array.from({ length: n }, (_, i) =>
            Float32Array.from({ length }, (_, j) => Math.sin(7 * i + j) * 1.5),
          );
          const weights = updates.map((_, i) => 1 + ((i * 37) % 500));
          const drop = Array.from(
            { length: Math.min(dropCount, n - Math.floor(n / 2) - 1) },
            (_, i) => i,
          );
          const r = await aggregateUpdates(updates, {
            clip: 1,
            weights,
            dropouts: { maskedInput: drop },
            pool: inline,
          });
          const survivors = updates.map((_, i) => i).filter((i) => !drop.includes(i));
          expect(r.survivors).toEqual(survivors);
          const want = reference(updates, weights, 1, survivors);
          // Each client's encoding is within 2^-(f+1) of w * clip(x): the sum within n times that.
          const tolerance = survivors.length * 2 ** -(r.encoding.fractionalBits + 1) + 1e-9;
          for (let j = 0; j < length; j++)
            expect(Math.abs(r.weightedSum[j]! - want[j]!)).toBeLessThanOrEqual(tolerance);
          expect(r.totalWeight).toBe(survivors.reduce((a, i) => a + weights[i]!, 0));
          expect(r.clipped.reduce((a, b) => a + b)).toBeGreaterThan(0); // |1.5 sin| > 1 somewhere
        },
      ),
      { numRuns: 15 },
    );
  });

  it('chooses Z_2^64 when a 32-bit sum could wrap, and refuses what fits neither', async () => {
    expect(updateEncoding({ clip: 1, clients: 20, maxWeight: 600 }).bits).toBe(32);
    expect(updateEncoding({ clip: 1, clients: 20, maxWeight: 60_000 }).bits).toBe(64);
    expect(
      await codeOf(() => updateEncoding({ clip: 1e6, clients: 1000, maxWeight: 1e6, bits: 64 })),
    ).toBe('ERR_OVERFLOW');
    expect(
      await codeOf(() => updateEncoding({ clip: 1, clients: 20, maxWeight: 60_000, bits: 32 })),
    ).toBe('ERR_OVERFLOW');
    const r = await aggregateUpdates(
      [Float64Array.of(0.75), Float64Array.of(-0.25), Float64Array.of(1)],
      {
        clip: 1,
        weights: [100_000, 300_000, 0],
        pool: inline,
      },
    );
    expect(r.encoding.bits).toBe(64);
    expect(r.totalWeight).toBe(400_000);
    expect(r.mean[0]).toBeCloseTo(0, 9);
    expect(r.weightedSum[0]).toBeCloseTo(0, 3);
  });

  it('codec: a weight out of range or NaN values are refused; decode checks capacity', async () => {
    const enc = updateEncoding({ clip: 2, clients: 4, maxWeight: 10 });
    expect(await codeOf(() => encodeUpdate([1], enc, 11))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => encodeUpdate([1], enc, 1.5))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => encodeUpdate([Number.NaN], enc, 1))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(() => encodeUpdate([Number.NaN], enc, 0))).toBe('ERR_INVALID_ARGUMENT');
    // Over the runners: encode on each client, sum with the protocol, decode on the server.
    const values = [
      [0.5, 3],
      [-1.5, 0.25],
      [0, -0.5],
      [1, 1],
    ];
    const inputs = values.map((v, i) => encodeUpdate(v, enc, i + 1).data);
    const r = await simulate({ inputs, pool: inline, bits: enc.bits });
    const agg = decodeAggregate(r.sum, enc, r.survivors.length);
    expect(agg.totalWeight).toBe(10);
    expect(agg.weightedSum[0]).toBeCloseTo(0.5 - 3 + 0 + 4, 4);
    expect(agg.weightedSum[1]).toBeCloseTo(2 + 0.5 - 1.5 + 4, 4); // 3 is clipped to 2
    const huge = updateEncoding({ clip: 1, clients: 2, bits: 32, fractionalBits: 29 });
    expect(await codeOf(() => decodeAggregate(new Uint32Array(2), huge, 4))).toBe('ERR_OVERFLOW');
  });
});
