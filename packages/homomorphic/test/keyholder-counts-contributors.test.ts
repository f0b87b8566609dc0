// The key holder's minContributions does not rest on the aggregator's word: the count in a sum's
// header is unauthenticated, so a key holder that must enforce it sums signed contributions of
// registered contributors itself (openRound), once per context. Every trick of a malicious
// aggregator to get a single contribution decrypted is refused.
import { generateSigningKey, utf8ToBytes } from '@unseen/core';
import {
  Aggregator,
  clearEncryptionSessions,
  createKeyHolder,
  encryptContribution,
  type KeyHolder,
  signContribution,
} from '@unseen/homomorphic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

const length = 8;
const secret = Float64Array.from([0.11, -0.22, 0.33, -0.44, 0.55, -0.66, 0.77, -0.88]);
const ints = (seed: number) => BigInt64Array.from({ length }, (_, i) => BigInt(seed * 100 + i));
const people = Array.from({ length: 4 }, () => generateSigningKey());
const outsider = generateSigningKey();
const roundA = utf8ToBytes('session-1/round-1');
const roundB = utf8ToBytes('session-1/round-2');

let holder: KeyHolder<'bfv'>;

beforeAll(async () => {
  holder = await createKeyHolder({
    scheme: 'bfv',
    length,
    maxContributions: 10,
    minContributions: 3,
    contributors: people.slice(0, 3).map((p) => p.publicKey), // people[3] is not registered
  });
}, 60_000);

afterAll(async () => {
  holder.dispose();
  await clearEncryptionSessions();
});

async function signed(who: number | typeof outsider, seed: number, context = roundA) {
  const secretKey = typeof who === 'number' ? people[who]!.secretKey : who.secretKey;
  const c = await encryptContribution(holder.publicParams, ints(seed), { pool: null });
  return signContribution(holder.publicParams, c, { secretKey, context });
}

describe('decrypt(sum): the aggregator count is not trusted for minContributions', () => {
  it('a single contribution relabelled as a sum of 3 is refused', async () => {
    const ckks = await createKeyHolder({
      scheme: 'ckks',
      length,
      maxContributions: 10,
      minContributions: 3,
    });
    try {
      const c = await encryptContribution(ckks.publicParams, secret, { pool: null });
      const forged = c.slice();
      forged[1] = 0x03; // type: sum
      new DataView(forged.buffer).setUint32(34, 3); // count: 3
      expect(await codeOf(() => ckks.decrypt(forged))).toBe('ERR_POLICY_DENIED');
      // A sum of three made by an aggregator is refused just the same: its count is a claim.
      const agg = await Aggregator.create(ckks.publicParams);
      for (let i = 0; i < 3; i++) {
        agg.add(await encryptContribution(ckks.publicParams, secret, { pool: null }));
      }
      expect(await codeOf(() => ckks.decrypt(agg.result()))).toBe('ERR_POLICY_DENIED');
    } finally {
      ckks.dispose();
    }
  });

  it('trustAggregatorCount is the semi-honest model: a forged count is then believed', async () => {
    const trusting = await createKeyHolder({
      scheme: 'ckks',
      length,
      maxContributions: 10,
      minContributions: 3,
      trustAggregatorCount: true,
    });
    try {
      const c = await encryptContribution(trusting.publicParams, secret, { pool: null });
      const forged = c.slice();
      forged[1] = 0x03;
      new DataView(forged.buffer).setUint32(34, 3);
      const out = await trusting.decrypt(forged); // what the README says this path cannot stop
      expect(Math.abs(out[0]! - 0.11)).toBeLessThanOrEqual(trusting.info.errorBound);
      // Nor padding: a real sum of three, two of them encryptions of zero the aggregator made.
      const padded = await Aggregator.create(trusting.publicParams, { minContributions: 3 });
      padded.add(c);
      for (let i = 0; i < 2; i++) {
        padded.add(
          await encryptContribution(trusting.publicParams, new Float64Array(length), {
            pool: null,
          }),
        );
      }
      const leaked = await trusting.decrypt(padded.result());
      expect(Math.abs(leaked[1]! + 0.22)).toBeLessThanOrEqual(trusting.info.errorBound);
    } finally {
      trusting.dispose();
    }
  });
});

