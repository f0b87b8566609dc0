/**
 * The RDP accountant of the sampled Gaussian mechanism against values published by TensorFlow
 * Privacy, Google's dp_accounting, Opacus and Abadi et al. (2016).
 */
import {
  DEFAULT_RDP_ORDERS,
  INTEGER_RDP_ORDERS,
  logErfc,
  RdpAccountant,
  rdpSampledGaussian,
  rdpToEpsilon,
} from '@unseen/federated';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('published (q, sigma, steps, delta) -> epsilon values', () => {
  // tensorflow/privacy, tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py,
  // test_compute_dp_sgd_privacy: (n, batch, sigma, epochs, delta) -> (epsilon, optimal order),
  // checked with assertAlmostEqual (7 decimal places). Both optimal orders are integers, so
  // the integer-order computation must reproduce them exactly.
  it('TensorFlow Privacy Test0: n=60000, batch=150, sigma=1.3, 15 epochs, delta=1e-5', () => {
    const acc = new RdpAccountant().step({ q: 150 / 60000, noiseMultiplier: 1.3, steps: 15 * 400 });
    const { epsilon, order } = acc.epsilon(1e-5);
    expect(epsilon).toBeCloseTo(0.7242234026109595, 7);
    expect(order).toBe(19);
  });

  it('TensorFlow Privacy Test1: n=100000, batch=100, sigma=1.0, 30 epochs, delta=1e-7', () => {
    const acc = new RdpAccountant().step({
      q: 100 / 100000,
      noiseMultiplier: 1.0,
      steps: 30 * 1000,
    });
    const { epsilon, order } = acc.epsilon(1e-7);
    expect(epsilon).toBeCloseTo(1.4154988495444842, 7);
    expect(order).toBe(13);
  });

  // google/differential-privacy, python/dp_accounting/dp_accounting/rdp/
  // rdp_privacy_accountant_test.py, test_compute_rdp_poisson_sampled_gaussian: q=0.01,
  // sigma=2.5, 50 steps; RDP at orders 5, 50, 100 (rtol 1e-4).
  it('dp_accounting: RDP of 50 steps at q=0.01, sigma=2.5, orders 5/50/100', () => {
    const expected: [number, number][] = [
      [5, 2.18075656e-3],
      [50, 2.38460375e-2],
      [100, 1.67416308e2],
    ];
    for (const [order, value] of expected) {
      expect(Math.abs(50 * rdpSampledGaussian(0.01, 2.5, order) - value) / value).toBeLessThan(
        1e-4,
      );
    }
  });

  // Same file, test_compute_epsilon_delta_pure_dp: constant RDP 1.1 at orders 2..32,
  // delta=1e-5 -> epsilon 1.32783806176 at order 32 (the conversion of Balle et al. 2020).
  it('dp_accounting: conversion of constant RDP 1.1 over orders 2..32', () => {
    const orders = Array.from({ length: 31 }, (_, i) => i + 2);
    const { epsilon, order } = rdpToEpsilon(
      orders,
      orders.map(() => 1.1),
      1e-5,
    );
    expect(epsilon).toBeCloseTo(1.32783806176, 9);
    expect(order).toBe(32);
  });

  // pytorch/opacus, opacus/tests/accountants_test.py, test_rdp_accountant: sigma=1.5,
  // q=0.04, 2250 steps, delta=1e-5 -> 7.32911117143 (assertAlmostEqual, 7 places). The optimum
  // is the fractional order 3.9, so this checks the fractional-order series too. Opacus's
  // default orders: 1.1, 1.2, ..., 10.9, 12, ..., 63.
  it('Opacus: sigma=1.5, q=0.04, 2250 steps, delta=1e-5 -> 7.32911117143', () => {
    const opacus = [
      ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
      ...Array.from({ length: 52 }, (_, i) => i + 12),
    ];
    for (const orders of [opacus, DEFAULT_RDP_ORDERS]) {
      const acc = new RdpAccountant({ orders }).step({
        q: 0.04,
        noiseMultiplier: 1.5,
        steps: Math.floor(90 / 0.04),
      });
      const { epsilon, order } = acc.epsilon(1e-5);
      expect(epsilon).toBeCloseTo(7.32911117143, 7);
      expect(order).toBeCloseTo(3.9, 12);
    }
    // The integer orders alone give a valid but slightly looser bound (order 4).
    const int = new RdpAccountant({ orders: INTEGER_RDP_ORDERS }).step({
      q: 0.04,
      noiseMultiplier: 1.5,
      steps: 2250,
    });
    expect(int.epsilon(1e-5).epsilon).toBeGreaterThan(7.32911117143);
    expect(int.epsilon(1e-5).epsilon / 7.32911117143 - 1).toBeLessThan(2e-4);
  });

  // tensorflow/privacy compute_dp_sgd_privacy_test.py Test2: n=1e8, batch=1024, sigma=0.1,
  // 10 epochs, delta=1e-7 -> 5907982.3113978775 at order 1.25, with TensorFlow Privacy's orders
  // (1.25, 1.5, ..., 4.5, 5..63, 128, 256, 512): an extreme, tiny-noise case of the fractional
  // series, reproduced to 1e-10 relative.
  it('TensorFlow Privacy Test2: sigma=0.1, fractional order 1.25', () => {
    const tf = [
      1.25,
      1.5,
      1.75,
      2,
      2.25,
      2.5,
      3,
      3.5,
      4,
      4.5,
      ...Array.from({ length: 59 }, (_, i) => i + 5),
      128,
      256,
      512,
    ];
    const acc = new RdpAccountant({ orders: tf }).step({
      q: 1024 / 1e8,
      noiseMultiplier: 0.1,
      steps: Math.ceil((10 * 1e8) / 1024),
    });
    const { epsilon, order } = acc.epsilon(1e-7);
    expect(Math.abs(epsilon / 5907982.3113978775 - 1)).toBeLessThan(1e-10);
    expect(order).toBe(1.25);
  });

  // Abadi et al., "Deep Learning with Differential Privacy" (CCS 2016), section 3.1: with
  // q = 0.01, sigma = 4, delta = 1e-5 and T = 10000 steps the moments accountant gives
  // epsilon ~ 1.26. The moments accountant is RDP at integer orders with the classic
  // conversion (Mironov 2017, Prop. 3), which reproduces it to the two published decimals;
  // the tighter conversion of Balle et al. 2020 gives less.
  it('Abadi et al. 2016: q=0.01, sigma=4, T=10000, delta=1e-5 -> epsilon ~ 1.26', () => {
    const classic = new RdpAccountant({ conversion: 'mironov2017' }).step({
      q: 0.01,
      noiseMultiplier: 4,
      steps: 10_000,
    });
    expect(classic.epsilon(1e-5).epsilon).toBeCloseTo(1.26, 2);
    const tight = new RdpAccountant().step({ q: 0.01, noiseMultiplier: 4, steps: 10_000 });
    expect(tight.epsilon(1e-5).epsilon).toBeLessThan(classic.epsilon(1e-5).epsilon);
  });
});

