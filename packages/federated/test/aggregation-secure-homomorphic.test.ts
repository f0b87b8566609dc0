/**
 * Secure aggregation and BFV aggregation of FedAvg updates: the aggregate matches the
 * example-weighted mean of the (clipped) updates within the reported error bound, the server
 * never receives an update in the clear, and clients dropping mid-protocol are tolerated.
 */
import { generateSigningKey } from '@unseen/core';
import {
  type ClientAggregator,
  createHomomorphicKeyHolder,
  type FedAvgClientOptions,
  FedAvgServer,
  federatedKeyHolder,
  homomorphicAggregator,
  homomorphicClientAggregator,
  runFedAvgServer,
  secureAggregator,
  secureClientAggregator,
  type Weights,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';
import { startClients } from './helpers.js';

const initial: Weights = [new Float32Array(5).fill(0.25), Float32Array.of(-0.5, 0.5)];

function delta(i: number): Weights {
  return [
    Float32Array.from({ length: 5 }, (_, j) => Math.sin(3 * i + j) * 0.9),
    Float32Array.of(0.1 * i, -0.2 * i),
  ];
}

function client(i: number, aggregators: FedAvgClientOptions['aggregators']): FedAvgClientOptions {
  const d = delta(i);
  return {
    train: async (w) => ({
      weights: w.map((t, k) => t.map((v, j) => v + d[k]![j]!)),
      numExamples: 10 * (i + 1),
    }),
    ...(aggregators === undefined ? {} : { aggregators }),
  };
}

/** The exact weighted mean of the clipped float32 updates the clients send. */
function expected(ids: number[], clip: number): number[][] {
  const total = ids.reduce((s, i) => s + 10 * (i + 1), 0);
  return initial.map((t, k) =>
    Array.from(t, (v, j) => {
      let m = 0;
      for (const i of ids) {
        const u = Math.fround(v + delta(i)[k]![j]!) - v;
        m += (10 * (i + 1) * Math.max(-clip, Math.min(clip, u))) / total;
      }
      return v + m;
    }),
  );
}

async function run(
  n: number,
  server: FedAvgServer,
  aggs: (i: number) => FedAvgClientOptions['aggregators'],
) {
  const clients = Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`c${i}`, client(i, aggs(i))]),
  );
  const { channels, runs } = startClients(clients);
  const result = await runFedAvgServer(server, channels, { rounds: 1, roundTimeoutMs: 10_000 });
  await Promise.all(runs);
  return result;
}

describe('secure aggregation', () => {
  it('the aggregate matches the weighted mean within the stated quantisation error', async () => {
    const server = new FedAvgServer({
      initialWeights: initial,
      aggregator: secureAggregator({ clip: 0.8, maxExamples: 100 }),
    });
    const result = await run(5, server, () => ({ secure: secureClientAggregator() }));
    const fit = result.rounds[0]!.fit;
    expect(fit.status).toBe('applied');
    expect(fit.contributors).toHaveLength(5);
    expect(fit.totalWeight).toBe(150);
    expect(fit.clippedValues).toBeGreaterThan(0); // sin * 0.9 exceeds 0.8 somewhere
    expect(fit.meanErrorBound).toBeCloseTo((5 * 2 ** -17) / 150, 15);
    const want = expected([0, 1, 2, 3, 4], 0.8);
    for (let k = 0; k < initial.length; k++) {
      for (let j = 0; j < initial[k]!.length; j++) {
        // fixed-point error bound, plus the final float32 rounding
        expect(Math.abs(result.weights[k]![j]! - want[k]![j]!)).toBeLessThanOrEqual(
          fit.meanErrorBound + 2 ** -24,
        );
      }
    }
  });

  it('a client dropping in the middle of the protocol is recovered from', async () => {
    const dropping = (): ClientAggregator => {
      const inner = secureClientAggregator();
      return {
        mode: 'secure',
        async begin(c) {
          const agg = await inner.begin(c);
          let messages = 0;
          return {
            fitRes: () => agg.fitRes(),
            onMessage: async (p) => {
              if (++messages === 3) throw new Error('battery died'); // after sharing its keys
              return agg.onMessage(p);
            },
          };
        },
      };
    };
    const server = new FedAvgServer({
      initialWeights: initial,
      aggregator: secureAggregator({ clip: 1, maxExamples: 100 }),
    });
    const result = await run(5, server, (i) => ({
      secure: i === 2 ? dropping() : secureClientAggregator(),
    }));
    const fit = result.rounds[0]!.fit;
    expect(fit.status).toBe('applied');
    expect(fit.contributors.sort()).toEqual(['c0', 'c1', 'c3', 'c4']);
    expect(fit.failures).toEqual([expect.objectContaining({ client: 'c2' })]);
    const want = expected([0, 1, 3, 4], 1);
    for (let k = 0; k < initial.length; k++) {
      for (let j = 0; j < initial[k]!.length; j++) {
        expect(Math.abs(result.weights[k]![j]! - want[k]![j]!)).toBeLessThanOrEqual(
          fit.meanErrorBound + 2 ** -24,
        );
      }
    }
  });

  it('a client that sends its update in the clear is refused', async () => {
    const server = new FedAvgServer({ initialWeights: initial, aggregator: secureAggregator() });
    // plain clients: they put the update in the FIT_RES
    const result = await run(3, server, () => ({
      secure: {
        ...secureClientAggregator(),
        begin: (c) =>
          ({
            fitRes: () => ({
              type: 2,
              round: c.round,
              numExamples: 1,
              metrics: {},
              update: c.update,
            }),
            onMessage: async () => undefined,
          }) as never,
      },
    }));
    const fit = result.rounds[0]!.fit;
    expect(fit.status).toBe('discarded');
    expect(fit.failures.map((f) => f.code)).toEqual([
      'ERR_UNEXPECTED_MESSAGE',
      'ERR_UNEXPECTED_MESSAGE',
      'ERR_UNEXPECTED_MESSAGE',
    ]);
    expect(result.weights).toEqual(initial);
  });
});