describe('openRound: the key holder adds signed contributions of registered contributors', () => {
  it('decrypts the exact sum of three registered contributors', async () => {
    const round = await holder.openRound(roundA);
    for (let i = 0; i < 3; i++) round.add(await signed(i, i + 1));
    expect(round.count).toBe(3);
    const sum = await round.decrypt();
    expect(sum).toEqual(ints(1).map((v, i) => v + ints(2)[i]! + ints(3)[i]!));
    // Decrypted once: the context is used up, so no second subset can be subtracted from it.
    expect(await codeOf(() => holder.openRound(roundA))).toBe('ERR_REPLAY');
    expect(await codeOf(() => round.decrypt())).toBe('ERR_INVALID_STATE');
    expect(holder.decryptedContexts()).toEqual([roundA]);
  });

  it('refuses padding with encryptions the aggregator made itself', async () => {
    const round = await holder.openRound(roundB);
    round.add(await signed(0, 7, roundB));
    // Encryptions of zero signed by keys the aggregator made, or by a non-registered party.
    expect(await codeOf(async () => round.add(await signed(outsider, 0, roundB)))).toBe(
      'ERR_UNAUTHORIZED',
    );
    expect(await codeOf(async () => round.add(await signed(3, 0, roundB)))).toBe(
      'ERR_UNAUTHORIZED',
    );
    // Unsigned contributions and sums are not accepted at all.
    const plain = await encryptContribution(holder.publicParams, ints(0), { pool: null });
    expect(await codeOf(() => round.add(plain))).toBe('ERR_UNEXPECTED_MESSAGE');
    // The same contributor twice (a replay, or a second contribution) counts once.
    expect(await codeOf(async () => round.add(await signed(0, 8, roundB)))).toBe('ERR_REPLAY');
    expect(round.count).toBe(1);
    expect(await codeOf(() => round.decrypt())).toBe('ERR_POLICY_DENIED');
  });

  it('refuses contributions moved from another context, altered ones and forged signatures', async () => {
    const ctx = utf8ToBytes('session-1/round-3');
    const round = await holder.openRound(ctx);
    const old = await signed(1, 9, roundA); // round A's contribution of contributor 1
    expect(await codeOf(() => round.add(old))).toBe('ERR_SESSION_MISMATCH');
    // Rewriting the context field breaks the signature.
    const moved = new Uint8Array(old.length);
    moved.set(old);
    moved.set(ctx, 35);
    expect(await codeOf(() => round.add(moved))).toBe('ERR_INTEGRITY');
    const good = await signed(1, 9, ctx);
    const altered = good.slice();
    altered[altered.length - 200]! ^= 1; // a ciphertext byte
    expect(await codeOf(() => round.add(altered))).toBe('ERR_INTEGRITY');
    expect(await codeOf(() => round.add(good.subarray(0, good.length - 1)))).toBe(
      'ERR_MALFORMED_MESSAGE',
    );
    expect(round.count).toBe(0);
    round.add(good);
    expect(round.count).toBe(1);
  });

  it('decrypts one subset per context: two rounds of one context cannot both decrypt', async () => {
    const ctx = utf8ToBytes('session-1/round-4');
    const all = await holder.openRound(ctx);
    const fewer = await holder.openRound(ctx);
    const contributions = await Promise.all([0, 1, 2].map((i) => signed(i, 20 + i, ctx)));
    for (const c of contributions) all.add(c);
    // The 3-subset decrypts; its 3-subset twin (same context) would give the difference.
    await all.decrypt();
    for (const c of contributions) fewer.add(c);
    expect(await codeOf(() => fewer.decrypt())).toBe('ERR_REPLAY');
  });

  it('with registered contributors, decrypt(sum) is refused outright', async () => {
    const agg = await Aggregator.create(holder.publicParams);
    for (let i = 0; i < 3; i++) {
      agg.add(await encryptContribution(holder.publicParams, ints(i), { pool: null }));
    }
    expect(await codeOf(() => holder.decrypt(agg.result()))).toBe('ERR_POLICY_DENIED');
    const unregistered = await createKeyHolder({ scheme: 'bfv', length, maxContributions: 3 });
    expect(await codeOf(() => unregistered.openRound(roundA))).toBe('ERR_INVALID_STATE');
    unregistered.dispose();
  });

  it('an untrusted aggregator in signed mode pre-checks what the key holder will accept', async () => {
    const ctx = utf8ToBytes('session-1/round-5');
    const agg = await Aggregator.create(holder.publicParams, {
      context: ctx,
      contributors: people.slice(0, 3).map((p) => p.publicKey),
    });
    agg.add(await signed(2, 1, ctx));
    expect(await codeOf(async () => agg.add(await signed(outsider, 1, ctx)))).toBe(
      'ERR_UNAUTHORIZED',
    );
    expect(await codeOf(async () => agg.add(await signed(2, 2, ctx)))).toBe('ERR_REPLAY');
    expect(agg.count).toBe(1);
  });
});
