/**
 * DP-FedAvg: clipping, central and distributed Gaussian noise with the variance the accountant
 * assumes, and (epsilon, delta) reported after every round.
 */
import {
  clipByL2Norm,
  FedAvgServer,
  l2Norm,
  RdpAccountant,
  Rng,
  runFedAvgServer,
  type Weights,
} from '@unseen/federated';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startClients } from './helpers.js';

function variance(x: ArrayLike<number>): { mean: number; variance: number } {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i]!;
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - m) ** 2;
  return { mean: m, variance: v / (x.length - 1) };
}

describe('Gaussian noise and clipping', () => {
  it('the sampler has the stated mean and variance (seeded, 200k draws)', async () => {
    const z = await (await Rng.seeded(11)).normals(200_000, 3);
    const { mean, variance: v } = variance(z);
    expect(Math.abs(mean)).toBeLessThan(0.03); // 5 standard errors: 5 * 3 / sqrt(2e5)
    expect(Math.abs(v / 9 - 1)).toBeLessThan(0.02);
    // tails: P(|Z| > 2 sigma) = 0.0455
    const tail = z.filter((x) => Math.abs(x) > 6).length / z.length;
    expect(Math.abs(tail - 0.0455)).toBeLessThan(0.003);
  });

  it('clipping bounds the L2 norm and keeps the direction', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0.01, max: 10, noNaN: true }),
        (v, c) => {
          const u: Weights = [Float32Array.from(v)];
          const { update, norm, clipped } = clipByL2Norm(u, c);
          expect(l2Norm(update)).toBeLessThanOrEqual(c);
          expect(clipped).toBe(norm > c);
          if (!clipped) expect(update).toEqual(u);
        },
      ),
    );
  });
});

async function noisyRound(
  noise: 'central' | 'distributed',
  n: number,
  sigma: number,
  clip: number,
): Promise<Float32Array> {
  const length = 40_000;
  const clients = Object.fromEntries(
    await Promise.all(
      Array.from({ length: n }, async (_, i) => [
        `c${i}`,
        {
          train: async (w: Weights) => ({ weights: w, numExamples: 1 }),
          rng: await Rng.seeded(100 + i),
        },
      ]),
    ),
  );
  const { channels, runs } = startClients(clients);
  const server = new FedAvgServer({
    initialWeights: [new Float32Array(length)],
    minFitClients: n,
    dp: { noiseMultiplier: sigma, clipNorm: clip, noise, sampling: 'fixed' },
    rng: await Rng.seeded(99),
  });
  const r = await runFedAvgServer(server, channels, { rounds: 1 });
  await Promise.all(runs);
  return r.weights[0]!;
}

describe('DP-FedAvg noise', () => {
  // The released mean is (sum of clipped updates + N(0, sigma^2 C^2)) / n: zero updates leave
  // only the noise, whose per-coordinate variance must be sigma^2 C^2 / n^2 either way.
  for (const noise of ['central', 'distributed'] as const) {
    it(`${noise} noise: the aggregate carries N(0, sigma^2 C^2) in total`, async () => {
      const n = 5;
      const sigma = 1.2;
      const clip = 0.5;
      const w = await noisyRound(noise, n, sigma, clip);
      const { mean, variance: v } = variance(w);
      const target = (sigma * clip) ** 2 / n ** 2;
      expect(Math.abs(mean)).toBeLessThan(5 * Math.sqrt(target / w.length));
      expect(Math.abs(v / target - 1)).toBeLessThan(0.03); // 40k samples: 0.7% standard error
    });
  }
});

describe('privacy accounting per round', () => {
  it('reports (epsilon, delta) after each round, equal to the accountant of q and sigma', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `c${i}`);
    const clients = Object.fromEntries(
      ids.map((id) => [
        id,
        {
          train: async (w: Weights) => ({
            weights: w.map((t) => t.map((v) => v + 1)),
            numExamples: 3,
          }),
        },
      ]),
    );
    const { channels, runs } = startClients(clients);
    const server = new FedAvgServer({
      initialWeights: [new Float32Array(4)],
      fractionFit: 0.5,
      minFitClients: 1,
      dp: { noiseMultiplier: 1.1, clipNorm: 1, delta: 1e-5, sampling: 'poisson' },
    });
    const r = await runFedAvgServer(server, channels, { rounds: 4 });
    await Promise.all(runs);
    const applied = r.rounds.filter((x) => x.fit.status === 'applied');
    expect(applied.length).toBeGreaterThan(0);
    let prev = 0;
    let steps = 0;
    for (const round of r.rounds) {
      if (round.fit.status === 'applied') steps++;
      const acc = new RdpAccountant().step({ q: 0.5, noiseMultiplier: 1.1, steps });
      expect(round.fit.privacy!.epsilon).toBeCloseTo(acc.epsilon(1e-5).epsilon, 12);
      expect(round.fit.privacy!.delta).toBe(1e-5);
      expect(round.fit.privacy!.epsilon).toBeGreaterThanOrEqual(prev);
      prev = round.fit.privacy!.epsilon;
    }
    // every client's update was clipped to norm 1 (it asked for 2)
    for (const round of applied) expect(round.fit.totalWeight).toBe(round.fit.contributors.length);
  });

  it('distributed noise with dropouts is charged at the noise actually added', async () => {
    const clients = {
      a: { train: async (w: Weights) => ({ weights: w, numExamples: 1 }) },
      b: { train: async (w: Weights) => ({ weights: w, numExamples: 1 }) },
      c: { train: async () => Promise.reject(new Error('gone')) },
      d: { train: async () => Promise.reject(new Error('gone')) },
    };
    const { channels, runs } = startClients(clients);
    const server = new FedAvgServer({
      initialWeights: [new Float32Array(4)],
      minFitClients: 4,
      dp: { noiseMultiplier: 2, clipNorm: 1, noise: 'distributed', sampling: 'fixed' },
    });
    const r = await runFedAvgServer(server, channels, { rounds: 1 });
    await Promise.all(runs);
    // 2 of 4 added their sigma^2/4 share: effective sigma = 2 * sqrt(2/4)
    const want = new RdpAccountant()
      .step({ q: 1, noiseMultiplier: 2 * Math.sqrt(0.5) })
      .epsilon(1e-5).epsilon;
    expect(r.rounds[0]!.fit.privacy!.epsilon).toBeCloseTo(want, 12);
  });
});