describe('homomorphic (BFV) aggregation', () => {
  const shape = initial.map((t) => t.length);
  const identities = Array.from({ length: 4 }, () => generateSigningKey());
  const contributors = identities.map((k) => k.publicKey);
  const clientOf = (i: number) =>
    homomorphicClientAggregator({
      pool: null,
      signingKey: identities[i]!.secretKey,
    });

  it('the aggregate matches the weighted mean within the fixed-point bound, clipped count inside', async () => {
    const holder = await createHomomorphicKeyHolder({
      shape,
      contributors,
      maxClients: 8,
      clip: 0.8,
      maxExamples: 100,
    });
    try {
      expect(holder.info.scheme).toBe('bfv');
      const server = new FedAvgServer({
        initialWeights: initial,
        aggregator: homomorphicAggregator({
          keyHolder: federatedKeyHolder(holder),
          clip: 0.8,
          maxExamples: 100,
          contributors,
        }),
      });
      const result = await run(4, server, (i) => ({ homomorphic: clientOf(i) }));
      const fit = result.rounds[0]!.fit;
      expect(fit.status).toBe('applied');
      expect(fit.totalWeight).toBe(100);
      expect(fit.contributors.sort()).toEqual(['c0', 'c1', 'c2', 'c3']);
      expect(fit.meanErrorBound).toBeCloseTo((4 * 2 ** -17) / 100, 15);
      // The clipped count, summed inside the encrypted sum: the same as secure aggregation's.
      let clipped = 0;
      for (let i = 0; i < 4; i++) {
        for (const t of delta(i)) for (const v of t) if (Math.abs(Math.fround(v)) > 0.8) clipped++;
      }
      expect(fit.clippedValues).toBe(clipped);
      const want = expected([0, 1, 2, 3], 0.8);
      for (let k = 0; k < initial.length; k++) {
        for (let j = 0; j < initial[k]!.length; j++) {
          expect(Math.abs(result.weights[k]![j]! - want[k]![j]!)).toBeLessThanOrEqual(
            fit.meanErrorBound + 2 ** -24,
          );
        }
      }
    } finally {
      holder.dispose();
    }
  });

  it('a corrupted ciphertext fails its client only', async () => {
    const holder = await createHomomorphicKeyHolder({
      shape,
      contributors,
      maxClients: 8,
      maxExamples: 100,
    });
    try {
      const corrupt = (): ClientAggregator => {
        const inner = clientOf(1);
        return {
          mode: 'homomorphic',
          async begin(c) {
            const agg = await inner.begin(c);
            return {
              fitRes: () => agg.fitRes(),
              afterFit: async () => (await agg.afterFit!())!.subarray(0, 100),
              onMessage: agg.onMessage,
            };
          },
        };
      };
      const server = new FedAvgServer({
        initialWeights: initial,
        aggregator: homomorphicAggregator({
          keyHolder: federatedKeyHolder(holder),
          maxExamples: 100,
        }),
      });
      const result = await run(3, server, (i) => ({
        homomorphic: i === 1 ? corrupt() : clientOf(i),
      }));
      const fit = result.rounds[0]!.fit;
      expect(fit.status).toBe('applied');
      expect(fit.failures).toEqual([
        expect.objectContaining({ client: 'c1', code: 'ERR_MALFORMED_MESSAGE' }),
      ]);
      const want = expected([0, 2], 1);
      expect(Math.abs(result.weights[1]![1]! - want[1]![1]!)).toBeLessThanOrEqual(
        fit.meanErrorBound + 2 ** -24,
      );
    } finally {
      holder.dispose();
    }
  });
});
