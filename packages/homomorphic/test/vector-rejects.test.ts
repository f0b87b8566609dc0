// Bad contributions are rejected with typed errors and leave the aggregator unchanged.
import { isUnseenError } from '@unseen/core';
import {
  Aggregator,
  clearEncryptionSessions,
  createKeyHolder,
  encryptContribution,
  type KeyHolder,
} from '@unseen/homomorphic';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTRIBUTION_HEADER_BYTES, decodeVectorParams } from '../src/seal/params.js';
import { planeLayout } from '../src/seal/wire.js';
import { codeOf } from './helpers.js';

let holder: KeyHolder<'bfv'>;
let other: KeyHolder<'bfv'>;
let good: Uint8Array[];
const length = 100;
const values = (seed: number) =>
  BigInt64Array.from({ length }, (_, i) => BigInt(((i * 31 + seed) % 2001) - 1000));

beforeAll(async () => {
  holder = await createKeyHolder({
    scheme: 'bfv',
    length,
    maxContributions: 5,
    minContributions: 2,
    // These tests exercise the aggregator: the key holder trusts its count (semi-honest).
    trustAggregatorCount: true,
  });
  // Same options, another key: a contribution under it must not be accepted.
  other = await createKeyHolder({ scheme: 'bfv', length, maxContributions: 5 });
  good = await Promise.all(
    [1, 2, 3].map((s) => encryptContribution(holder.publicParams, values(s))),
  );
}, 60_000);

afterAll(async () => {
  holder.dispose();
  other.dispose();
  await clearEncryptionSessions();
});

/** After a rejection the aggregator must still produce the right sum of the good ones. */
async function expectIntact(agg: Aggregator, added: number[]): Promise<void> {
  const sum = await holder.decrypt(agg.result());
  const want = new BigInt64Array(length);
  for (const s of added)
    values(s).forEach((v, i) => {
      want[i]! += v;
    });
  expect(sum).toEqual(want);
}

