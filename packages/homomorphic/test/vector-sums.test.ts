// Decrypted sums equal plain sums: BFV exactly, CKKS within the stated bound.

import { Prg } from '@unseen/core';
import {
  Aggregator,
  clearEncryptionSessions,
  createKeyHolder,
  describeParams,
  encryptContribution,
  restoreKeyHolder,
} from '@unseen/homomorphic';
import { createPool } from '@unseen/workers';
import { afterAll, describe, expect, it } from 'vitest';

/** Deterministic test data in [0, 1) from core's seeded PRG (the values are not secret). */
async function uniforms(seed: number, count: number): Promise<Float64Array> {
  const prg = await Prg.create(new Uint8Array(16).fill(seed));
  const words = await prg.fill(new Uint32Array(count));
  return Float64Array.from(words, (w) => w / 2 ** 32);
}

afterAll(() => clearEncryptionSessions());

describe('CKKS aggregation', () => {
  it('100 contributions of values in [-1, 1]: error at most 1e-6 and within the stated bound', async () => {
    // Two ciphertexts of 2048 slots, two values per slot: the second holds 2048 values in its
    // real parts and 856 in its imaginary parts.
    const length = 4096 + 2048 + 856;
    const holder = await createKeyHolder({ scheme: 'ckks', length, maxContributions: 100 });
    const info = holder.info;
    expect(info.errorBound).toBeLessThanOrEqual(1e-6);
    expect(info.ciphertexts).toBe(2);
    const aggregator = await Aggregator.create(holder.publicParams, { minContributions: 100 });
    const plain = new Float64Array(length);
    const random = await uniforms(1, 100 * length);
    for (let c = 0; c < 100; c++) {
      const v = random.subarray(c * length, (c + 1) * length).map((u) => 2 * u - 1);
      if (c === 0) v.fill(1); // the extremes too
      if (c === 1) v.fill(-1);
      v.forEach((x, i) => {
        plain[i]! += x;
      });
      aggregator.add(await encryptContribution(holder.publicParams, v, { pool: null }));
    }
    const sum = await holder.decrypt(aggregator.result());
    expect(sum).toBeInstanceOf(Float64Array);
    let max = 0;
    for (let i = 0; i < length; i++) max = Math.max(max, Math.abs(sum[i]! - plain[i]!));
    expect(max).toBeLessThanOrEqual(info.errorBound);
    expect(max).toBeLessThanOrEqual(1e-6);
    holder.dispose();
  }, 120_000);

  it('restores a key holder from its exported secret key', async () => {
    const holder = await createKeyHolder({
      scheme: 'ckks',
      length: 10,
      maxContributions: 4,
      valueBound: 1000,
      precision: 1e-3,
    });
    const agg = await Aggregator.create(holder.publicParams);
    agg.add(
      await encryptContribution(
        holder.publicParams,
        Float64Array.from({ length: 10 }, (_, i) => i * 100.5),
      ),
    );
    const restored = await restoreKeyHolder<'ckks'>(holder.publicParams, holder.exportSecretKey());
    const out = await restored.decrypt(agg.result());
    out.forEach((x, i) => {
      expect(Math.abs(x - i * 100.5)).toBeLessThanOrEqual(holder.info.errorBound);
    });
    holder.dispose();
    restored.dispose();
  });
});

