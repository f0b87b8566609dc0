import { createCipheriv } from 'node:crypto';
import { bytesToHex, hexToBytes, isUnseenError, Prg, prgBytes } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vector from './vectors/sp800-38a-f51-ctr-aes128.json' with { type: 'json' };

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((x, i) => x ^ b[i]!);
}

describe('Prg: AES-128-CTR keystream (NIST SP 800-38A F.5.1)', () => {
  // The keystream is ciphertext XOR plaintext.
  const expected = vector.ciphertext
    .map((c, i) => bytesToHex(xor(hexToBytes(c), hexToBytes(vector.plaintext[i]!))))
    .join('');

  for (const backend of ['node', 'webcrypto'] as const) {
    it(`${backend} backend reproduces the F.5.1 keystream`, async () => {
      const prg = await Prg.create(hexToBytes(vector.key), {
        nonce: hexToBytes(vector.initialCounter),
        backend,
      });
      expect(prg.backend).toBe(backend);
      expect(bytesToHex(await prg.bytes(64))).toBe(expected);
      expect(prg.position).toBe(64);
    });

    it(`${backend} backend gives the same stream however the draws are split`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
          fc.array(fc.integer({ min: 0, max: 70_000 }), { minLength: 1, maxLength: 5 }),
          async (seed, sizes) => {
            const total = sizes.reduce((a, b) => a + b, 0);
            const whole = await prgBytes(seed, total);
            const prg = await Prg.create(seed, { backend });
            const parts: Uint8Array[] = [];
            for (const n of sizes) parts.push(await prg.bytes(n));
            const joined = new Uint8Array(total);
            let off = 0;
            for (const p of parts) {
              joined.set(p, off);
              off += p.length;
            }
            expect(bytesToHex(joined)).toBe(bytesToHex(whole));
          },
        ),
        { numRuns: 25 },
      );
    });
  }

  it('wraps the counter across 2^128 like node:crypto', async () => {
    const key = hexToBytes(vector.key);
    const nonce = hexToBytes('fffffffffffffffffffffffffffffffe');
    const web = await (await Prg.create(key, { nonce, backend: 'webcrypto' })).bytes(64);
    const node = createCipheriv('aes-128-ctr', key, nonce).update(new Uint8Array(64));
    expect(bytesToHex(web)).toBe(bytesToHex(new Uint8Array(node)));
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const a = new Uint8Array(16).fill(1);
    const b = new Uint8Array(16).fill(2);
    expect(await prgBytes(a, 1000)).toEqual(await prgBytes(a, 1000));
    expect(bytesToHex(await prgBytes(a, 32))).not.toBe(bytesToHex(await prgBytes(b, 32)));
  });

  it('fills typed arrays of any kind', async () => {
    const seed = new Uint8Array(16).fill(9);
    const words = await (await Prg.create(seed)).uint32s(1000);
    const bytes = await prgBytes(seed, 4000);
    expect(new Uint8Array(words.buffer)).toEqual(bytes);
  });

  it('rejects seeds that are not 16 bytes', async () => {
    for (const seed of [new Uint8Array(15), new Uint8Array(32), 'seed' as unknown as Uint8Array]) {
      await expect(Prg.create(seed)).rejects.toSatisfy((e) =>
        isUnseenError(e, 'ERR_INVALID_ARGUMENT'),
      );
    }
  });
});

describe('Prg leaves its inputs alone', () => {
  it('does not write to a Buffer nonce while seeking (WebCrypto backend)', async () => {
    const nonce = Buffer.from('fffffffffffffffffffffffffffffff0', 'hex');
    const prg = await Prg.create(new Uint8Array(16), { nonce, backend: 'webcrypto' });
    await prg.bytes(100);
    await prg.bytes(100);
    expect(nonce.toString('hex')).toBe('fffffffffffffffffffffffffffffff0');
  });
});

describe('Prg under concurrent draws', () => {
  for (const backend of ['node', 'webcrypto'] as const) {
    it(`${backend}: concurrent calls get consecutive stretches of the stream, never the same bytes`, async () => {
      const seed = new Uint8Array(16).fill(3);
      const whole = await prgBytes(seed, 3 * 40_000);
      const prg = await Prg.create(seed, { backend });
      const parts = await Promise.all([prg.bytes(40_000), prg.bytes(40_000), prg.bytes(40_000)]);
      expect(bytesToHex(parts[0]!)).not.toBe(bytesToHex(parts[1]!));
      const joined = new Uint8Array(3 * 40_000);
      for (const [i, p] of parts.entries()) joined.set(p, i * 40_000);
      expect(bytesToHex(joined)).toBe(bytesToHex(whole));
      expect(prg.position).toBe(3 * 40_000);
    });
  }

  it('uint32s reads the stream little-endian', async () => {
    const seed = new Uint8Array(16).fill(4);
    const bytes = await prgBytes(seed, 8);
    const words = await (await Prg.create(seed)).uint32s(2);
    const view = new DataView(bytes.buffer);
    expect(Array.from(words)).toEqual([view.getUint32(0, true), view.getUint32(4, true)]);
  });
});
