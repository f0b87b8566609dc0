import { isUnseenError } from '@unseen/core';
import {
  bigintToBytes,
  generatePaillierKeys,
  PaillierPrivateKey,
  PaillierPublicKey,
} from '@unseen/homomorphic';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

let pair: Awaited<ReturnType<typeof generatePaillierKeys>>;

beforeAll(async () => {
  pair = await generatePaillierKeys({ bits: 2048 });
}, 120_000);

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(isUnseenError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('Paillier (g = n + 1, CRT decryption)', () => {
  it('generates a 2048-bit modulus of two 1024-bit primes', () => {
    const { publicKey, privateKey } = pair;
    expect(publicKey.bits).toBe(2048);
    const { p, q } = privateKey.primes;
    expect(p * q).toBe(publicKey.n);
    expect(p.toString(2)).toHaveLength(1024);
    expect(q.toString(2)).toHaveLength(1024);
    expect(publicKey.hs).toBeDefined();
  });

  it('decrypts what it encrypts, with both randomizers', () => {
    const { publicKey, privateKey } = pair;
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: publicKey.n - 1n }), (m) => {
        expect(privateKey.decrypt(publicKey.encrypt(m))).toBe(m);
        expect(privateKey.decrypt(publicKey.encrypt(m, 'full'))).toBe(m);
      }),
      { numRuns: 12 },
    );
  });

  it('djn: false makes a key without the DJN base: textbook r^n by default, DJN refused', async () => {
    const { privateKey } = pair;
    const textbook = await generatePaillierKeys({
      bits: 2048,
      djn: false,
      primes: privateKey.primes,
    });
    expect(textbook.publicKey.hs).toBeUndefined();
    expect(PaillierPublicKey.fromBytes(textbook.publicKey.toBytes()).hs).toBeUndefined();
    expect(textbook.privateKey.decrypt(textbook.publicKey.encrypt(77n))).toBe(77n);
    expectCode(() => textbook.publicKey.encrypt(1n, 'djn'), 'ERR_UNSUPPORTED');
    expectCode(() => textbook.publicKey.encrypt(1n, 'other' as never), 'ERR_INVALID_ARGUMENT');
    // And a DJN key takes textbook randomness per call.
    expect(privateKey.decrypt(pair.publicKey.rerandomize(pair.publicKey.encrypt(5n), 'full'))).toBe(
      5n,
    );
  });

  it('adds, adds plaintexts, multiplies by scalars, negates and subtracts', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const n = pk.n;
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: n - 1n }),
        fc.bigInt({ min: 0n, max: n - 1n }),
        fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }),
        (a, b, k) => {
          const ca = pk.encrypt(a);
          const cb = pk.encrypt(b);
          expect(sk.decrypt(pk.add(ca, cb))).toBe((a + b) % n);
          expect(sk.decrypt(pk.addPlain(ca, b))).toBe((a + b) % n);
          expect(sk.decrypt(pk.multiply(ca, k))).toBe((((a * k) % n) + n) % n);
          expect(sk.decrypt(pk.subtract(ca, cb))).toBe((((a - b) % n) + n) % n);
          expect(sk.decrypt(pk.negate(ca))).toBe((n - a) % n);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('sums many ciphertexts and decodes signed values', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const values = [5n, -7n, 123456789n, -(1n << 200n), 0n];
    const total = values.reduce((a, b) => a + b, 0n);
    const c = pk.sum(values.map((v) => pk.encryptSigned(v)));
    expect(sk.decryptSigned(c)).toBe(total);
  });

  it('rerandomizes: a new ciphertext of the same plaintext', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const c = pk.encrypt(42n);
    const d = pk.rerandomize(c);
    expect(d).not.toBe(c);
    expect(sk.decrypt(d)).toBe(42n);
  });

  it('encrypts with precomputed randomizers (public and CRT) at one multiplication each', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const fromPublic = pk.randomizer();
    const fromPrivate = sk.randomizer();
    expect(sk.decrypt(pk.encryptWith(7n, fromPublic))).toBe(7n);
    expect(sk.decrypt(pk.encryptWith(9n, fromPrivate))).toBe(9n);
    // A randomizer is an n-th residue: it decrypts to 0.
    expect(sk.decrypt(fromPrivate)).toBe(0n);
    pk.precompute();
    expect(sk.decrypt(pk.encrypt(11n))).toBe(11n);
  });

  it('refuses plaintexts outside [0, n)', () => {
    const { publicKey: pk } = pair;
    expectCode(() => pk.encrypt(-1n), 'ERR_OVERFLOW');
    expectCode(() => pk.encrypt(pk.n), 'ERR_OVERFLOW');
    expectCode(() => pk.encodeSigned(pk.n), 'ERR_OVERFLOW');
  });

  it('round-trips keys and ciphertexts and validates them on the way in', () => {
    const { publicKey: pk, privateKey: sk } = pair;
    const pk2 = PaillierPublicKey.fromBytes(pk.toBytes());
    expect(pk2.n).toBe(pk.n);
    expect(pk2.hs).toBe(pk.hs);
    expect(pk2.fingerprint()).toEqual(pk.fingerprint());
    const sk2 = PaillierPrivateKey.fromBytes(sk.toBytes());
    const c = pk2.encrypt(1234n);
    expect(sk2.decrypt(c)).toBe(1234n);
    const bytes = pk.encodeCiphertext(c);
    expect(bytes).toHaveLength(512);
    expect(pk.decodeCiphertext(bytes)).toBe(c);
    expect(pk.decodeCiphertexts(pk.encodeCiphertexts([c, c]))).toEqual([c, c]);

    expectCode(() => pk.decodeCiphertext(bytes.subarray(1)), 'ERR_MALFORMED_MESSAGE');
    expectCode(() => pk.decodeCiphertext(new Uint8Array(512)), 'ERR_MALFORMED_MESSAGE'); // 0
    expectCode(() => pk.decodeCiphertext(bigintToBytes(pk.n2, 512)), 'ERR_MALFORMED_MESSAGE');
    expectCode(() => pk.decodeCiphertext(new Uint8Array(512).fill(255)), 'ERR_MALFORMED_MESSAGE');
    const { p } = sk.primes;
    expectCode(() => pk.decodeCiphertext(bigintToBytes(p * 12345n, 512)), 'ERR_MALFORMED_MESSAGE');
    expectCode(() => sk.decrypt(p * 3n), 'ERR_MALFORMED_MESSAGE');
    expectCode(() => pk.decodeCiphertexts(new Uint8Array(513)), 'ERR_MALFORMED_MESSAGE');
    // One non-unit in a block (checked with one gcd for the block) is found.
    const block = pk.encodeCiphertexts([c, c, c]);
    block.set(bigintToBytes(p * 7n, 512), 512);
    expectCode(() => pk.decodeCiphertexts(block), 'ERR_MALFORMED_MESSAGE');
    block.set(bigintToBytes(pk.n * 3n, 512), 512);
    expectCode(() => pk.decodeCiphertexts(block), 'ERR_MALFORMED_MESSAGE');
    // The encoder checks the same way: a block with one non-unit or one out of range is refused.
    expectCode(() => pk.encodeCiphertexts([c, p * 7n, c]), 'ERR_MALFORMED_MESSAGE');
    expectCode(() => pk.encodeCiphertexts([c, c, pk.n2]), 'ERR_MALFORMED_MESSAGE');
    expectCode(() => pk.encodeCiphertexts([0n]), 'ERR_MALFORMED_MESSAGE');
  });

  it('rejects truncated, extended and corrupted keys with typed errors', () => {
    const good = pair.publicKey.toBytes();
    const codes = new Set<string>();
    const tries: Uint8Array[] = [good.subarray(0, good.length - 1), new Uint8Array([...good, 0])];
    // version, tag, size, the top byte of n (a flip elsewhere in n is just another modulus)
    for (let i = 0; i < 5; i++) {
      const bad = good.slice();
      bad[i]! ^= 0xff;
      tries.push(bad);
    }
    const evenN = good.slice();
    evenN[4 + 255]! &= 0xfe; // last byte of n: make it even
    tries.push(evenN);
    for (const t of tries) {
      try {
        PaillierPublicKey.fromBytes(t);
        throw new Error('accepted a bad key');
      } catch (e) {
        expect(isUnseenError(e), String(e)).toBe(true);
        codes.add((e as { code: string }).code);
      }
    }
    expect(
      [...codes].every((c) => ['ERR_MALFORMED_MESSAGE', 'ERR_UNSUPPORTED_VERSION'].includes(c)),
    ).toBe(true);
    const sk = pair.privateKey.toBytes();
    const badPrime = sk.slice();
    badPrime[4 + 127]! ^= 2; // p + or - 2: no longer prime (overwhelmingly likely) nor a factor of n
    expectCode(() => PaillierPrivateKey.fromBytes(badPrime), 'ERR_MALFORMED_MESSAGE');
  });

  it('refuses moduli below 2048 bits', async () => {
    await expect(generatePaillierKeys({ bits: 1024 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    expectCode(() => new PaillierPublicKey((1n << 1023n) + 1n), 'ERR_INVALID_ARGUMENT');
  });
});