describe('BFV aggregation', () => {
  it('sums exactly, at the extremes of the range, over several ciphertexts', async () => {
    const length = 9000; // three ciphertexts of 4096 slots
    const k = 50;
    const bound = 1n << 20n;
    const holder = await createKeyHolder({
      scheme: 'bfv',
      length,
      maxContributions: k,
      valueBound: bound,
    });
    expect(holder.info.ciphertexts).toBe(3);
    const aggregator = await Aggregator.create(holder.publicParams);
    const plain = new BigInt64Array(length);
    const random = await uniforms(2, k * length);
    for (let c = 0; c < k; c++) {
      // Half the contributions at +bound or -bound everywhere: the sum reaches the limit.
      const v =
        c < k / 2
          ? new BigInt64Array(length).fill(c % 2 === 0 ? bound : -bound)
          : BigInt64Array.from(
              random.subarray(c * length, (c + 1) * length),
              (u) => BigInt(Math.floor(u * 2 ** 21)) - bound,
            );
      if (c < k / 2) v[7] = bound; // one slot at k * bound exactly
      v.forEach((x, i) => {
        plain[i]! += x;
      });
      aggregator.add(await encryptContribution(holder.publicParams, v, { pool: null }));
    }
    const sum = await holder.decrypt(aggregator.result());
    expect(sum).toBeInstanceOf(BigInt64Array);
    expect(sum).toEqual(plain);
    holder.dispose();
  }, 120_000);

  it('encrypts long vectors on worker pools (one SEAL instance per worker) with the same result', async () => {
    const length = 40_000;
    const holder = await createKeyHolder({ scheme: 'bfv', length, maxContributions: 4 });
    const pool = createPool({ size: 2 });
    try {
      const a = BigInt64Array.from({ length }, (_, i) => BigInt((i % 1000) - 500));
      const b = BigInt64Array.from({ length }, (_, i) => BigInt(i % 65536));
      const agg = await Aggregator.create(holder.publicParams);
      agg.add(await encryptContribution(holder.publicParams, a, { pool }));
      agg.add(await encryptContribution(holder.publicParams, b, { pool }));
      const sum = await holder.decrypt(agg.result());
      expect(sum).toEqual(a.map((x, i) => x + b[i]!));
    } finally {
      await pool.close();
      holder.dispose();
    }
  }, 120_000);

  it('CKKS on worker pools: real and imaginary parts land where the values were', async () => {
    const length = 9 * 4096 + 3000; // 10 ciphertexts, the last with 952 imaginary parts
    const holder = await createKeyHolder({
      scheme: 'ckks',
      length,
      maxContributions: 4,
      precision: 1e-4,
    });
    const pool = createPool({ size: 2 });
    try {
      const a = Float64Array.from({ length }, (_, i) => Math.sin(i));
      const b = Float64Array.from({ length }, (_, i) => ((i % 1000) - 500) / 500);
      const agg = await Aggregator.create(holder.publicParams);
      agg.add(await encryptContribution(holder.publicParams, a, { pool }));
      agg.add(await encryptContribution(holder.publicParams, b, { pool: null }));
      const sum = await holder.decrypt(agg.result());
      let max = 0;
      for (let i = 0; i < length; i++) max = Math.max(max, Math.abs(sum[i]! - a[i]! - b[i]!));
      expect(max).toBeLessThanOrEqual(holder.info.errorBound);
    } finally {
      await pool.close();
      holder.dispose();
    }
  }, 120_000);

  it('CKKS at N = 32768: both halves of every slot come back', async () => {
    const length = 32768 + 100; // the second ciphertext holds 100 values
    const holder = await createKeyHolder({
      scheme: 'ckks',
      length,
      maxContributions: 2,
      precision: 0.05,
      statisticalSecurity: 16,
      maxDecryptions: 1,
      polyModulusDegree: 32768,
    });
    try {
      expect(holder.info.polyModulusDegree).toBe(32768);
      const v = Float64Array.from({ length }, (_, i) => Math.cos(i));
      const agg = await Aggregator.create(holder.publicParams);
      agg.add(await encryptContribution(holder.publicParams, v, { pool: null }));
      agg.add(await encryptContribution(holder.publicParams, v, { pool: null }));
      const sum = await holder.decrypt(agg.result());
      let max = 0;
      for (let i = 0; i < length; i++) max = Math.max(max, Math.abs(sum[i]! - 2 * v[i]!));
      expect(max).toBeLessThanOrEqual(holder.info.errorBound);
    } finally {
      holder.dispose();
    }
  }, 120_000);

  it('wide ranges use several data primes and still sum exactly (BFV) or within the bound (CKKS)', async () => {
    const length = 300;
    const bfv = await createKeyHolder({
      scheme: 'bfv',
      length,
      maxContributions: 1000,
      valueBound: 1n << 36n,
    });
    expect(bfv.info.levelPrimes).toBeGreaterThan(1);
    const ckks = await createKeyHolder({
      scheme: 'ckks',
      length,
      maxContributions: 1000,
      valueBound: 1000,
      precision: 1e-4,
    });
    expect(ckks.info.levelPrimes).toBeGreaterThan(1);
    const a = BigInt64Array.from({ length }, (_, i) => (1n << 36n) - BigInt(i));
    const b = BigInt64Array.from({ length }, (_, i) => -(1n << 36n) + BigInt(3 * i));
    const x = Float64Array.from({ length }, (_, i) => 1000 - i * 0.123456789);
    const aggB = await Aggregator.create(bfv.publicParams);
    const aggC = await Aggregator.create(ckks.publicParams);
    for (let r = 0; r < 3; r++) {
      aggB.add(await encryptContribution(bfv.publicParams, a, { pool: null }));
      aggB.add(await encryptContribution(bfv.publicParams, b, { pool: null }));
      aggC.add(await encryptContribution(ckks.publicParams, x, { pool: null }));
    }
    expect(await bfv.decrypt(aggB.result())).toEqual(a.map((v, i) => 3n * (v + b[i]!)));
    const sumC = await ckks.decrypt(aggC.result());
    sumC.forEach((v, i) => {
      expect(Math.abs(v - 3 * x[i]!)).toBeLessThanOrEqual(ckks.info.errorBound);
    });
    bfv.dispose();
    ckks.dispose();
  }, 60_000);

  it('stays within 17 bytes per value on the wire (BFV); CKKS with flooding within 49', async () => {
    const bfv = await createKeyHolder({ scheme: 'bfv', length: 100_000, maxContributions: 100 });
    const ckks = await createKeyHolder({ scheme: 'ckks', length: 100_000, maxContributions: 100 });
    expect(bfv.info.bytesPerValue).toBeLessThanOrEqual(17);
    expect(ckks.info.bytesPerValue).toBeLessThanOrEqual(49);
    expect(describeParams(ckks.publicParams)).toEqual(ckks.info);
    expect(describeParams(bfv.publicParams)).toEqual(bfv.info);
    bfv.dispose();
    ckks.dispose();
  });
});