describe('RDP of the sampled Gaussian mechanism', () => {
  // Independent values: A_alpha = E_{z~N(0,s^2)}[((1-q) + q exp((2z-1)/(2s^2)))^alpha] by
  // numerical integration in mpmath at 60 digits (mp.quad), RDP = log(A) / (alpha - 1).
  it('fractional orders match a 60-digit numerical integration', () => {
    const cases: [number, number, number, number][] = [
      [0.01, 2.5, 1.5, 6.500708971880397e-4 / 50],
      [0.01, 2.5, 2.5, 1.0854180569181242e-3 / 50],
      [1024 / 1e8, 0.1, 1.1, 0.0078266601402676],
      [1024 / 1e8, 0.1, 1.25, 6.049707331745649],
      [1024 / 1e8, 0.1, 1.5, 40.53237318810012],
    ];
    for (const [q, sigma, order, want] of cases) {
      expect(Math.abs(rdpSampledGaussian(q, sigma, order) / want - 1)).toBeLessThan(1e-9);
    }
  });

  it('log erfc matches the platform-independent reference values (Python math.erfc)', () => {
    const ref: [number, number][] = [
      [-2, 1.9953222650189528],
      [-0.3, 1.3286267594591274],
      [0, 1],
      [0.1, 0.8875370839817152],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047265],
      [3, 2.2090496998585438e-5],
      [5, 1.5374597944280351e-12],
      [10, 2.088487583762545e-45],
    ];
    for (const [x, v] of ref)
      expect(Math.abs(logErfc(x) - Math.log(v))).toBeLessThan(
        1e-13 * Math.max(1, Math.abs(Math.log(v))),
      );
    // far tails stay finite in log space: log erfc(30) ~ -900 - log(30 sqrt(pi))
    expect(logErfc(30)).toBeCloseTo(
      -900 - Math.log(30 * Math.sqrt(Math.PI)) + Math.log1p(-1 / 1800),
      5,
    );
  });

  it('q = 1 is the Gaussian mechanism: alpha / (2 sigma^2)', () => {
    expect(rdpSampledGaussian(1, 2, 7)).toBeCloseTo(7 / 8, 12);
  });

  it('matches the binomial sum computed directly for small orders (plain computation)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        (q, sigma, alpha) => {
          let a = 0;
          let binom = 1;
          for (let k = 0; k <= alpha; k++) {
            if (k > 0) binom = (binom * (alpha - k + 1)) / k;
            a +=
              binom * (1 - q) ** (alpha - k) * q ** k * Math.exp((k * k - k) / (2 * sigma * sigma));
          }
          const direct = Math.log(a) / (alpha - 1);
          const ours = rdpSampledGaussian(q, sigma, alpha);
          return Math.abs(ours - direct) <= 1e-9 * Math.max(1, Math.abs(direct));
        },
      ),
    );
  });

  it('epsilon grows with steps and shrinks with noise', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        fc.double({ min: 0.6, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        (q, sigma, steps) => {
          const e = (s: number, n: number): number =>
            new RdpAccountant({ orders: INTEGER_RDP_ORDERS.slice(0, 63) })
              .step({ q, noiseMultiplier: n, steps: s })
              .epsilon(1e-5).epsilon;
          return (
            e(steps + 10, sigma) >= e(steps, sigma) && e(steps, sigma * 1.5) <= e(steps, sigma)
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('rejects bad arguments with ERR_INVALID_ARGUMENT', () => {
    expect(() => rdpSampledGaussian(1.5, 1, 2)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => rdpSampledGaussian(0.1, 1, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => new RdpAccountant().epsilon(0)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => rdpToEpsilon([2], [-1], 1e-5)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('no steps, no sampling or zero noise give 0, 0 and infinity', () => {
    expect(new RdpAccountant().epsilon(1e-5).epsilon).toBe(0);
    expect(new RdpAccountant().step({ q: 0, noiseMultiplier: 1 }).epsilon(1e-5).epsilon).toBe(0);
    expect(new RdpAccountant().step({ q: 0.1, noiseMultiplier: 0 }).epsilon(1e-5).epsilon).toBe(
      Infinity,
    );
  });
});
