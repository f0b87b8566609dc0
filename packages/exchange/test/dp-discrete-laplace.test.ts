/**
 * The exact discrete Laplace sampler (Canonne, Kamath, Steinke 2020) against its closed-form
 * distribution: P[X = x] = (1 - p) / (1 + p) * p^|x| with p = exp(-1/b), mean 0, variance
 * 2p / (1 - p)^2.
 */
import {
  bernoulliExp,
  discreteLaplaceNoise,
  randomBelow,
  releaseAggregate,
  sampleDiscreteLaplace,
} from '@unseen/exchange';
import { describe, expect, it } from 'vitest';

describe('discrete Laplace', () => {
  it('Bernoulli(exp(-g)) has mean exp(-g), for g below and above 1', () => {
    for (const [num, den] of [
      [1, 2],
      [3, 2],
      [0, 1],
      [5, 1],
    ] as const) {
      const n = 20_000;
      let k = 0;
      for (let i = 0; i < n; i++) if (bernoulliExp(num, den)) k++;
      const p = Math.exp(-num / den);
      // 5 standard deviations.
      expect(Math.abs(k / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n) + 1e-9);
    }
  });

  it('samples match the closed-form probabilities (chi-square) for scale 2 and 1/3', () => {
    for (const [t, s] of [
      [2, 1],
      [1, 3],
    ] as const) {
      const b = t / s;
      const p = Math.exp(-1 / b);
      const n = 30_000;
      const counts = new Map<number, number>();
      let sum = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) {
        const x = sampleDiscreteLaplace(t, s);
        counts.set(x, (counts.get(x) ?? 0) + 1);
        sum += x;
        sq += x * x;
      }
      const variance = (2 * p) / (1 - p) ** 2;
      expect(Math.abs(sum / n)).toBeLessThan(5 * Math.sqrt(variance / n));
      expect(Math.abs(sq / n - variance) / variance).toBeLessThan(0.1);
      // Chi-square over |x| <= 4 (and the two tails pooled): 11 cells, 10 degrees of freedom;
      // 48 is the 1 - 1e-6 quantile (Wilson-Hilferty), so chance failures stay below one in a million.
      let chi = 0;
      let tail = 0;
      for (let x = -4; x <= 4; x++) {
        const expected = (n * (1 - p) * p ** Math.abs(x)) / (1 + p);
        tail += expected;
        chi += ((counts.get(x) ?? 0) - expected) ** 2 / expected;
      }
      let observedTail = n;
      for (let x = -4; x <= 4; x++) observedTail -= counts.get(x) ?? 0;
      const expectedTail = n - tail;
      if (expectedTail > 5) chi += (observedTail - expectedTail) ** 2 / expectedTail;
      expect(chi).toBeLessThan(48);
    }
  });

  it('uniform draws below any bound below 2^53 are in range and unbiased at the top bit', () => {
    let high = 0;
    for (let i = 0; i < 4000; i++) {
      const v = randomBelow(2 ** 53 - 1);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 53 - 1);
      if (v >= 2 ** 52) high++;
    }
    expect(Math.abs(high / 4000 - 0.5)).toBeLessThan(0.05);
    expect(new Set(Array.from({ length: 200 }, () => randomBelow(3)))).toEqual(new Set([0, 1, 2]));
  });

  it('noise for epsilon 1 and sensitivity 1 has the variance of Lap_Z(1)', () => {
    const n = 20_000;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += discreteLaplaceNoise(1, 1_000_000) ** 2;
    const p = Math.exp(-1);
    const variance = (2 * p) / (1 - p) ** 2;
    expect(Math.abs(sq / n - variance) / variance).toBeLessThan(0.1);
  });

  it('aggregate releases: exact without a budget, clipped, and noisy with one', () => {
    const values = [1, 2, 3, 1000, -50];
    const p = { column: 'v', lower: 0, upper: 10, decimals: 2 };
    expect(releaseAggregate('aggregate.count', values, p, null).value).toBe(5);
    expect(releaseAggregate('aggregate.sum', values, p, null).value).toBe(16); // 1+2+3+10+0
    expect(releaseAggregate('aggregate.mean', values, p, null).value).toBeCloseTo(3.2);
    const noisy = releaseAggregate('aggregate.sum', values, p, 1);
    expect(noisy.noise).toEqual({ mechanism: 'discrete-laplace', epsilon: 1 });
    expect(Number.isInteger(Math.round(noisy.value * 100))).toBe(true);
    const mean = releaseAggregate('aggregate.mean', values, p, 0.5);
    expect(mean.value).toBeGreaterThanOrEqual(0);
    expect(mean.value).toBeLessThanOrEqual(10);
  });
});
