/**
 * A multilayer perceptron with one hidden ReLU layer and a softmax output:
 * `p = softmax(W2 relu(W1 x + b1) + b2)`. Weights: `[W1 (hidden x features), b1 (hidden),
 * W2 (classes x hidden), b2 (classes)]`, row-major. Initialisation: He normal for W1
 * (std sqrt(2 / features)), Glorot normal for W2 (std sqrt(2 / (hidden + classes))), zero
 * biases. Rows are read sparsely (zero inputs are skipped), which suits pixel data.
 * @module
 */
import { aint } from '@unseen/core';
import type { Rng } from '../random.js';
import type { Weights } from '../tensors.js';
import type { Dataset } from './dataset.js';
import { type DifferentiableModel, softmaxInPlace } from './model.js';

/**
 * A one-hidden-layer MLP.
 * @example
 * ```ts
 * const model = mlp({ features: 784, hidden: 64, classes: 10 });
 * ```
 */
export function mlp(options: {
  features: number;
  hidden: number;
  classes: number;
}): DifferentiableModel {
  const F = aint(options.features, 'features', 1);
  const H = aint(options.hidden, 'hidden', 1);
  const C = aint(options.classes, 'classes', 2);
  const pre = new Float64Array(H);
  const h = new Float64Array(H);
  const z = new Float64Array(C);
  const dh = new Float64Array(H);
  const nz = new Uint32Array(F);
  let nnz = 0;

  const forward = (w: Weights, data: Dataset, row: number): void => {
    const [W1, b1, W2, b2] = w as [Float32Array, Float32Array, Float32Array, Float32Array];
    const x = data.x;
    const off = row * F;
    nnz = 0;
    for (let i = 0; i < F; i++) if (x[off + i] !== 0) nz[nnz++] = i;
    for (let j = 0; j < H; j++) {
      let s = b1[j]!;
      const wo = j * F;
      for (let k = 0; k < nnz; k++) {
        const i = nz[k]!;
        s += W1[wo + i]! * x[off + i]!;
      }
      pre[j] = s;
      h[j] = Math.max(s, 0); // ReLU
    }
    for (let c = 0; c < C; c++) {
      let s = b2[c]!;
      const wo = c * H;
      for (let j = 0; j < H; j++) s += W2[wo + j]! * h[j]!;
      z[c] = s;
    }
    softmaxInPlace(z);
  };

  return {
    name: `mlp-${F}x${H}x${C}`,
    features: F,
    classes: C,
    shape: [H * F, H, C * H, C],
    async init(rng: Rng): Promise<Weights> {
      return [
        Float32Array.from(await rng.normals(H * F, Math.sqrt(2 / F))),
        new Float32Array(H),
        Float32Array.from(await rng.normals(C * H, Math.sqrt(2 / (H + C)))),
        new Float32Array(C),
      ];
    },
    lossAndGradient(w, data, rows, grad): number {
      const W2 = w[2]!;
      const [gW1, gb1, gW2, gb2] = grad as [Float32Array, Float32Array, Float32Array, Float32Array];
      const x = data.x;
      const inv = 1 / rows.length;
      let loss = 0;
      for (let k = 0; k < rows.length; k++) {
        const r = rows[k]!;
        forward(w, data, r);
        const label = data.y[r]!;
        loss -= Math.log(Math.max(z[label]!, 1e-300));
        dh.fill(0);
        for (let c = 0; c < C; c++) {
          const d = (z[c]! - (c === label ? 1 : 0)) * inv; // dL/dz_c
          gb2[c] = gb2[c]! + d;
          const wo = c * H;
          for (let j = 0; j < H; j++) {
            gW2[wo + j] = gW2[wo + j]! + d * h[j]!;
            dh[j] = dh[j]! + d * W2[wo + j]!; // back through W2
          }
        }
        const off = r * F;
        for (let j = 0; j < H; j++) {
          if (pre[j]! <= 0) continue; // ReLU gate
          const d = dh[j]!;
          gb1[j] = gb1[j]! + d;
          const wo = j * F;
          for (let q = 0; q < nnz; q++) {
            const i = nz[q]!;
            gW1[wo + i] = gW1[wo + i]! + d * x[off + i]!;
          }
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
