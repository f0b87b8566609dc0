// CKKS decryption is noise-flooded and rounded (Li, Micciancio, Schultz, Sorrell 2022; OpenFHE's
// NOISE_FLOODING_DECRYPT), stays within the proven error bound, and is limited to the budget the
// flooding was sized for.
import { Prg } from '@unseen/core';
import {
  Aggregator,
  type CkksNoise,
  clearEncryptionSessions,
  createKeyHolder,
  encryptContribution,
  floodingNoise,
  planVector,
  restoreKeyHolder,
  roundToGrid,
  SAMPLER_MAX_TAIL,
} from '@unseen/homomorphic';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianPair } from '../src/seal/noise.js';
import { codeOf } from './helpers.js';

afterAll(() => clearEncryptionSessions());

describe('flooded CKKS decryption', () => {
  it('is randomized, on the grid, and within the proven bound at the extremes of the range', async () => {
    const length = 3000;
    const k = 10;
    const holder = await createKeyHolder({ scheme: 'ckks', length, maxContributions: k });
    try {
      const info = holder.info;
      expect(info.errorBound).toBeLessThanOrEqual(1e-6);
      expect(info.flooding!.std).toBeGreaterThan(0);
      const prg = await Prg.create(new Uint8Array(16).fill(3));
      const words = await prg.uint32s(k * length);
      const truth = new Float64Array(length);
      const aggregator = await Aggregator.create(holder.publicParams);
      for (let c = 0; c < k; c++) {
        const v = Float64Array.from(
          words.subarray(c * length, (c + 1) * length),
          (w) => 2 * (w / 2 ** 32) - 1,
        );
        if (c === 0) v.fill(1);
        if (c === 1) v.fill(-1);
        v[5] = 1; // the sum reaches k * valueBound there
        v.forEach((x, i) => {
          truth[i]! += x;
        });
        aggregator.add(await encryptContribution(holder.publicParams, v, { pool: null }));
      }
      const sum = aggregator.result();
      const first = await holder.decrypt(sum);
      const second = await holder.decrypt(sum);
      const step = 2 ** info.flooding!.gridExponent;
      let differ = 0;
      for (let i = 0; i < length; i++) {
        for (const out of [first, second]) {
          expect(Math.abs(out[i]! - truth[i]!)).toBeLessThanOrEqual(info.errorBound);
          expect(Number.isInteger(out[i]! / step)).toBe(true);
        }
        if (first[i] !== second[i]) differ++;
      }
      expect(differ).toBeGreaterThan(0); // a fresh draw of noise each time
      expect(holder.decryptionsUsed).toBe(2);
    } finally {
      holder.dispose();
    }
  }, 120_000);

  it('draws N(0, std^2) truncated at the tail cut, rounded to the grid', () => {
    const noise = { std: 1, tail: 3, gridExponent: -30 } as CkksNoise;
    const n = 200_000;
    const v = roundToGrid(floodingNoise(n, noise), noise.gridExponent);
    let sum = 0;
    let sq = 0;
    let max = 0;
    let offGrid = 0;
    for (const x of v) {
      sum += x;
      sq += x * x;
      max = Math.max(max, Math.abs(x));
      if (!Number.isInteger(x * 2 ** 30)) offGrid++;
    }
    expect(offGrid).toBe(0);
    const mean = sum / n;
    // Variance of N(0, 1) truncated to [-3, 3]: 1 - 6 phi(3) / (1 - 2 Phi(-3)) = 0.97333.
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sq / n - mean * mean - 0.97333)).toBeLessThan(0.01);
    expect(max).toBeLessThanOrEqual(3);
    expect(max).toBeGreaterThan(2.9);
  });

  it('reaches the tail cuts it promises, and refuses parameters that need more', async () => {
    // Box-Muller with u1 of 53 bits stops at 8.57 standard deviations, below the cut of 9.2
    // that 40-bit security over 2^17 values needs: u1 has 106 bits, so the smallest u1 (all
    // words zero) gives 12.1 standard deviations and the largest gives 0.
    expect(SAMPLER_MAX_TAIL).toBeCloseTo(Math.sqrt(212 * Math.LN2), 10);
    const [z0] = gaussianPair(new Uint32Array(6), 0);
    expect(z0).toBeCloseTo(SAMPLER_MAX_TAIL, 10);
    const [z1] = gaussianPair(new Uint32Array(6).fill(0xffffffff), 0);
    expect(Math.abs(z1)).toBeLessThan(1e-7);
    const plan = planVector({ scheme: 'ckks', length: 100_000, maxContributions: 100 });
    expect(plan.statisticalSecurity).toBe(40);
    expect(
      await codeOf(() => planVector({ scheme: 'ckks', length: 100_000, statisticalSecurity: 100 })),
    ).toBe('ERR_INVALID_ARGUMENT');
  });

  it('refuses more decryptions than the budget, also after a restore', async () => {
    const holder = await createKeyHolder({
      scheme: 'ckks',
      length: 16,
      maxContributions: 2,
      maxDecryptions: 2,
    });
    try {
      const aggregator = await Aggregator.create(holder.publicParams);
      aggregator.add(
        await encryptContribution(holder.publicParams, new Float64Array(16).fill(0.5)),
      );
      const sum = aggregator.result();
      await holder.decrypt(sum);
      await holder.decrypt(sum);
      expect(holder.decryptionsLeft).toBe(0);
      expect(await codeOf(() => holder.decrypt(sum))).toBe('ERR_BUDGET_EXHAUSTED');
      const sk = holder.exportSecretKey();
      const spent = await restoreKeyHolder(holder.publicParams, sk, { decryptionsUsed: 2 });
      expect(await codeOf(() => spent.decrypt(sum))).toBe('ERR_BUDGET_EXHAUSTED');
      spent.dispose();
      const half = await restoreKeyHolder<'ckks'>(holder.publicParams, sk, { decryptionsUsed: 1 });
      const out = await half.decrypt(sum);
      expect(Math.abs(out[3]! - 0.5)).toBeLessThanOrEqual(holder.info.errorBound);
      expect(await codeOf(() => half.decrypt(sum))).toBe('ERR_BUDGET_EXHAUSTED');
      half.dispose();
      expect(
        await codeOf(() => restoreKeyHolder(holder.publicParams, sk, { decryptionsUsed: 3 })),
      ).toBe('ERR_INVALID_ARGUMENT');
    } finally {
      holder.dispose();
    }
  }, 60_000);

  it('published parameters cannot overstate their error bound', async () => {
    const holder = await createKeyHolder({ scheme: 'ckks', length: 16, maxContributions: 2 });
    try {
      const primes = holder.info.primeBits.length;
      const at = 17 + 8 * primes + 8 + 1 + 8 + 8; // ... scale bits, value bound, precision
      const tampered = holder.publicParams.slice();
      const view = new DataView(tampered.buffer);
      expect(view.getFloat64(at)).toBe(holder.info.errorBound);
      view.setFloat64(at, holder.info.errorBound / 100);
      expect(await codeOf(() => Aggregator.create(tampered))).toBe('ERR_MALFORMED_MESSAGE');
    } finally {
      holder.dispose();
    }
  });
});
