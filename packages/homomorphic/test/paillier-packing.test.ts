import { isUnseenError } from '@unseen/core';
import { generatePaillierKeys, PaillierPacking } from '@unseen/homomorphic';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('packing many values per Paillier plaintext', () => {
  it('sums of up to maxContributions packed vectors unpack to the plain sums', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 300 }),
        fc.bigInt({ min: 1n, max: 1n << 40n }),
        (k, length, bound) => {
          const packing = new PaillierPacking({ modulusBits: 2048, bound, maxContributions: k });
          const n = 1n << 2047n; // plaintexts stay below any 2048-bit n
          const sums = new Array<bigint>(length).fill(0n);
          let acc = new Array<bigint>(packing.plaintextCount(length)).fill(0n);
          for (let c = 0; c < k; c++) {
            const values = Array.from(
              { length },
              (_, i) => (BigInt(i * 7919 + c * 104729) % (2n * bound + 1n)) - bound,
            );
            values.forEach((v, i) => {
              sums[i]! += v;
            });
            const packed = packing.pack(values);
            acc = acc.map((a, j) => a + packed[j]!);
          }
          for (const a of acc) expect(a).toBeLessThan(n);
          expect(packing.unpack(acc, length, k)).toEqual(sums);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('packs 47 values of 32 bits with 1000 contributions of headroom in a 2048-bit plaintext', () => {
    const p = new PaillierPacking({ modulusBits: 2048, bound: 1n << 32n, maxContributions: 1000 });
    expect(p.slotBits).toBe(43);
    expect(p.slotsPerPlaintext).toBe(47);
  });

  it('round-trips through real encryption', async () => {
    const { publicKey, privateKey } = await generatePaillierKeys({ bits: 2048 });
    const packing = new PaillierPacking({
      modulusBits: publicKey.bits,
      bound: 1000n,
      maxContributions: 3,
    });
    const a = Array.from({ length: 200 }, (_, i) => BigInt(i - 100));
    const b = Array.from({ length: 200 }, (_, i) => BigInt(1000 - i));
    const ca = packing.pack(a).map((m) => publicKey.encrypt(m));
    const cb = packing.pack(b).map((m) => publicKey.encrypt(m));
    const sum = ca.map((c, i) => publicKey.add(c, cb[i]!)).map((c) => privateKey.decrypt(c));
    expect(packing.unpack(sum, 200, 2)).toEqual(a.map((x, i) => x + b[i]!));
  }, 60_000);

  it('reports values out of range and counts beyond the headroom', () => {
    const p = new PaillierPacking({ modulusBits: 2048, bound: 10n, maxContributions: 4 });
    for (const f of [
      () => p.pack([11n]),
      () => p.pack([-11n]),
      () => p.unpack(p.pack([1n]), 1, 5),
    ]) {
      try {
        f();
        throw new Error('no error');
      } catch (e) {
        expect(isUnseenError(e, 'ERR_OVERFLOW'), String(e)).toBe(true);
      }
    }
    // A slot above what `count` honest contributions can reach is caught.
    expect(() => p.unpack([(1n << BigInt(p.slotBits)) - 1n], 1, 1)).toThrow(/exceeds/);
  });
});
