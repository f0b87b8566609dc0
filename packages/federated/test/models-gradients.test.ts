/** The reference models: gradients against central finite differences, seeded init, SGD. */
import {
  type DifferentiableModel,
  evaluateModel,
  mlp,
  Rng,
  softmaxRegression,
  trainSgd,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';
import { blobs } from './helpers.js';

async function checkGradient(model: DifferentiableModel): Promise<void> {
  const data = await blobs(12, model.features, model.classes);
  const rows = Uint32Array.from({ length: 8 }, (_, i) => i + 2);
  const w = await model.init(await Rng.seeded(3));
  // Move off the init so biases and every ReLU pattern matter.
  for (const t of w)
    for (let i = 0; i < t.length; i++) t[i] = t[i]! + 0.05 * Math.sin(7 * i + t.length);
  const grad = w.map((t) => new Float32Array(t.length));
  model.lossAndGradient(w, data, rows, grad);
  const h = 1e-2;
  let checked = 0;
  for (let t = 0; t < w.length; t++) {
    for (let i = 0; i < w[t]!.length; i += Math.max(1, Math.floor(w[t]!.length / 15))) {
      const orig = w[t]![i]!;
      const g = w.map((x) => new Float32Array(x.length));
      w[t]![i] = orig + h;
      const up = model.lossAndGradient(w, data, rows, g);
      w[t]![i] = orig - h;
      const down = model.lossAndGradient(w, data, rows, g);
      w[t]![i] = orig;
      const numeric = (up - down) / (2 * h);
      expect(Math.abs(grad[t]![i]! - numeric)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
      checked++;
    }
  }
  expect(checked).toBeGreaterThanOrEqual(18);
}

describe('reference models', () => {
  it('softmax regression: analytic gradient = finite differences', async () => {
    await checkGradient(softmaxRegression({ features: 5, classes: 3, initStd: 0.5 }));
  });

  it('MLP: analytic gradient = finite differences', async () => {
    await checkGradient(mlp({ features: 5, hidden: 7, classes: 3 }));
  });

  it('initialisation is reproducible from a seed and differs across seeds', async () => {
    const m = mlp({ features: 4, hidden: 3, classes: 2 });
    const a = await m.init(await Rng.seeded(1));
    const b = await m.init(await Rng.seeded(1));
    const c = await m.init(await Rng.seeded(2));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.map((t) => t.length)).toEqual([12, 3, 6, 2]);
  });

  it('minibatch SGD learns separable blobs', async () => {
    const data = await blobs(300, 6, 4);
    for (const model of [
      softmaxRegression({ features: 6, classes: 4 }),
      mlp({ features: 6, hidden: 16, classes: 4 }),
    ]) {
      const w = await model.init(await Rng.seeded(5));
      const before = evaluateModel(model, w, data);
      const out = await trainSgd(model, w, data, {
        epochs: 10,
        batchSize: 10,
        learningRate: 0.1,
        rng: await Rng.seeded(6),
      });
      const after = evaluateModel(model, out.weights, data);
      expect(after.loss).toBeLessThan(before.loss);
      expect(after.accuracy).toBeGreaterThan(0.95);
      expect(out.numExamples).toBe(300);
      expect(w).not.toBe(out.weights); // the input is not modified
    }
  });

  it('refuses weights or data of another shape', async () => {
    const m = softmaxRegression({ features: 3, classes: 2 });
    const data = await blobs(4, 4, 2);
    const w = await m.init(await Rng.seeded(1));
    await expect(
      trainSgd(m, w, data, { epochs: 1, batchSize: 2, learningRate: 0.1, rng: Rng.crypto() }),
    ).rejects.toMatchObject({
      code: 'ERR_PARAMETER_MISMATCH',
    });
    const same = await blobs(4, 3, 2);
    expect(() => evaluateModel(m, [w[0]!], same)).toThrow(
      expect.objectContaining({ code: 'ERR_PARAMETER_MISMATCH' }),
    );
  });
});
