// Secret-exponent exponentiation: OpenSSL's constant-time DH exponentiation (node:crypto) against
// BigInt modPow, and Paillier decryption through both.
import { isUnseenError, nodeCrypto } from '@unseen/core';
import {
  bitLength,
  generatePaillierKeys,
  generatePrime,
  modPow,
  PaillierPrivateKey,
  randomBelow,
  randomBits,
} from '@unseen/homomorphic';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { SecretExponentPow, selfCheckKeys } from '../src/paillier/modexp.js';
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
      // computed blinded, still by OpenSSL (no BigInt fallback); non-units too (their powers
      // are 0 mod m but 1 mod the factor k that OpenSSL's modulus has on top of m).
      const one = modPow(randomBelow(m - 2n) + 2n, p, m);
      for (const pow of [
        new SecretExponentPow(m, p - 1n),
        new SecretExponentPow(m, p - 1n, { blind: false }),
      ]) {
        expect(pow.pow(one)).toBe(1n);
        expect(pow.pow(m - one)).toBe(1n);
        expect(pow.pow(0n)).toBe(0n);
        expect(pow.pow(1n)).toBe(1n);
        expect(pow.pow(3n * p)).toBe(0n);
        expect(pow.pow(m - p)).toBe(0n);
        expect(pow.fallbacks).toBe(0);
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

  it('hands OpenSSL a multiple of the modulus with a small factor, not the modulus itself', () => {
    // DH_check runs Miller-Rabin (a variable-time exponentiation) on the "prime" unless trial
    // division finds a small factor: a proper multiple k m (or k (2^s + 1) m) has one.
    const rand = (bits: number) => randomBits(bits) | (1n << BigInt(bits - 1)) | 1n;
    const cases: { m: bigint; k: bigint; e: bigint; padded: boolean }[] = [
      { m: p1024 * p1024, k: 3n, e: p1024 - 1n, padded: true }, // 2048 bits: k m needs a limb more
      { m: p1536 * p1536, k: 3n, e: p1536 - 1n, padded: true },
      { m: (p1024 * q1024) ** 2n, k: 3n, e: rand(4200), padded: true },
      // k m fits in m's limbs when m leaves bits free: M = k m
      { m: rand(3068) * 3n + 2n, k: 0n, e: rand(1000), padded: false },
      { m: 3n * p1024 * p1024, k: 5n, e: p1024 - 1n, padded: true }, // 3 | m: k = 5
      { m: 15n * p1024 * p1024, k: 7n, e: p1024 - 1n, padded: true },
    ];
    for (const c of cases) {
      if (c.k === 0n) c.k = [3n, 5n, 7n].find((k) => c.m % k !== 0n)!;
      const pow = new SecretExponentPow(c.m, c.e);
      expect(pow.backend).toBe('openssl');
      const big = pow.opensslModulus!;
      expect(big % c.m).toBe(0n);
      expect(big).not.toBe(c.m);
      expect(big % c.k).toBe(0n);
      expect(c.m % c.k).not.toBe(0n);
      // Whole 512-bit blocks (OpenSSL's fastest Montgomery code) or no more limbs than m.
      const limbs = (x: bigint) => Math.ceil(bitLength(x) / 64);
      if (c.padded) expect(limbs(big) % 8).toBe(0);
      else expect(big).toBe(c.k * c.m);
      expect(limbs(big)).toBeLessThanOrEqual(limbs(c.m) + 8);
      expect(new SecretExponentPow(c.m, c.e, { backend: 'bigint' }).opensslModulus).toBe(undefined);
      for (const base of [2n, c.m - 1n, c.m - 2n, randomBelow(c.m), c.m / c.k, p1024]) {
        expectSame(pow, c.e, base);
        expectSame(new SecretExponentPow(c.m, c.e, { blind: false }), c.e, base);
      }
    }
  }, 60_000);

  it('self-checks per size: no modulus is kept', () => {
    const before = new Set(selfCheckKeys());
    const p2 = p1024 * p1024;
    const q2 = q1024 * q1024;
    expect(bitLength(p2)).toBe(bitLength(q2));
    new SecretExponentPow(p2, p1024 - 1n);
    const afterP = selfCheckKeys();
    new SecretExponentPow(q2, q1024 - 1n);
    new SecretExponentPow(q2, q1024 - 3n);
    // Same size (bits of m, k, exponent bytes): one entry serves both secret moduli.
    expect(selfCheckKeys()).toEqual(afterP);
    expect(afterP).toContain(`${bitLength(p2)}:3:${Math.ceil(bitLength(p1024 - 1n) / 8)}`);
    for (const key of selfCheckKeys()) expect(key).toMatch(/^\d{3,5}:\d{1,2}:\d{1,4}$/);
    expect(selfCheckKeys().length).toBeLessThanOrEqual(before.size + 1);
  });

  it('falls back to BigInt only where a power is 1 and no blinding unit exists', () => {
    // m = p^2 t, 2527 or 2528 bits: OpenSSL's modulus is 3 m. e = p (p - 1) (t - 1), a multiple
    // of lambda(m): every unit's power is 1 mod 3m (the lifted bases are 1 mod 3), refused by
    // OpenSSL, so no blinding unit can be made: BigInt when blinding is asked for, and BigInt
    // for each unit without.
    const t = generatePrime(480);
    const m = p1024 * p1024 * t;
    const e = p1024 * (p1024 - 1n) * (t - 1n);
    expect(new SecretExponentPow(m, p1024).opensslModulus).toBe(3n * m);
    expect(new SecretExponentPow(m, e).backend).toBe('bigint');
    const pow = new SecretExponentPow(m, e, { blind: false });
    expect(pow.backend).toBe('openssl');
    expectSame(pow, e, 5n * p1024); // a non-unit: its power is not 1, OpenSSL computes it
    expect(pow.fallbacks).toBe(0);
    expect(pow.pow(12345n)).toBe(1n);
    expect(pow.fallbacks).toBe(1);
    expect(pow.pow(m - 2n)).toBe(1n);
    expect(pow.fallbacks).toBe(2);
  });

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
      // every candidate factor 3..47 divides m: no small factor to give OpenSSL
      [307444891294245705n * p1024, 65537n],
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
