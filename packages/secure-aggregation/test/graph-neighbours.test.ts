import { randomBytes } from '@unseen/core';
import { NeighbourGraph } from '@unseen/secure-aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

/** A (k, n) pair for which a k-regular graph on n vertices exists. */
const regular = fc
  .integer({ min: 2, max: 300 })
  .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: Math.min(n - 1, 254) })))
  .filter(([n, k]) => (n * k) % 2 === 0);

describe('neighbour graph (Harary graph, random relabelling)', () => {
  it('is k-regular, symmetric and the same for the same seed', async () => {
    await fc.assert(
      fc.asyncProperty(
        regular,
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        async ([n, k], seed) => {
          const g = await NeighbourGraph.create(n, k, seed);
          const again = await NeighbourGraph.create(n, k, seed);
          const problems: string[] = [];
          for (let u = 0; u < n; u++) {
            const group = g.group(u);
            // itself and k distinct neighbours, sorted ascending
            if (group.length !== k + 1 || new Set(group).size !== k + 1) problems.push(`size ${u}`);
            for (let i = 1; i < group.length; i++)
              if (group[i - 1]! >= group[i]!) problems.push(`order ${u}`);
            if (g.indexInGroup(u, u) < 0) problems.push(`self ${u}`);
            for (const v of group) if (!g.inGroup(v, u)) problems.push(`symmetry ${u} ${v}`);
            if (again.group(u).join() !== group.join()) problems.push(`seed ${u}`);
          }
          expect(problems).toEqual([]);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('k = n - 1 is the complete graph whatever the seed', async () => {
    const g = await NeighbourGraph.create(9, 8, randomBytes(16));
    expect(g.complete).toBe(true);
    expect(Array.from(g.group(4))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('different seeds relabel: neighbourhoods look uniform', async () => {
    // Over many seeds, how often is client 0 a neighbour of client j? k / (n - 1) for every j.
    const n = 20;
    const k = 4;
    const counts = new Array<number>(n).fill(0);
    const runs = 400;
    for (let r = 0; r < runs; r++) {
      const g = await NeighbourGraph.create(n, k, randomBytes(16));
      for (const v of g.group(0)) counts[v]! += 1;
    }
    expect(counts[0]).toBe(runs);
    const expected = (runs * k) / (n - 1); // about 84
    for (let j = 1; j < n; j++) {
      expect(counts[j]).toBeGreaterThan(expected * 0.45);
      expect(counts[j]).toBeLessThan(expected * 1.7);
    }
  });

  it('refuses impossible graphs and bad arguments', async () => {
    expect(await codeOf(() => NeighbourGraph.create(7, 3, randomBytes(16)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => NeighbourGraph.create(7, 7, randomBytes(16)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => NeighbourGraph.create(7, 2, randomBytes(15)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const g = await NeighbourGraph.create(8, 3, randomBytes(16));
    expect(g.group(3).length).toBe(4);
    expect(await codeOf(() => g.group(8))).toBe('ERR_INVALID_ARGUMENT');
  });
});
