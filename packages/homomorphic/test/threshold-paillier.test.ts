// Threshold Paillier (Damgard-Jurik 2001, section 4.1, s = 1) with a trusted dealer.
import { isUnseenError } from '@unseen/core';
import {
  combinePartials,
  dealThresholdPaillier,
  type PartialDecryption,
  ThresholdKeyShare,
  ThresholdPaillierPublicKey,
} from '@unseen/homomorphic';
import { beforeAll, describe, expect, it } from 'vitest';
import vector from './vectors/safe-primes-2048.json' with { type: 'json' };

const primes = { p: BigInt(`0x${vector.p}`), q: BigInt(`0x${vector.q}`) };

function subsets<T>(items: readonly T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first!, ...s]), ...subsets(rest, k)];
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isUnseenError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

let key: ThresholdPaillierPublicKey;
let shares: ThresholdKeyShare[];
let c: bigint;
let partials: PartialDecryption[];
const secret = 31337n;

beforeAll(async () => {
  ({ publicKey: key, shares } = await dealThresholdPaillier({
    bits: 2048,
    parties: 5,
    threshold: 3,
    primes,
  }));
  // The plaintext is the homomorphic sum of contributions no single holder can decrypt.
  const pk = key.paillier;
  c = pk.sum([pk.encrypt(30000n), pk.encrypt(1000n), pk.encrypt(337n)]);
  partials = shares.map((s) => s.partialDecrypt(c));
}, 120_000);

describe('threshold Paillier, 3 of 5', () => {
  it('every 3-subset of partial decryptions gives the plaintext', () => {
    const all = subsets(partials, 3);
    expect(all).toHaveLength(10);
    for (const s of all) expect(key.combine(c, s, { verify: false })).toBe(secret);
    // Proofs checked once each.
    for (const p of partials) key.verifyPartial(c, p);
  });

  it('more than threshold shares also work, in any order', () => {
    expect(
      key.combine(c, [partials[4]!, partials[0]!, partials[2]!, partials[1]!], { verify: false }),
    ).toBe(secret);
  });

  it('fails with 2 shares: refused, and the Lagrange combination of 2 gives garbage', async () => {
    for (const s of subsets(partials, 2)) {
      await expectCode(() => key.combine(c, s), 'ERR_INSUFFICIENT_SHARES');
      expect(combinePartials(key, s)).not.toBe(secret);
    }
  });

  it('catches a wrong partial decryption by its proof and combines the valid ones', async () => {
    const bad = { ...partials[1]!, value: (partials[1]!.value * 4n) % key.paillier.n2 };
    // A bad partial among t + 1 is skipped: any t valid ones decrypt.
    expect(key.combine(c, [bad, partials[0]!, partials[2]!, partials[3]!])).toBe(secret);
    expect(key.combine(c, [partials[0]!, bad, partials[2]!, partials[4]!])).toBe(secret);
    // Fewer than t valid: a typed error that names the rejected index.
    try {
      key.combine(c, [partials[0]!, bad, partials[2]!]);
      throw new Error('expected ERR_INSUFFICIENT_SHARES');
    } catch (e) {
      expect(isUnseenError(e, 'ERR_INSUFFICIENT_SHARES'), String(e)).toBe(true);
      expect((e as { details: { rejected: number[] } }).details.rejected).toEqual([2]);
    }
    const swapped = { ...partials[1]!, index: 4 };
    await expectCode(() => key.verifyPartial(c, swapped), 'ERR_INVALID_SHARE');
    await expectCode(
      () => key.verifyPartial(key.paillier.encrypt(1n), partials[0]!),
      'ERR_INVALID_SHARE',
    );
    const noProof = shares[0]!.partialDecrypt(c, { proof: false });
    await expectCode(() => key.verifyPartial(c, noProof), 'ERR_INVALID_SHARE');
    // Unproven, relabelled and repeated partials are skipped, not fatal.
    expect(key.combine(c, [noProof, swapped, partials[1]!, partials[2]!, partials[4]!])).toBe(
      secret,
    );
    expect(key.combine(c, [partials[0]!, partials[0]!, partials[2]!, partials[3]!])).toBe(secret);
    await expectCode(
      () => key.combine(c, [partials[0]!, partials[0]!, partials[2]!]),
      'ERR_INSUFFICIENT_SHARES',
    );
    // A repeated index whose first copy is bad: the later valid copy counts.
    expect(key.combine(c, [bad, partials[1]!, partials[3]!, partials[4]!])).toBe(secret);
  });

  it('serializes keys, shares and partial decryptions, and checks them on the way in', async () => {
    const key2 = ThresholdPaillierPublicKey.fromBytes(key.toBytes());
    expect(key2.fingerprint()).toEqual(key.fingerprint());
    const share2 = ThresholdKeyShare.fromBytes(shares[2]!.toBytes(), key2);
    expect(share2.index).toBe(3);
    const wire = partials.map((p) => key2.encodePartial(p));
    const decoded = wire.map((w) => key2.decodePartial(w));
    expect(key2.combine(c, [decoded[0]!, decoded[3]!, decoded[4]!])).toBe(secret);
    expect(
      key2.decodePartial(key2.encodePartial(share2.partialDecrypt(c, { proof: false }))).proof,
    ).toBeUndefined();

    // A share with a changed value does not match its verification key.
    const tampered = shares[2]!.toBytes();
    tampered[tampered.length - 1]! ^= 1;
    await expectCode(() => ThresholdKeyShare.fromBytes(tampered, key2), 'ERR_INVALID_SHARE');
    // A share of another dealing is refused by fingerprint.
    const other = await dealThresholdPaillier({ bits: 2048, parties: 5, threshold: 3, primes });
    await expectCode(
      () => ThresholdKeyShare.fromBytes(shares[0]!.toBytes(), other.publicKey),
      'ERR_PARAMETER_MISMATCH',
    );
    // Truncated and extended messages.
    for (const w of [wire[0]!.subarray(0, 100), new Uint8Array([...wire[0]!, 0])]) {
      await expectCode(() => key2.decodePartial(w), 'ERR_MALFORMED_MESSAGE');
    }
    const keyBytes = key.toBytes();
    await expectCode(
      () => ThresholdPaillierPublicKey.fromBytes(keyBytes.subarray(0, keyBytes.length - 1)),
      'ERR_MALFORMED_MESSAGE',
    );
  });

  it('needs safe primes and sensible counts', async () => {
    await expectCode(
      dealThresholdPaillier({ bits: 2048, parties: 3, threshold: 4, primes }),
      'ERR_INVALID_ARGUMENT',
    );
    await expectCode(
      dealThresholdPaillier({
        bits: 2048,
        parties: 3,
        threshold: 2,
        primes: { p: primes.p, q: primes.q + 2n },
      }),
      'ERR_INVALID_ARGUMENT',
    );
  });
});
