/** simulateFederated on tiny data: splits, aggregation modes, dropouts, logs and the plot. */
import {
  mlp,
  plotAccuracy,
  roundsToCsv,
  simulateFederated,
  softmaxRegression,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';
import { blobs } from './helpers.js';

describe('simulateFederated', () => {
  it('learns blobs over IID clients and logs every round (CSV, JSON, SVG)', async () => {
    const data = await blobs(400, 5, 3, 1);
    const test = await blobs(90, 5, 3, 1); // same centres (same seed), fresh noise is not needed
    const rows: number[] = [];
    const r = await simulateFederated({
      clients: { data, count: 4, split: { kind: 'iid' } },
      model: softmaxRegression({ features: 5, classes: 3 }),
      test,
      rounds: 3,
      seed: 4,
      local: { epochs: 1, batchSize: 10, learningRate: 0.1 },
      onRound: (row) => {
        rows.push(row.round);
      },
    });
    expect(rows).toEqual([1, 2, 3]);
    expect(r.finalAccuracy).toBeGreaterThan(0.9);
    const csv = r.csv().trim().split('\n');
    expect(csv[0]).toMatch(/^round,accuracy,testLoss,trainLoss,status/);
    expect(csv).toHaveLength(4);
    expect(JSON.parse(r.json())).toHaveLength(3);
    const svg = r.svg('blobs');
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<polyline');
    expect(svg).toContain('blobs');
  });

  it('is reproducible from a seed', async () => {
    const data = await blobs(200, 4, 2, 2);
    const run = () =>
      simulateFederated({
        clients: { data, count: 5, split: { kind: 'dirichlet', alpha: 0.3 } },
        model: mlp({ features: 4, hidden: 5, classes: 2 }),
        test: data,
        rounds: 2,
        seed: 8,
        fractionFit: 0.6,
        local: { epochs: 1, batchSize: 8, learningRate: 0.05 },
      });
    const [a, b] = [await run(), await run()];
    expect(a.weights).toEqual(b.weights);
    expect(a.log.map((x) => x.accuracy)).toEqual(b.log.map((x) => x.accuracy));
  });

  it('secure aggregation gives the plain result up to its error bound; dropouts are logged', async () => {
    const data = await blobs(200, 4, 3, 3);
    const common = {
      clients: { data, count: 4, split: { kind: 'shards' as const, shardsPerClient: 2 } },
      model: softmaxRegression({ features: 4, classes: 3 }),
      test: data,
      rounds: 2,
      seed: 5,
      local: { epochs: 1, batchSize: 10, learningRate: 0.1 },
    };
    const plain = await simulateFederated(common);
    const secure = await simulateFederated({
      ...common,
      aggregation: 'secure',
      encoding: { clip: 4, maxExamples: 200 },
    });
    for (let t = 0; t < plain.weights.length; t++) {
      for (let i = 0; i < plain.weights[t]!.length; i++) {
        expect(Math.abs(plain.weights[t]![i]! - secure.weights[t]![i]!)).toBeLessThan(1e-5);
      }
    }
    const dropped = await simulateFederated({ ...common, dropout: { rate: 0.5 } });
    expect(dropped.log.reduce((s, r) => s + r.failures, 0)).toBeGreaterThan(0);
  });

  it('the CSV leaves absent values empty and the plot escapes names', () => {
    const csv = roundsToCsv([
      {
        round: 1,
        status: 'skipped',
        sampled: 0,
        contributors: 0,
        failures: 0,
        meanErrorBound: 0,
        fitMs: 1,
        durationMs: 1,
      },
    ]);
    expect(csv.split('\n')[1]).toBe('1,,,,skipped,0,0,0,0,,,,1,1');
    expect(plotAccuracy([{ name: '<plain>', points: [[1, 0.5]] }])).toContain('&#60;plain&#62;');
  });
});
