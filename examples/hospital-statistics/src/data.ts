/**
 * Synthetic patient records, deterministic per hospital (a seeded xorshift generator: these are
 * made-up test data, not secrets), and the per-age-group statistics a hospital computes locally.
 */

export const AGE_GROUPS = ['0-17', '18-29', '30-44', '45-59', '60-74', '75+'] as const;
const GROUP_START = [0, 18, 30, 45, 60, 75];

export interface Patient {
  age: number;
  /** Systolic blood pressure, mmHg. */
  systolic: number;
}

function xorshift(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** The records of hospital `index` (0-based): 2,000 to 20,000 patients. */
export function patientsOf(index: number): Patient[] {
  const next = xorshift(index + 1);
  const count = 2000 + Math.floor(next() * 18_000);
  const out: Patient[] = [];
  for (let i = 0; i < count; i++) {
    const age = Math.floor(next() * 95);
    // Blood pressure rises with age; a hospital-specific offset; roughly normal noise.
    const noise = (next() + next() + next() + next() - 2) * 18;
    const systolic = Math.round((105 + age * 0.45 + (index % 4) * 2 + noise) * 10) / 10;
    out.push({ age, systolic });
  }
  return out;
}

export function groupOf(age: number): number {
  let g = 0;
  while (g + 1 < GROUP_START.length && age >= GROUP_START[g + 1]!) g++;
  return g;
}

/** What a hospital shares (encrypted): counts, and sums and sums of squares of the value. */
export interface LocalStatistics {
  counts: BigInt64Array;
  /** Per group: sum of systolic, then sum of squares (so the analyst gets means and SDs). */
  sums: Float64Array;
}

export function localStatistics(patients: readonly Patient[]): LocalStatistics {
  const g = AGE_GROUPS.length;
  const counts = new BigInt64Array(g);
  const sums = new Float64Array(2 * g);
  for (const p of patients) {
    const k = groupOf(p.age);
    counts[k]! += 1n;
    sums[k]! += p.systolic;
    sums[g + k]! += p.systolic * p.systolic;
  }
  return { counts, sums };
}

/** Pooled count, mean and standard deviation per group from totals. */
export function pooled(counts: ArrayLike<bigint>, sums: ArrayLike<number>) {
  const g = AGE_GROUPS.length;
  return AGE_GROUPS.map((name, k) => {
    const n = Number(counts[k]!);
    const mean = sums[k]! / n;
    const variance = (sums[g + k]! - n * mean * mean) / (n - 1);
    return { group: name, count: n, mean, sd: Math.sqrt(Math.max(0, variance)) };
  });
}
