/**
 * Model weights of any shape: a list of `Float32Array` tensors (a layer's weight matrix, its
 * bias, ...), and the arithmetic FedAvg needs on them. Sums run in float64 so that an average
 * over many clients loses nothing before the final rounding to float32.
 * @module
 */
import { UnseenError } from '@unseen/core';

/** Model weights (or an update to them): one flat Float32Array per tensor. */
export type Weights = Float32Array[];

/** The lengths of the tensors of a model: what two weight lists must agree on. */
export type WeightsShape = readonly number[];

/** The shape (tensor lengths) of `weights`. */
export function shapeOf(weights: readonly Float32Array[]): number[] {
  return weights.map((t) => t.length);
}

/** Total number of values in all tensors. */
export function totalLength(shape: WeightsShape): number {
  let n = 0;
  for (const l of shape) n += l;
  return n;
}

/**
 * Checks that `weights` is a list of Float32Arrays with the given tensor lengths.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` when it is not a list of Float32Arrays,
 * `ERR_PARAMETER_MISMATCH` when the shape differs
 */
export function assertShape(weights: unknown, shape: WeightsShape, what = 'weights'): Weights {
  if (!Array.isArray(weights) || !weights.every((t) => t instanceof Float32Array)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${what}: expected an array of Float32Array`);
  }
  if (weights.length !== shape.length || weights.some((t, i) => t.length !== shape[i])) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${what}: shape [${shapeOf(weights).join(', ')}] differs from the model's [${shape.join(', ')}]`,
      { details: { expected: [...shape], actual: shapeOf(weights) } },
    );
  }
  return weights;
}

/** True when every value is finite (no NaN or infinity). */
export function allFinite(weights: readonly Float32Array[]): boolean {
  for (const t of weights)
    for (let i = 0; i < t.length; i++) if (!Number.isFinite(t[i]!)) return false;
  return true;
}

/** A deep copy. */
export function cloneWeights(weights: readonly Float32Array[]): Weights {
  return weights.map((t) => t.slice());
}

/** Zero tensors of the given shape. */
export function zerosOf(shape: WeightsShape): Weights {
  return shape.map((n) => new Float32Array(n));
}

/** `a - b`, tensor by tensor (shapes must agree). */
export function subtractWeights(a: readonly Float32Array[], b: readonly Float32Array[]): Weights {
  assertShape(b, shapeOf(a), 'subtrahend');
  return a.map((t, i) => {
    const u = b[i]!;
    const out = new Float32Array(t.length);
    for (let j = 0; j < t.length; j++) out[j] = t[j]! - u[j]!;
    return out;
  });
}

/** `a + scale * b` into a new list (shapes must agree). */
export function addScaled(
  a: readonly Float32Array[],
  b: readonly Float32Array[],
  scale = 1,
): Weights {
  assertShape(b, shapeOf(a), 'addend');
  return a.map((t, i) => {
    const u = b[i]!;
    const out = new Float32Array(t.length);
    for (let j = 0; j < t.length; j++) out[j] = t[j]! + scale * u[j]!;
    return out;
  });
}

/**
 * The Euclidean (L2) norm of all values together, in float64, scaled by the largest magnitude
 * (as BLAS `dnrm2`) so that no square overflows or underflows: finite inputs always give a
 * finite norm. Like `Math.hypot`, an infinite value gives `Infinity` and otherwise a NaN gives
 * `NaN`.
 */
export function l2Norm(weights: readonly ArrayLike<number>[]): number {
  let max = 0;
  let nan = false;
  for (const t of weights) {
    for (let i = 0; i < t.length; i++) {
      const a = Math.abs(t[i]!);
      if (a > max) max = a;
      else if (Number.isNaN(a)) nan = true;
    }
  }
  if (max === Infinity) return Infinity;
  if (nan) return Number.NaN;
  if (max === 0) return 0;
  let s = 0;
  for (const t of weights) {
    for (let i = 0; i < t.length; i++) {
      const v = t[i]! / max;
      s += v * v;
    }
  }
  return max * Math.sqrt(s);
}

/** All tensors concatenated into one float64 vector. */
export function flatten(weights: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(totalLength(shapeOf(weights)));
  let off = 0;
  for (const t of weights) {
    out.set(t, off);
    off += t.length;
  }
  return out;
}

/** Splits a flat vector back into tensors of `shape` (rounding to float32). */
export function unflatten(flat: ArrayLike<number>, shape: WeightsShape): Weights {
  if (flat.length !== totalLength(shape)) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `unflatten: ${flat.length} values for a model of ${totalLength(shape)}`,
    );
  }
  const out: Weights = [];
  let off = 0;
  for (const n of shape) {
    const t = new Float32Array(n);
    for (let i = 0; i < n; i++) t[i] = flat[off + i]!;
    out.push(t);
    off += n;
  }
  return out;
}

