/** Data splits: every row goes to exactly one client; non-IID splits skew labels. */
import {
  labelHistogram,
  Rng,
  splitDataset,
  splitDirichlet,
  splitIid,
  splitShards,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';
import { blobs } from './helpers.js';

function isPartition(parts: Uint32Array[], count: number): boolean {
  const seen = new Uint8Array(count);
  for (const p of parts) for (const r of p) seen[r]!++;
  return seen.every((v) => v === 1);
}

describe('splits', () => {
  it('IID: near-equal parts covering every row once', async () => {
    const parts = await splitIid(103, 10, await Rng.seeded(1));
    expect(isPartition(parts, 103)).toBe(true);
    for (const p of parts) expect(p.length === 10 || p.length === 11).toBe(true);
  });

  it('shards (McMahan et al.): each client sees few labels', async () => {
    const labels = Array.from({ length: 1000 }, (_, i) => i % 10);
    const parts = await splitShards(labels, 50, await Rng.seeded(2), 2);
    expect(isPartition(parts, 1000)).toBe(true);
    for (const p of parts) {
      expect(p.length).toBe(20);
      expect(new Set(Array.from(p, (r) => labels[r])).size).toBeLessThanOrEqual(3);
    }
  });

  it('Dirichlet: small alpha skews labels, large alpha approaches IID', async () => {
    const labels = Array.from({ length: 2000 }, (_, i) => i % 10);
    const spread = async (alpha: number): Promise<number> => {
      const parts = await splitDirichlet(labels, 10, 10, await Rng.seeded(3), alpha, 1);
      expect(isPartition(parts, 2000)).toBe(true);
      // mean over clients of the share of the client's most frequent label
      let s = 0;
      for (const p of parts) {
        const h = new Array(10).fill(0);
        for (const r of p) h[labels[r]!]++;
        s += Math.max(...h) / p.length;
      }
      return s / parts.length;
    };
    const skewed = await spread(0.1);
    const even = await spread(1000);
    expect(skewed).toBeGreaterThan(0.5);
    expect(even).toBeLessThan(0.2);
  });

  it('splitDataset is reproducible from a seed and gathers the right rows', async () => {
    const data = await blobs(60, 3, 3);
    const a = await splitDataset(data, 4, { kind: 'dirichlet', alpha: 0.5 }, await Rng.seeded(9));
    const b = await splitDataset(data, 4, { kind: 'dirichlet', alpha: 0.5 }, await Rng.seeded(9));
    expect(a).toEqual(b);
    expect(
      labelHistogram(a)
        .flat()
        .reduce((x, y) => x + y, 0),
    ).toBe(60);
  });
});
