/**
 * A labelled dataset in typed arrays: `x` holds `count` rows of `features` float32 values,
 * `y` the class of each row. Helpers to validate, slice and gather rows.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';

/** Rows of features with a class label each. */
export interface Dataset {
  /** Row-major features: `count * features` values. */
  x: Float32Array;
  /** Class labels in [0, classes). */
  y: Uint32Array;
  count: number;
  features: number;
  classes: number;
}

/**
 * Builds a dataset and checks its sizes and labels.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function createDataset(
  x: Float32Array,
  y: ArrayLike<number>,
  features: number,
  classes: number,
): Dataset {
  aint(features, 'features', 1);
  aint(classes, 'classes', 2, 65_536);
  if (!(x instanceof Float32Array) || x.length % features !== 0) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'dataset: x must be a Float32Array of whole rows',
    );
  }
  const count = x.length / features;
  if (y.length !== count) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `dataset: ${y.length} labels for ${count} rows`);
  }
  const labels = Uint32Array.from(y);
  for (let i = 0; i < count; i++) {
    if (!Number.isInteger(y[i]) || labels[i]! >= classes) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `dataset: label ${y[i]} at row ${i} not in [0, ${classes})`,
      );
    }
  }
  return { x, y: labels, count, features, classes };
}

/** The rows at `indices`, copied into a new dataset. */
export function gatherRows(data: Dataset, indices: ArrayLike<number>): Dataset {
  const f = data.features;
  const x = new Float32Array(indices.length * f);
  const y = new Uint32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!(r >= 0 && r < data.count)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `gatherRows: row ${r} out of range`);
    }
    x.set(data.x.subarray(r * f, (r + 1) * f), i * f);
    y[i] = data.y[r]!;
  }
  return { x, y, count: indices.length, features: f, classes: data.classes };
}

/** Rows `[start, end)` as a view (no copy). */
export function sliceRows(data: Dataset, start: number, end: number): Dataset {
  aint(start, 'start', 0, data.count);
  aint(end, 'end', start, data.count);
  const f = data.features;
  return {
    x: data.x.subarray(start * f, end * f),
    y: data.y.subarray(start, end),
    count: end - start,
    features: f,
    classes: data.classes,
  };
}