describe('aggregator input validation', () => {
  it('rejects a contribution under other parameters or another key', async () => {
    const agg = await Aggregator.create(holder.publicParams);
    agg.add(good[0]!);
    const foreign = await encryptContribution(other.publicParams, values(9));
    expect(await codeOf(() => agg.add(foreign))).toBe('ERR_PARAMETER_MISMATCH');
    const ckks = await createKeyHolder({ scheme: 'ckks', length, maxContributions: 5 });
    expect(
      await codeOf(async () =>
        agg.add(await encryptContribution(ckks.publicParams, new Float64Array(length))),
      ),
    ).toBe('ERR_PARAMETER_MISMATCH');
    ckks.dispose();
    // Same scheme and range, another vector length: other parameters too.
    const longer = await createKeyHolder({
      scheme: 'bfv',
      length: length + 1,
      maxContributions: 5,
    });
    const wrongLength = await encryptContribution(
      longer.publicParams,
      new BigInt64Array(length + 1),
    );
    expect(await codeOf(() => agg.add(wrongLength))).toBe('ERR_PARAMETER_MISMATCH');
    longer.dispose();
    agg.add(good[1]!);
    await expectIntact(agg, [1, 2]);
  });

  it('rejects truncated and extended contributions', async () => {
    const agg = await Aggregator.create(holder.publicParams);
    for (const cut of [0, 1, 10, 55, 56, 57, good[0]!.length - 1]) {
      expect(await codeOf(() => agg.add(good[0]!.subarray(0, cut)))).toBe('ERR_MALFORMED_MESSAGE');
    }
    const longer = new Uint8Array(good[0]!.length + 8);
    longer.set(good[0]!);
    expect(await codeOf(() => agg.add(longer))).toBe('ERR_MALFORMED_MESSAGE');
    agg.add(good[0]!);
    agg.add(good[2]!);
    await expectIntact(agg, [1, 3]);
  });

  it('rejects duplicates (exact or with a new id) by default, accepts them when allowed', async () => {
    const agg = await Aggregator.create(holder.publicParams);
    agg.add(good[0]!);
    expect(await codeOf(() => agg.add(good[0]!))).toBe('ERR_REPLAY');
    const relabelled = good[0]!.slice();
    relabelled[40]! ^= 0xff; // inside the random id
    expect(await codeOf(() => agg.add(relabelled))).toBe('ERR_REPLAY');
    agg.add(good[1]!);
    await expectIntact(agg, [1, 2]);
    // Two contributions alike in their first bytes are not replays: the whole body is compared.
    const twin = good[2]!.slice();
    twin.set(good[0]!.subarray(56, 56 + 64), 56); // the first 16 coefficients' low words
    const fresh = await Aggregator.create(holder.publicParams);
    fresh.add(good[0]!);
    fresh.add(twin);
    expect(fresh.count).toBe(2);
    const lenient = await Aggregator.create(holder.publicParams, { duplicates: 'allow' });
    lenient.add(good[0]!);
    lenient.add(good[0]!);
    await expectIntact(lenient, [1, 1]);
  });

  it('refuses values of the wrong length, type or range when encrypting', async () => {
    const p = holder.publicParams;
    expect(await codeOf(() => encryptContribution(p, new BigInt64Array(length - 1)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => encryptContribution(p, new BigInt64Array(length + 1)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => encryptContribution(p, new Float64Array(length) as never))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const big = new BigInt64Array(length);
    big[3] = (1n << 16n) + 1n;
    expect(await codeOf(() => encryptContribution(p, big))).toBe('ERR_OVERFLOW');
  });

  it('refuses more than maxContributions and releases nothing below minContributions', async () => {
    const agg = await Aggregator.create(holder.publicParams, {
      minContributions: 2,
      maxContributions: 2,
    });
    agg.add(good[0]!);
    expect(await codeOf(() => agg.result())).toBe('ERR_POLICY_DENIED');
    agg.add(good[1]!);
    expect(await codeOf(() => agg.add(good[2]!))).toBe('ERR_OVERFLOW');
    expect(agg.count).toBe(2);
    await expectIntact(agg, [1, 2]);
  });

  it('the key holder decrypts sums only, and none of fewer than its minimum', async () => {
    expect(await codeOf(() => holder.decrypt(good[0]!))).toBe('ERR_UNEXPECTED_MESSAGE');
    const agg = await Aggregator.create(holder.publicParams);
    agg.add(good[0]!);
    const single = agg.result();
    expect(await codeOf(() => holder.decrypt(single))).toBe('ERR_POLICY_DENIED');
    expect(await codeOf(() => agg.add(single))).toBe('ERR_UNEXPECTED_MESSAGE');
    expect(await codeOf(() => other.decrypt(single))).toBe('ERR_PARAMETER_MISMATCH');
  });

  it('rejects unreduced coefficients without touching the sum', async () => {
    const agg = await Aggregator.create(holder.publicParams);
    agg.add(good[0]!);
    const bad = good[1]!.slice();
    bad.fill(0xff, 56); // every coefficient 2^(8w) - 1, above its prime
    expect(await codeOf(() => agg.add(bad))).toBe('ERR_MALFORMED_MESSAGE');
    agg.add(good[2]!);
    await expectIntact(agg, [1, 3]);
  });

  it('fuzz: random corruptions raise UnseenError or, if only ciphertext bits changed, are accepted', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        async (flips, cut) => {
          const agg = await Aggregator.create(holder.publicParams);
          const bad = good[0]!.slice(
            0,
            Math.max(1, good[0]!.length - (cut % 3 === 0 ? cut % 100 : 0)),
          );
          for (const f of flips) bad[f.at % bad.length]! ^= f.xor;
          try {
            agg.add(bad);
            // Accepted only when every change was in the random id (38..53) or the ciphertexts.
            expect(bad.length).toBe(good[0]!.length);
            for (const f of flips) {
              const at = f.at % bad.length;
              expect(at >= 56 || (at >= 38 && at < 54), `accepted a flip at ${at}`).toBe(true);
            }
          } catch (e) {
            expect(isUnseenError(e), String(e)).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('hostile sums (c1 = 0, all zero, random words) get typed errors or a decryption, never a raw SEAL exception', async () => {
    for (const scheme of ['ckks', 'bfv'] as const) {
      const h = await createKeyHolder({ scheme, length: 5000, maxContributions: 4 });
      try {
        const p = decodeVectorParams(h.publicParams);
        const agg = await Aggregator.create(h.publicParams);
        agg.add(
          await encryptContribution(
            h.publicParams,
            (scheme === 'ckks'
              ? new Float64Array(5000).fill(0.25)
              : new BigInt64Array(5000).fill(3n)) as never,
          ),
        );
        const sum = agg.result();
        const { count, primes } = planeLayout(p);
        const n = p.polyModulusDegree;
        const zeroC1 = sum.slice();
        for (const plane of primes) {
          for (const [off, width] of [
            [plane.lo, 4],
            [plane.hi32, 4],
            [plane.hi16, 2],
            [plane.hi8, 1],
          ] as const) {
            if (off < 0) continue;
            for (let poly = 1; poly < count / n; poly += 2) {
              const at = CONTRIBUTION_HEADER_BYTES + off + poly * n * width;
              zeroC1.fill(0, at, at + n * width);
            }
          }
        }
        const zero = sum.slice();
        zero.fill(0, CONTRIBUTION_HEADER_BYTES);
        const random = sum.slice();
        crypto.getRandomValues(random.subarray(CONTRIBUTION_HEADER_BYTES, 60_000));
        for (const hostile of [zeroC1, zero, random]) {
          try {
            await h.decrypt(hostile);
          } catch (e) {
            expect(isUnseenError(e), `${scheme}: ${String(e)}`).toBe(true);
          }
        }
      } finally {
        h.dispose();
      }
    }
  }, 60_000);

  it('rejects malformed public parameters', async () => {
    const p = holder.publicParams;
    for (const bad of [p.subarray(0, 20), p.subarray(0, p.length - 1), new Uint8Array([...p, 1])]) {
      expect(await codeOf(() => Aggregator.create(bad))).toBe('ERR_MALFORMED_MESSAGE');
    }
    const version = p.slice();
    version[0] = 9;
    expect(await codeOf(() => Aggregator.create(version))).toBe('ERR_UNSUPPORTED_VERSION');
    const weak = p.slice();
    weak[13] = 0x08; // N = 4096 -> 2048: below what 128-bit parameters allow
    expect(await codeOf(() => Aggregator.create(weak))).toBe('ERR_MALFORMED_MESSAGE');
  });
});
