/**
 * Multinomial logistic (softmax) regression: `p = softmax(W x + b)`, trained on mean
 * cross-entropy. Weights: `[W (classes x features, row-major), b (classes)]`.
 * @module
 */
import { aint } from '@unseen/core';
import type { Rng } from '../random.js';
import type { Weights } from '../tensors.js';
import type { Dataset } from './dataset.js';
import { type DifferentiableModel, softmaxInPlace } from './model.js';

/**
 * A softmax-regression model.
 * @example
 * ```ts
 * const model = softmaxRegression({ features: 784, classes: 10 });
 * const w = await model.init(await Rng.seeded(1));
 * ```
 */
export function softmaxRegression(options: {
  features: number;
  classes: number;
  /** Std of the initial weights (default 0.01; biases start at 0). */
  initStd?: number;
}): DifferentiableModel {
  const F = aint(options.features, 'features', 1);
  const C = aint(options.classes, 'classes', 2);
  const initStd = options.initStd ?? 0.01;
  const z = new Float64Array(C);
  const forward = (w: Weights, data: Dataset, row: number): void => {
    const W = w[0]!;
    const b = w[1]!;
    const x = data.x;
    const off = row * F;
    for (let c = 0; c < C; c++) {
      let s = b[c]!;
      const wo = c * F;
      for (let i = 0; i < F; i++) s += W[wo + i]! * x[off + i]!;
      z[c] = s;
    }
    softmaxInPlace(z);
  };
  return {
    name: `softmax-${F}x${C}`,
    features: F,
    classes: C,
    shape: [C * F, C],
    async init(rng: Rng): Promise<Weights> {
      return [Float32Array.from(await rng.normals(C * F, initStd)), new Float32Array(C)];
    },
    lossAndGradient(w, data, rows, grad): number {
      const gW = grad[0]!;
      const gb = grad[1]!;
      const x = data.x;
      const inv = 1 / rows.length;
      let loss = 0;
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k]!;
        forward(w, data, r);
        const label = data.y[r]!;
        loss -= Math.log(Math.max(z[label]!, 1e-300));
        const off = r * F;
        for (let c = 0; c < C; c++) {
          const d = (z[c]! - (c === label ? 1 : 0)) * inv; // dL/dz_c = p_c - 1[c = y]
          if (d === 0) continue;
          gb[c] = gb[c]! + d;
          const wo = c * F;
          for (let i = 0; i < F; i++) gW[wo + i] = gW[wo + i]! + d * x[off + i]!;
        }
      }
      return loss * inv;
    },
    predict(w, data, row, out): void {
      forward(w, data, row);
      out.set(z);
    },
  };
}
