// Secret-exponent exponentiation: OpenSSL's constant-time DH exponentiation (node:crypto) against
// BigInt modPow, and Paillier decryption through both.
import { isUnseenError, nodeCrypto } from '@unseen/core';
import {
  generatePaillierKeys,
  generatePrime,
  modPow,
  PaillierPrivateKey,
  randomBelow,
  randomBits,
} from '@unseen/homomorphic';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecretExponentPow } from '../src/paillier/modexp.js';
import vector from './vectors/safe-primes-2048.json' with { type: 'json' };

const p1024 = BigInt(`0x${vector.p}`);
const q1024 = BigInt(`0x${vector.q}`);
let p1536: bigint;

beforeAll(() => {
  p1536 = generatePrime(1536);
}, 60_000);

/** Bases with the edge cases OpenSSL refuses or that make the result 0, 1 or m - 1. */
function bases(m: bigint, p: bigint): fc.Arbitrary<bigint> {
  return fc.oneof(
    fc.bigInt({ min: 0n, max: m - 1n }),
    fc.constantFrom(0n, 1n, 2n, m - 1n, m - 2n, p, m - p),
    fc.bigInt({ min: 1n, max: m / p - 1n }).map((k) => k * p), // not units
    fc.bigInt({ min: -m, max: 2n * m }), // reduced first, as modPow does
  );
}

function expectSame(pow: SecretExponentPow, exp: bigint, base: bigint): void {
  expect(pow.pow(base)).toBe(modPow(base, exp, pow.modulus));
}

describe('SecretExponentPow', () => {
  it('uses OpenSSL on Node', () => {
    expect(typeof nodeCrypto?.createDiffieHellman).toBe('function');
    const m = p1024 * p1024;
    expect(new SecretExponentPow(m, p1024 - 1n).backend).toBe('openssl');
    expect(new SecretExponentPow(m, p1024 - 1n, { backend: 'bigint' }).backend).toBe('bigint');
  });

  for (const [size, prime] of [
    ['2048', () => p1024],
    ['3072', () => p1536],
  ] as const) {
    it(`equals modPow for every base modulo p^2 of a ${size}-bit key (exponents p - 1, n mod p(p-1))`, () => {
      const p = prime();
      const m = p * p;
      // n = p q; q's primality does not matter to the exponent n mod p(p - 1).
      const n = p * (p === p1024 ? q1024 : randomBits(1536) | 1n);
      const exponents = [p - 1n, n % (p * (p - 1n))];
      const pows = exponents.flatMap((e) => [
        new SecretExponentPow(m, e),
        new SecretExponentPow(m, e, { blind: false }),
        new SecretExponentPow(m, e, { backend: 'bigint' }),
      ]);
      expect(pows.map((x) => x.backend)).toEqual([
        'openssl',
        'openssl',
        'bigint',
        'openssl',
        'openssl',
        'bigint',
      ]);
      fc.assert(
        fc.property(bases(m, p), (base) => {
          for (let i = 0; i < pows.length; i++)
            expectSame(pows[i]!, exponents[Math.floor(i / 3)]!, base);
        }),
        { numRuns: size === '2048' ? 40 : 15 },
      );
      // Powers that are 1 (x^p has order dividing p - 1): refused by OpenSSL unblinded, so
      // computed blinded, still by OpenSSL (no BigInt fallback); non-units fall back.
      const one = modPow(randomBelow(m - 2n) + 2n, p, m);
      for (const pow of [
        new SecretExponentPow(m, p - 1n),
        new SecretExponentPow(m, p - 1n, { blind: false }),
      ]) {
        expect(pow.pow(one)).toBe(1n);
        expect(pow.pow(m - one)).toBe(1n);
        expect(pow.pow(0n)).toBe(0n);
        expect(pow.pow(1n)).toBe(1n);
        expect(pow.fallbacks).toBe(0);
        expect(pow.pow(3n * p)).toBe(0n);
        expect(pow.fallbacks).toBe(1);
      }
    }, 120_000);
  }

  it('equals modPow modulo n^2 with exponents longer than the modulus (threshold shares)', () => {
    const n = p1024 * q1024;
    const m = n * n;
    const e = randomBits(4096 + 40) | (1n << (4096n + 39n));
    const pow = new SecretExponentPow(m, e);
    expect(pow.backend).toBe('openssl');
    fc.assert(
      fc.property(bases(m, p1024), (base) => expectSame(pow, e, base)),
      { numRuns: 6 },
    );
  }, 120_000);

  it('handles small, zero and padded exponents', () => {
    const m = p1024 * p1024;
    const base = randomBelow(m);
    for (const e of [0n, 1n, 2n, 3n, 255n, 256n, (1n << 1023n) + 1n, m + 5n]) {
      expectSame(new SecretExponentPow(m, e), e, base);
      expectSame(new SecretExponentPow(m, e), e, 0n);
      expectSame(new SecretExponentPow(m, e), e, 1n);
    }
    expect(new SecretExponentPow(m, 0n).backend).toBe('bigint');
  });

  it('falls back to BigInt where OpenSSL cannot go (even, small and huge moduli)', () => {
    const cases: [bigint, bigint][] = [
      [p1024 * p1024 * 2n, p1024],
      [1n, 5n],
      [101n, 7n],
      [(1n << 10_008n) + 1n, 65537n],
    ];
    for (const [m, e] of cases) {
      const pow = new SecretExponentPow(m, e);
      expect(pow.backend).toBe('bigint');
      for (const base of [0n, 1n, 2n, m - 1n, randomBelow(m)]) expectSame(pow, e, base);
    }
  });

  it('rejects bad arguments with UnseenError', () => {
    for (const [m, e] of [
      [0n, 1n],
      [5n, -1n],
    ] as const) {
      try {
        new SecretExponentPow(m, e);
        expect.unreachable();
      } catch (err) {
        expect(isUnseenError(err, 'ERR_INVALID_ARGUMENT')).toBe(true);
      }
    }
    expect(() => new SecretExponentPow(7n, 1n, { backend: 'gmp' as 'bigint' })).toThrow(
      /unknown modexp backend/,
    );
  });
});

