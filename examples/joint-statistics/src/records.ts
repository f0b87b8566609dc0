/**
 * Synthetic patient records: systolic blood pressure in mmHg, one decimal, reproducible from a
 * seed (a data generator, so a small seeded PRNG is fine here; no key or share comes from it).
 * @module
 */

/** The hospitals of the example: name, number of records, and the shape of their population. */
export const HOSPITALS = [
  { name: 'St. Mary', records: 1200, mean: 128, sd: 16, seed: 11 },
  { name: 'Riverside', records: 850, mean: 121, sd: 13, seed: 22 },
  { name: 'Northgate', records: 1630, mean: 133, sd: 19, seed: 33 },
] as const;

/** mulberry32: a 32-bit seeded generator of floats in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The records of hospital `index` (normal by Box-Muller, rounded to 0.1 mmHg, within 70..230). */
export function hospitalRecords(index: number): Float64Array {
  const h = HOSPITALS[index];
  if (h === undefined) throw new RangeError(`no hospital ${index}`);
  const rand = mulberry32(h.seed);
  const out = new Float64Array(h.records);
  for (let i = 0; i < out.length; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    out[i] = Math.min(230, Math.max(70, Math.round((h.mean + h.sd * z) * 10) / 10));
  }
  return out;
}

/** Mean and population variance in the clear (two-pass), for comparison. */
export function plainStatistics(values: ArrayLike<number>): {
  count: number;
  mean: number;
  variance: number;
} {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += (values[i]! - mean) ** 2;
  return { count: values.length, mean, variance: ss / values.length };
}
