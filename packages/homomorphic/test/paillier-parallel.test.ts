// Paillier on many values through a worker pool (and inline, with the same results).
import {
  addPackedVectors,
  decryptMany,
  decryptPackedVector,
  encryptMany,
  encryptPackedVector,
  generatePaillierKeys,
  PaillierPacking,
  precomputeRandomizers,
} from '@unseen/homomorphic';
import { createPool } from '@unseen/workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let keys: Awaited<ReturnType<typeof generatePaillierKeys>>;
const pool = createPool({ size: 2 });

beforeAll(async () => {
  keys = await generatePaillierKeys({ bits: 2048 });
}, 120_000);
afterAll(() => pool.close());

describe('parallel Paillier', () => {
  it('precomputes randomizers in workers: n-th residues that encrypt correctly', async () => {
    const rs = await precomputeRandomizers(keys.publicKey, 20, { pool });
    expect(new Set(rs).size).toBe(20);
    for (const r of rs.slice(0, 4)) {
      expect(keys.privateKey.decrypt(r)).toBe(0n);
      expect(keys.privateKey.decrypt(keys.publicKey.encryptWith(99n, r))).toBe(99n);
    }
  }, 60_000);

  it('encrypts and decrypts lists in workers and inline alike', async () => {
    const ms = Array.from({ length: 24 }, (_, i) => BigInt(i) * 1_000_000_007n);
    const cs = await encryptMany(keys.publicKey, ms, { pool });
    expect(await decryptMany(keys.privateKey, cs, { pool })).toEqual(ms);
    expect(await decryptMany(keys.privateKey, cs, { pool: null })).toEqual(ms);
  }, 60_000);

  it('sums packed vectors of many contributions', async () => {
    const length = 200;
    const k = 3;
    const packing = new PaillierPacking({
      modulusBits: keys.publicKey.bits,
      bound: 1n << 20n,
      maxContributions: k,
    });
    const vectors = Array.from({ length: k }, (_, c) =>
      Array.from({ length }, (_, i) => BigInt(((i * 7 + c * 1013) % 2_000_001) - 1_000_000)),
    );
    const blocks = await Promise.all(
      vectors.map((v) => encryptPackedVector(keys.publicKey, packing, v, { pool })),
    );
    expect(blocks[0]!.length).toBe(packing.plaintextCount(length) * keys.publicKey.ciphertextBytes);
    const sum = blocks.reduce((a, b) => addPackedVectors(keys.publicKey, a, b));
    const got = await decryptPackedVector(keys.privateKey, packing, sum, length, k, { pool });
    expect(got).toEqual(vectors[0]!.map((_, i) => vectors.reduce((s, v) => s + v[i]!, 0n)));
    await expect(
      decryptPackedVector(keys.privateKey, packing, sum, length, k + 1),
    ).rejects.toMatchObject({
      code: 'ERR_OVERFLOW',
    });
    expect(() => addPackedVectors(keys.publicKey, blocks[0]!, blocks[1]!.subarray(512))).toThrow(
      /different lengths/,
    );
  }, 120_000);
});