describe('Paillier decryption through OpenSSL and through BigInt', () => {
  let pair: Awaited<ReturnType<typeof generatePaillierKeys>>;
  let bigint: PaillierPrivateKey;

  beforeAll(async () => {
    pair = await generatePaillierKeys({ bits: 2048, primes: { p: p1024, q: q1024 } });
    bigint = new PaillierPrivateKey(p1024, q1024, pair.publicKey, { modexp: 'bigint' });
  }, 60_000);

  it('reports its backend', () => {
    expect(pair.privateKey.modexpBackend).toBe('openssl');
    expect(bigint.modexpBackend).toBe('bigint');
    const bytes = pair.privateKey.toBytes();
    expect(PaillierPrivateKey.fromBytes(bytes).modexpBackend).toBe('openssl');
    expect(PaillierPrivateKey.fromBytes(bytes, { modexp: 'bigint' }).modexpBackend).toBe('bigint');
  });

  it('decrypts every plaintext to the same value both ways (0 and multiples of p included)', () => {
    const { publicKey, privateKey } = pair;
    const n = publicKey.n;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.bigInt({ min: 0n, max: n - 1n }),
          fc.constantFrom(0n, 1n, n - 1n, p1024, q1024, n - p1024),
          fc.bigInt({ min: 0n, max: q1024 - 1n }).map((k) => k * p1024), // c^(p-1) = 1 mod p^2
        ),
        fc.constantFrom('djn' as const, 'full' as const),
        (m, randomness) => {
          const c = publicKey.encrypt(m, randomness);
          expect(privateKey.decrypt(c)).toBe(m);
          expect(bigint.decrypt(c)).toBe(m);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('makes valid randomizers both ways', () => {
    for (const key of [pair.privateKey, bigint]) {
      for (const m of [0n, 42n, pair.publicKey.n - 1n]) {
        expect(pair.privateKey.decrypt(pair.publicKey.encryptWith(m, key.randomizer()))).toBe(m);
      }
    }
  });

  it('rejects non-units both ways', () => {
    for (const key of [pair.privateKey, bigint]) {
      for (const c of [p1024, q1024 * 7n, p1024 * p1024]) {
        try {
          key.decrypt(c);
          expect.unreachable();
        } catch (err) {
          expect(isUnseenError(err, 'ERR_MALFORMED_MESSAGE'), String(err)).toBe(true);
        }
      }
    }
    expect(
      () => new PaillierPrivateKey(p1024, q1024, pair.publicKey, { modexp: 'x' as 'bigint' }),
    ).toThrow(/unknown modexp backend/);
  });
});
