// The README's vector-aggregation examples, as written there, with their stated results.
import { generateSigningKey, utf8ToBytes } from '@unseen/core';
import {
  Aggregator,
  clearEncryptionSessions,
  createKeyHolder,
  encryptContribution,
  signContribution,
} from '@unseen/homomorphic';
import { afterAll, describe, expect, it } from 'vitest';

afterAll(() => clearEncryptionSessions());

describe('README', () => {
  it('untrusted aggregator: the key holder sums signed contributions itself', async () => {
    const people = [generateSigningKey(), generateSigningKey(), generateSigningKey()];
    const holder = await createKeyHolder({
      scheme: 'ckks',
      length: 1000,
      maxContributions: 100,
      minContributions: 3,
      contributors: people.map((p) => p.publicKey),
    });
    expect(holder.info.errorBound.toExponential(1)).toBe('7.5e-7');
    const params = holder.publicParams;
    const context = utf8ToBytes('survey-2026/round-1');
    const round = await holder.openRound(context);
    for (const person of people) {
      const contribution = await encryptContribution(
        params,
        Float64Array.from({ length: 1000 }, () => 0.5),
      );
      round.add(signContribution(params, contribution, { secretKey: person.secretKey, context }));
    }
    const sum = await round.decrypt();
    for (const v of sum) expect(Math.abs(v - 1.5)).toBeLessThanOrEqual(holder.info.errorBound);
    holder.dispose();
  }, 60_000);

  it('semi-honest aggregator: it sums, the key holder decrypts the sum', async () => {
    const holder = await createKeyHolder({ scheme: 'bfv', length: 1000, maxContributions: 100 });
    const aggregator = await Aggregator.create(holder.publicParams, { minContributions: 3 });
    for (let i = 0; i < 3; i++) {
      aggregator.add(
        await encryptContribution(holder.publicParams, new BigInt64Array(1000).fill(7n)),
      );
    }
    const sum = await holder.decrypt(aggregator.result());
    expect(sum).toEqual(new BigInt64Array(1000).fill(21n));
    holder.dispose();
  }, 60_000);

  it('the default parameters for 100 contributions of 100,000 values', async () => {
    const bfv = await createKeyHolder({ scheme: 'bfv', length: 100_000, maxContributions: 100 });
    const ckks = await createKeyHolder({ scheme: 'ckks', length: 100_000, maxContributions: 100 });
    expect(bfv.info).toMatchObject({ polyModulusDegree: 4096, primeBits: [48] });
    expect(bfv.info.bytesPerValue.toFixed(1)).toBe('12.3');
    expect(ckks.info).toMatchObject({
      polyModulusDegree: 4096,
      primeBits: [45, 44, 20],
      scaleBits: 79,
      statisticalSecurity: 40,
      maxDecryptions: 16,
    });
    expect(ckks.info.bytesPerValue.toFixed(1)).toBe('24.6');
    expect(ckks.info.errorBound.toExponential(1)).toBe('9.0e-7');
    bfv.dispose();
    ckks.dispose();
  }, 60_000);
});
