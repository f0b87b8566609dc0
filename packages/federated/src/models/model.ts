/**
 * The model contract of the reference models, and minibatch SGD over it.
 *
 * A {@link DifferentiableModel} knows its tensor shapes, a seeded initialisation, the mean
 * cross-entropy loss with its gradient on a batch of rows, and class scores for prediction.
 * {@link trainSgd} runs epochs of shuffled minibatch SGD; {@link evaluateModel} reports loss
 * and accuracy. Any other model plugs into FedAvg through the client's `train` callback.
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import type { Rng } from '../random.js';
import { assertShape, cloneWeights, type Weights, type WeightsShape } from '../tensors.js';
import type { Dataset } from './dataset.js';

/** A model trained by gradient descent on a {@link Dataset}. */
export interface DifferentiableModel {
  /** A short name, e.g. `softmax-784x10`. */
  readonly name: string;
  readonly features: number;
  readonly classes: number;
  /** The lengths of the weight tensors. */
  readonly shape: WeightsShape;
  /** Fresh weights drawn from `rng` (seed it for reproducible runs). */
  init(rng: Rng): Promise<Weights>;
  /**
   * Mean cross-entropy over the rows `rows` of `data`, and its gradient added into `grad`
   * (zeroed by the caller).
   */
  lossAndGradient(weights: Weights, data: Dataset, rows: ArrayLike<number>, grad: Weights): number;
  /** Softmax class probabilities of row `row` into `out` (length `classes`). */
  predict(weights: Weights, data: Dataset, row: number, out: Float64Array): void;
}

/** Minibatch SGD settings. */
export interface SgdConfig {
  /** Passes over the local data (McMahan et al.'s E). */
  epochs: number;
  /** Rows per step (McMahan et al.'s B). */
  batchSize: number;
  learningRate: number;
  /** L2 weight decay (default 0). */
  weightDecay?: number;
  /** Shuffles rows each epoch. */
  rng: Rng;
}

/** What local training produced. */
export interface TrainOutcome {
  weights: Weights;
  numExamples: number;
  /** Mean training loss over the last epoch. */
  loss: number;
}

function checkData(model: DifferentiableModel, data: Dataset): void {
  if (data.features !== model.features || data.classes !== model.classes) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${model.name}: data has ${data.features} features and ${data.classes} classes`,
    );
  }
}

/**
 * Trains a copy of `weights` with shuffled minibatch SGD.
 * @throws UnseenError `ERR_PARAMETER_MISMATCH` when weights or data do not fit the model
 */
export async function trainSgd(
  model: DifferentiableModel,
  weights: Weights,
  data: Dataset,
  config: SgdConfig,
): Promise<TrainOutcome> {
  assertShape(weights, model.shape);
  checkData(model, data);
  const epochs = aint(config.epochs, 'epochs', 0, 10_000);
  const batch = aint(config.batchSize, 'batchSize', 1);
  const lr = anumber(config.learningRate, 'learningRate', 0);
  const decay = anumber(config.weightDecay ?? 0, 'weightDecay', 0);
  const w = cloneWeights(weights);
  const grad = w.map((t) => new Float32Array(t.length));
  let lastLoss = 0;
  for (let e = 0; e < epochs; e++) {
    const order = await config.rng.permutation(data.count);
    let lossSum = 0;
    for (let start = 0; start < data.count; start += batch) {
      const rows = order.subarray(start, Math.min(data.count, start + batch));
      for (const g of grad) g.fill(0);
      lossSum += model.lossAndGradient(w, data, rows, grad) * rows.length;
      for (let t = 0; t < w.length; t++) {
        const wt = w[t]!;
        const gt = grad[t]!;
        for (let i = 0; i < wt.length; i++) wt[i] = wt[i]! - lr * (gt[i]! + decay * wt[i]!);
      }
    }
    lastLoss = data.count > 0 ? lossSum / data.count : 0;
  }
  return { weights: w, numExamples: data.count, loss: lastLoss };
}

/** Loss and accuracy of a model on a dataset. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  numExamples: number;
}

/** Mean cross-entropy and accuracy of `weights` on `data`. */
export function evaluateModel(
  model: DifferentiableModel,
  weights: Weights,
  data: Dataset,
): Evaluation {
  assertShape(weights, model.shape);
  checkData(model, data);
  const p = new Float64Array(model.classes);
  let loss = 0;
  let correct = 0;
  for (let r = 0; r < data.count; r++) {
    model.predict(weights, data, r, p);
    const label = data.y[r]!;
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    if (best === label) correct++;
    loss -= Math.log(Math.max(p[label]!, 1e-300));
  }
  const n = data.count;
  return { loss: n > 0 ? loss / n : 0, accuracy: n > 0 ? correct / n : 0, numExamples: n };
}

/**
 * Softmax of `z` in place, stable against overflow: the largest logit is subtracted first, so
 * huge finite logits give exact 0/1 probabilities rather than `Infinity / Infinity`. Logits
 * that are not finite cannot come from finite weights and data in the reference models (their
 * float64 sums of float32 products stay far below the float64 range), but a probability vector
 * never turns NaN either way: NaN logits count as -Infinity, the +Infinity logits share the
 * mass equally, and all -Infinity (or all NaN) logits give the uniform distribution.
 */
export function softmaxInPlace(z: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < z.length; i++) if (z[i]! > max) max = z[i]!;
  if (max === Infinity) {
    let k = 0;
    for (let i = 0; i < z.length; i++) if (z[i] === Infinity) k++;
    for (let i = 0; i < z.length; i++) z[i] = z[i] === Infinity ? 1 / k : 0;
    return;
  }
  if (max === -Infinity) {
    z.fill(1 / z.length);
    return;
  }
  let s = 0;
  for (let i = 0; i < z.length; i++) {
    const v = z[i]!;
    z[i] = Number.isNaN(v) ? 0 : Math.exp(v - max); // NaN counts as -Infinity
    s += z[i]!;
  }
  for (let i = 0; i < z.length; i++) z[i] = z[i]! / s;
}
