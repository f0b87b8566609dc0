/**
 * Record-level differential privacy for local training: DP-SGD (Abadi et al., "Deep Learning
 * with Differential Privacy", CCS 2016, Algorithm 1). Each step samples every record with
 * probability q (Poisson sampling), clips each sampled record's gradient to L2 norm C, adds
 * Gaussian noise N(0, sigma^2 C^2) to the sum and divides by the expected batch q N.
 *
 * Each step is the sampled Gaussian mechanism with respect to adding or removing one record;
 * its Rényi DP is that of Mironov, Talwar and Zhang (2019), composed over all the steps
 * (Mironov 2017) and converted to (epsilon, delta) by {@link RdpAccountant}. The guarantee
 * rests on the trainer's own noise only, so it holds against whoever chose the starting
 * weights (a FedAvg server), the aggregator and the other clients together.
 *
 * Hostile starting weights. The server picks the weights, and finite float32 weights can make
 * one record's gradient overflow float32 (a record-dependent Infinity, then `0 * Infinity =
 * NaN` in a naive clip): a NaN update would tell the server whether a sampled record satisfies
 * a predicate of its choosing, outside the accounting. Here a per-example gradient that is not
 * finite contributes exactly what a zero gradient contributes ({@link addClipped}), norms are
 * computed in float64 with scaling ({@link l2Norm}), and the weights are kept within the
 * float32 range (a clamp applied to the noisy, already private values: post-processing). So
 * every step completes, the update is finite, and a record's presence changes the noisy sum
 * by at most C whatever the weights.
 *
 * Noise and sampling come from {@link Rng} (`crypto.getRandomValues` unless seeded for tests);
 * the Gaussian sampler is Box-Muller over 53-bit uniforms (see `random.ts` on floating-point
 * noise).
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import type { Dataset } from './models/dataset.js';
import type { DifferentiableModel } from './models/model.js';
import { Rng } from './random.js';
import { type PrivacySpent, RdpAccountant } from './rdp.js';
import { addClipped, allFinite, assertShape, type Weights } from './tensors.js';

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
  /**
   * Fixed-size batches instead of Poisson sampling: each step trains on exactly this many
   * distinct records drawn uniformly (and divides by it), so no step ever sums fewer. Only
   * without noise (`noiseMultiplier` 0): the accounting assumes Poisson sampling.
   */
  batchSize?: number;
}

/** Largest finite float32 value: weights are kept within [-FLT_MAX, FLT_MAX]. */
const FLT_MAX = 3.4028234663852886e38;

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
 * @param weights starting weights (e.g. a server's): checked for the model's shape and finite
 * @param rng sampling and noise (default `Rng.crypto()`; seed it only for tests)
 * @throws UnseenError `ERR_INVALID_ARGUMENT` (bad settings, no records, non-finite weights),
 *   `ERR_PARAMETER_MISMATCH` (weights or data that do not fit the model)
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
  const batch =
    config.batchSize === undefined
      ? undefined
      : aint(config.batchSize, 'batchSize', 1, Math.max(1, data.count));
  if (batch !== undefined && sigma > 0) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'DP-SGD: fixed-size batches only without noise (the accounting assumes Poisson sampling)',
    );
  }
  assertShape(weights, model.shape);
  if (!allFinite(weights)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'DP-SGD: the weights hold a non-finite value');
  }
  if (data.features !== model.features || data.classes !== model.classes) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${model.name}: data has ${data.features} features and ${data.classes} classes`,
    );
  }
  if (data.count === 0) throw new UnseenError('ERR_INVALID_ARGUMENT', 'DP-SGD: no records');
  const w = weights.map((t) => Float64Array.from(t));
  const current = (): Weights => w.map((t) => Float32Array.from(t));
  const grad = model.shape.map((n) => new Float32Array(n));
  const sum = model.shape.map((n) => new Float64Array(n));
  const expected = batch ?? q * data.count;
  const one = new Uint32Array(1);
  const clipped = (r: number, at: Weights): void => {
    for (const g of grad) g.fill(0);
    one[0] = r;
    model.lossAndGradient(at, data, one, grad);
    addClipped(sum, grad, clip); // a non-finite gradient adds nothing
  };
  for (let s = 0; s < steps; s++) {
    const at = current();
    for (const t of sum) t.fill(0);
    if (batch === undefined) {
      const u = await rng.uniforms(data.count);
      for (let r = 0; r < data.count; r++) if (u[r]! < q) clipped(r, at);
    } else {
      const order = await rng.permutation(data.count);
      for (let k = 0; k < batch; k++) clipped(order[k]!, at);
    }
    for (let t = 0; t < sum.length; t++) {
      const acc = sum[t]!;
      const z = sigma > 0 ? await rng.normals(acc.length, sigma * clip) : undefined;
      const wt = w[t]!;
      for (let i = 0; i < acc.length; i++) {
        const v = wt[i]! - (lr * (acc[i]! + (z === undefined ? 0 : z[i]!))) / expected;
        // wt is finite and the step finite or +-Infinity (a huge learning rate), so v is never
        // NaN; the clamp (post-processing of the noisy sum) keeps the weights float32 numbers.
        wt[i] = Math.min(FLT_MAX, Math.max(-FLT_MAX, v));
      }
    }
  }
  return current();
}
