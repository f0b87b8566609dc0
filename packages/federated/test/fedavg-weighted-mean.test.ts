/**
 * FedAvg (McMahan et al. 2017, Algorithm 1): the aggregate of a round is the example-weighted
 * mean of the client updates, over real runners and channels; Flower's sampling semantics.
 */
import {
  type FedAvgClientOptions,
  FedAvgServer,
  runFedAvgServer,
  type Weights,
} from '@unseen/federated';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startClients } from './helpers.js';

/** A client whose training adds a fixed delta and reports a fixed example count. */
function fixedClient(delta: Weights, numExamples: number): FedAvgClientOptions {
  return {
    train: async (w) => ({
      weights: w.map((t, i) => t.map((v, j) => v + delta[i]![j]!)),
      numExamples,
      metrics: { loss: numExamples },
    }),
    evaluate: async () => ({
      loss: numExamples / 10,
      numExamples,
      metrics: { accuracy: 1 / numExamples },
    }),
  };
}

describe('FedAvg aggregate', () => {
  it('equals the example-weighted mean of the updates (any updates, any counts)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            a: fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), {
              minLength: 3,
              maxLength: 3,
            }),
            b: fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }),
            n: fc.integer({ min: 1, max: 1000 }),
          }),
          { minLength: 2, maxLength: 6 },
        ),
        async (specs) => {
          const initial = [Float32Array.of(0.5, -1, 2), Float32Array.of(3)];
          const deltas = specs.map((s) => [Float32Array.from(s.a), Float32Array.of(s.b)]);
          const clients = Object.fromEntries(
            specs.map((s, i) => [`c${i}`, fixedClient(deltas[i]!, s.n)]),
          );
          const { channels, runs } = startClients(clients);
          const server = new FedAvgServer({ initialWeights: initial });
          const result = await runFedAvgServer(server, channels, { rounds: 1 });
          await Promise.all(runs);
          // The deltas as they arrive: trained weights are float32, the update is new - old.
          const updates = deltas.map((d) =>
            d.map((t, i) => t.map((v, j) => Math.fround(initial[i]![j]! + v) - initial[i]![j]!)),
          );
          const total = specs.reduce((s, x) => s + x.n, 0);
          for (let t = 0; t < initial.length; t++) {
            for (let j = 0; j < initial[t]!.length; j++) {
              let mean = 0;
              for (let i = 0; i < specs.length; i++)
                mean += (specs[i]!.n * updates[i]![t]![j]!) / total;
              const want = Math.fround(initial[t]![j]! + mean);
              // float64 accumulation: equal up to the final float32 rounding (one ulp)
              expect(Math.abs(result.weights[t]![j]! - want)).toBeLessThanOrEqual(
                2 ** -23 * Math.max(1, Math.abs(want)),
              );
            }
          }
          const fit = result.rounds[0]!.fit;
          expect(fit.status).toBe('applied');
          expect(fit.totalWeight).toBe(total);
          expect(fit.trainLoss).toBeCloseTo(specs.reduce((s, x) => s + x.n * x.n, 0) / total, 6);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('evaluation rounds average loss and metrics weighted by examples', async () => {
    const d = [Float32Array.of(0)];
    const { channels, runs } = startClients({ a: fixedClient(d, 10), b: fixedClient(d, 30) });
    const server = new FedAvgServer({ initialWeights: [Float32Array.of(1)] });
    const result = await runFedAvgServer(server, channels, { rounds: 2, evaluateEvery: 1 });
    await Promise.all(runs);
    const ev = result.rounds[1]!.evaluate!;
    expect(ev.status).toBe('done');
    expect(ev.numExamples).toBe(40);
    expect(ev.loss).toBeCloseTo((10 * 1 + 30 * 3) / 40, 12);
    expect(ev.metrics.accuracy).toBeCloseTo((10 * 0.1 + 30 * (1 / 30)) / 40, 12);
  });
});

describe('client sampling (Flower semantics)', () => {
  const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);

  it('samples max(floor(available * fractionFit), minFitClients) distinct clients', async () => {
    for (const [fraction, min, expected] of [
      [0.5, 2, 5],
      [0.1, 3, 3],
      [1, 2, 10],
      [0.25, 1, 2],
    ] as const) {
      const server = new FedAvgServer({
        initialWeights: [Float32Array.of(0)],
        fractionFit: fraction,
        minFitClients: min,
      });
      const out = await server.startFit(ids);
      expect(out.size).toBe(expected);
      expect(server.numFitClients(10)).toBe(expected);
      for (const id of out.keys()) expect(ids).toContain(id);
    }
  });

  it('skips a round below minAvailableClients or when the sample does not fit', async () => {
    const a = new FedAvgServer({ initialWeights: [Float32Array.of(0)], minAvailableClients: 11 });
    expect((await a.startFit(ids)).size).toBe(0);
    expect(a.lastFit?.status).toBe('skipped');
    expect(a.phase).toBe('idle');
    const b = new FedAvgServer({ initialWeights: [Float32Array.of(0)], minFitClients: 12 });
    expect((await b.startFit(ids)).size).toBe(0);
    expect(b.lastFit?.reason).toMatch(/12 clients to sample/);
  });

  it('refuses overlapping phases and bad ids', async () => {
    const s = new FedAvgServer({ initialWeights: [Float32Array.of(0)] });
    await s.startFit(['a', 'b']);
    await expect(s.startFit(['a', 'b'])).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    const t = new FedAvgServer({ initialWeights: [Float32Array.of(0)] });
    await expect(t.startFit(['a', 'a'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
