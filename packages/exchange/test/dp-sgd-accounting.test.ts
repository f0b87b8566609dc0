/**
 * DP-SGD (Abadi et al. 2016) as the federated runner trains: without noise and clipping on the
 * full batch it is plain gradient descent (checked against @unseen/federated's `trainSgd`);
 * clipping bounds every step; the noise has the stated scale; and the privacy a job must state is
 * the RDP accounting of all its steps (checked against the sampled Gaussian's published value
 * and by composition).
 */
import {
  dpSgd,
  dpSgdPrivacy,
  federatedModel,
  federatedPrivacy,
  parseFederatedParams,
} from '@unseen/exchange';
import {
  createDataset,
  l2Norm,
  RdpAccountant,
  Rng,
  subtractWeights,
  trainSgd,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';

const params = {
  features: [
    { column: 'x', lower: 0, upper: 1 },
    { column: 'y', lower: 0, upper: 1 },
  ],
  label: { column: 'l', classes: 2 },
  rounds: 3,
  localSteps: 10,
  samplingRate: 0.1,
  noiseMultiplier: 1.1,
};

async function data(n: number) {
  const rng = await Rng.seeded(3);
  const x = Float32Array.from(await rng.uniforms(2 * n));
  const y = Array.from({ length: n }, (_, i) => (x[2 * i]! + x[2 * i + 1]! > 1 ? 1 : 0));
  return createDataset(x, y, 2, 2);
}

describe('DP-SGD', () => {
  it('with sampling rate 1, no noise and no effective clipping, one step is a full-batch gradient step', async () => {
    const model = federatedModel(parseFederatedParams(params));
    const d = await data(200);
    const w0 = await model.init(await Rng.seeded(1));
    const ours = await dpSgd(model, w0, d, {
      steps: 1,
      samplingRate: 1,
      learningRate: 0.5,
      clipNorm: 1e6,
      noiseMultiplier: 0,
    });
    const plain = await trainSgd(model, w0, d, {
      epochs: 1,
      batchSize: 200,
      learningRate: 0.5,
      rng: await Rng.seeded(2),
    });
    ours.forEach((t, i) => {
      t.forEach((v, j) => {
        expect(v).toBeCloseTo(plain.weights[i]![j]!, 5);
      });
    });
  });

  it('clipping bounds each step: |w_t+1 - w_t| <= lr * C * |batch| / (q N) without noise', async () => {
    const model = federatedModel(parseFederatedParams(params));
    const d = await data(300);
    const w0 = await model.init(await Rng.seeded(1));
    const C = 0.01;
    const next = await dpSgd(model, w0, d, {
      steps: 1,
      samplingRate: 1,
      learningRate: 1,
      clipNorm: C,
      noiseMultiplier: 0,
    });
    // Every record sampled (q = 1): the mean of clipped gradients has norm at most C.
    expect(l2Norm(subtractWeights(next, w0))).toBeLessThanOrEqual(C * (1 + 1e-5));
  });

  it('the noise has standard deviation lr * sigma * C / (q N) per coordinate and step', async () => {
    const model = federatedModel(parseFederatedParams(params));
    const d = await data(100);
    const w0 = await model.init(await Rng.seeded(1));
    // A sampling rate so low that no record is drawn (P < 3e-3 over all runs; one drawn record
    // would move the sum of squares by about 1): what moves is the noise alone, divided by the
    // expected batch q N.
    const q = 1e-8;
    const diffs: number[] = [];
    for (let k = 0; k < 2000; k++) {
      const w = await dpSgd(model, w0, d, {
        steps: 1,
        samplingRate: q,
        learningRate: 1,
        clipNorm: 1,
        noiseMultiplier: 2,
      });
      for (const t of subtractWeights(w, w0)) diffs.push(...t);
    }
    // sum(v^2) / sd^2 is chi-square with n degrees of freedom: mean n, sd sqrt(2n). Bounds at
    // 5 sd (about p = 6e-7 two-sided), as the repo's statistical tests use p = 1e-6.
    const n = diffs.length;
    const expected = 2 / (q * 100);
    const chi2 = diffs.reduce((s, v) => s + (v / expected) ** 2, 0);
    expect(Math.abs(chi2 - n)).toBeLessThan(5 * Math.sqrt(2 * n));
  });

  it('a job spends the RDP accounting of rounds * localSteps sampled Gaussian steps, rounded up to 1e-6', () => {
    const spent = federatedPrivacy(params, 1e-5);
    expect(spent.steps).toBe(30);
    const direct = new RdpAccountant()
      .step({ q: 0.1, noiseMultiplier: 1.1, steps: 30 })
      .epsilon(1e-5);
    expect(spent.epsilon).toBeGreaterThanOrEqual(direct.epsilon);
    expect(spent.epsilon - direct.epsilon).toBeLessThan(1e-6 + 1e-12);
    // More steps, less noise or a smaller delta cost more.
    expect(federatedPrivacy({ ...params, rounds: 6 }, 1e-5).epsilon).toBeGreaterThan(spent.epsilon);
    expect(federatedPrivacy({ ...params, noiseMultiplier: 0.8 }, 1e-5).epsilon).toBeGreaterThan(
      spent.epsilon,
    );
    expect(federatedPrivacy(params, 1e-7).epsilon).toBeGreaterThan(spent.epsilon);
    // TensorFlow Privacy's compute_dp_sgd_privacy Test0 (q = 150/60000, sigma 1.3, 6000 steps).
    const tf = dpSgdPrivacy({ steps: 6000, samplingRate: 150 / 60000, noiseMultiplier: 1.3 }, 1e-5);
    expect(tf.epsilon).toBeCloseTo(0.7242234026109595, 9);
    // No noise: no guarantee.
    expect(dpSgdPrivacy({ steps: 1, samplingRate: 0.1, noiseMultiplier: 0 }, 1e-5).epsilon).toBe(
      Infinity,
    );
  });
});
