/**
 * Record-level differential privacy for a provider's local training: DP-SGD (Abadi et al.,
 * "Deep Learning with Differential Privacy", CCS 2016, Algorithm 1). Each step samples every
 * record with probability q (Poisson sampling), clips each sampled record's gradient to L2 norm
 * C, adds Gaussian noise N(0, sigma^2 C^2) to the sum and divides by the expected batch q N.
 *
 * Each step is the sampled Gaussian mechanism with respect to adding or removing one record;
 * its Rényi DP is that of Mironov, Talwar and Zhang (2019), composed over all the steps of the
 * job (Mironov 2017) and converted to (epsilon, delta) by @unseen/federated's `RdpAccountant`.
 * The guarantee rests on the provider's own noise only, so it holds against the consumer, the
 * exchange and the other providers together, whatever the initial weights they send.
 *
 * Noise and sampling come from `crypto.getRandomValues` (never seeded); the Gaussian sampler is
 * @unseen/federated's Box-Muller over 53-bit uniforms (see its notes on floating-point noise).
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import {
  type Dataset,
  type DifferentiableModel,
  l2Norm,
  type PrivacySpent,
  RdpAccountant,
  Rng,
  type Weights,
} from '@unseen/federated';

/** DP-SGD settings. */
export interface DpSgdConfig {
  /** Noisy steps. */
  steps: number;
  /** Poisson sampling rate q of each record per step. */
  samplingRate: number;
  learningRate: number;
  /** Per-record gradient clipping norm C. */
  clipNorm: number;
  /** sigma: noise standard deviation over C (0 trains without noise: no guarantee). */
  noiseMultiplier: number;
}

/** The (epsilon, delta) of `steps` DP-SGD steps at sampling rate q and noise multiplier sigma. */
export function dpSgdPrivacy(
  config: Pick<DpSgdConfig, 'steps' | 'samplingRate' | 'noiseMultiplier'>,
  delta: number,
): PrivacySpent {
  anumber(delta, 'delta', Number.MIN_VALUE, 1);
  if (!(config.noiseMultiplier > 0)) return { epsilon: Infinity, delta, order: 0 };
  return new RdpAccountant()
    .step({ q: config.samplingRate, noiseMultiplier: config.noiseMultiplier, steps: config.steps })
    .epsilon(delta);
}

/**
 * Trains a copy of `weights` with DP-SGD on `data`.
 * @param rng sampling and noise (default `Rng.crypto()`; seed it only for tests)
 */
export async function dpSgd(
  model: DifferentiableModel,
  weights: Weights,
  data: Dataset,
  config: DpSgdConfig,
  rng: Rng = Rng.crypto(),
): Promise<Weights> {
  const steps = aint(config.steps, 'steps', 0, 1_000_000);
  const q = anumber(config.samplingRate, 'samplingRate', Number.MIN_VALUE, 1);
  const lr = anumber(config.learningRate, 'learningRate', 0);
  const clip = anumber(config.clipNorm, 'clipNorm', Number.MIN_VALUE);
  const sigma = anumber(config.noiseMultiplier, 'noiseMultiplier', 0);
  if (data.count === 0) throw new UnseenError('ERR_INVALID_ARGUMENT', 'DP-SGD: no records');
  const w = weights.map((t) => Float64Array.from(t));
  const current = (): Weights => w.map((t) => Float32Array.from(t));
  const grad = model.shape.map((n) => new Float32Array(n));
  const sum = model.shape.map((n) => new Float64Array(n));
  const expected = q * data.count;
  const one = new Uint32Array(1);
  for (let s = 0; s < steps; s++) {
    const at = current();
    for (const t of sum) t.fill(0);
    const u = await rng.uniforms(data.count);
    for (let r = 0; r < data.count; r++) {
      if (u[r]! >= q) continue;
      for (const g of grad) g.fill(0);
      one[0] = r;
      model.lossAndGradient(at, data, one, grad);
      const norm = l2Norm(grad);
      const scale = norm > clip ? clip / norm : 1;
      for (let t = 0; t < grad.length; t++) {
        const g = grad[t]!;
        const acc = sum[t]!;
        for (let i = 0; i < g.length; i++) acc[i] = acc[i]! + scale * g[i]!;
      }
    }
    for (let t = 0; t < sum.length; t++) {
      const acc = sum[t]!;
      const z = sigma > 0 ? await rng.normals(acc.length, sigma * clip) : undefined;
      const wt = w[t]!;
      for (let i = 0; i < acc.length; i++) {
        wt[i] = wt[i]! - (lr * (acc[i]! + (z === undefined ? 0 : z[i]!))) / expected;
      }
    }
  }
  return current();
}