/** Splits a flat float64 vector into float64 pieces of the tensor lengths of `shape`. */
export function splitByShape(flat: Float64Array, shape: WeightsShape): Float64Array[] {
  if (flat.length < totalLength(shape)) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${flat.length} values for a model of ${totalLength(shape)}`,
    );
  }
  const out: Float64Array[] = [];
  let off = 0;
  for (const n of shape) {
    out.push(flat.slice(off, off + n));
    off += n;
  }
  return out;
}

/** The result of {@link clipByL2Norm}. */
export interface ClipResult {
  /** The (possibly scaled) update. */
  update: Weights;
  /** Its L2 norm before clipping (`Infinity` or `NaN` when it held a non-finite value). */
  norm: number;
  /** True when it was scaled down (or zeroed). */
  clipped: boolean;
}

/**
 * The factor that clips a vector of L2 norm `norm` to `clipNorm`: min(1, C / norm), rounded
 * down a hair so that the float result never exceeds C; and 0 when `norm` is not finite (the
 * vector held a NaN or an infinity). Zero is a fixed, data-independent value of norm 0 <= C, so
 * a sum of clipped vectors keeps its sensitivity C whatever the inputs (Abadi et al. 2016 bound
 * every per-example contribution by C; which bounded value a non-finite one becomes does not
 * matter to the guarantee, only that it is bounded and finite).
 */
export function clipScale(norm: number, clipNorm: number): number {
  if (!Number.isFinite(norm)) return 0;
  if (norm <= clipNorm) return 1;
  return (clipNorm / norm) * (1 - 2 ** -20);
}

/**
 * Per-example clipping of DP-SGD (Abadi et al., "Deep Learning with Differential Privacy",
 * CCS 2016, Algorithm 1, "clip gradient"): adds `g * min(1, C / ||g||)` into the float64
 * accumulators `sum`. A gradient with a NaN or an infinity (e.g. one that overflowed float32)
 * adds nothing, as a zero gradient would: every contribution is finite with norm <= C, so
 * nothing downstream turns NaN and the sensitivity of the sum stays C.
 * @returns the gradient's norm before clipping (`Infinity` or `NaN` for a non-finite one)
 * @throws UnseenError `ERR_PARAMETER_MISMATCH` when the shapes differ
 */
export function addClipped(
  sum: readonly Float64Array[],
  grad: readonly Float32Array[],
  clipNorm: number,
): number {
  if (sum.length !== grad.length || sum.some((t, i) => t.length !== grad[i]!.length)) {
    throw new UnseenError('ERR_PARAMETER_MISMATCH', 'addClipped: the shapes differ');
  }
  const norm = l2Norm(grad);
  const scale = clipScale(norm, clipNorm);
  if (scale === 0) return norm;
  for (let t = 0; t < grad.length; t++) {
    const g = grad[t]!;
    const acc = sum[t]!;
    for (let i = 0; i < g.length; i++) acc[i] = acc[i]! + scale * g[i]!;
  }
  return norm;
}

/**
 * Scales `update` so that its L2 norm is at most `clipNorm` (Abadi et al. 2016; McMahan et al.
 * 2018): u * min(1, C / ||u||) ({@link clipScale}). An update with a non-finite value becomes
 * zeros (`clipped: true`): a bounded, data-independent stand-in rather than NaNs.
 */
export function clipByL2Norm(update: readonly Float32Array[], clipNorm: number): ClipResult {
  const norm = l2Norm(update);
  const scale = clipScale(norm, clipNorm);
  if (scale === 1) return { update: cloneWeights(update), norm, clipped: false };
  if (scale === 0) return { update: zerosOf(shapeOf(update)), norm, clipped: true };
  return { update: update.map((t) => t.map((v) => v * scale)), norm, clipped: true };
}

/**
 * The weighted mean sum_i w_i x_i / sum_i w_i, accumulated in float64.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` on no inputs or non-positive total weight,
 * `ERR_PARAMETER_MISMATCH` on differing shapes
 */
export function weightedMean(
  items: readonly { weights: readonly Float32Array[]; weight: number }[],
): Weights {
  const first = items[0];
  if (first === undefined) throw new UnseenError('ERR_INVALID_ARGUMENT', 'weightedMean: no inputs');
  const shape = shapeOf(first.weights);
  const acc = shape.map((n) => new Float64Array(n));
  let total = 0;
  for (const { weights, weight } of items) {
    assertShape(weights as Weights, shape, 'weightedMean input');
    total += weight;
    for (let t = 0; t < shape.length; t++) {
      const a = acc[t]!;
      const x = weights[t]!;
      for (let i = 0; i < a.length; i++) a[i] = a[i]! + weight * x[i]!;
    }
  }
  if (!(total > 0)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'weightedMean: total weight must be positive');
  }
  return acc.map((a) => Float32Array.from(a, (v) => v / total));
}
