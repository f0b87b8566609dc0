import { checkPrimeSync } from 'node:crypto';
import {
  bigintToBytes,
  bitLength,
  bytesToBigint,
  FixedBaseTable,
  generatePrime,
  generateSafePrime,
  isProbablePrime,
  millerRabin,
  modInverse,
  modPow,
  randomBelow,
} from '@unseen/homomorphic';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('prime generation and BigInt arithmetic', () => {
  it('generates primes of exactly the requested size, confirmed by node:crypto (OpenSSL)', () => {
    for (const bits of [256, 512, 1024]) {
      const p = generatePrime(bits);
      expect(bitLength(p)).toBe(bits);
      expect(p >> BigInt(bits - 2)).toBe(3n); // top two bits set
      expect(checkPrimeSync(p, { checks: 40 })).toBe(true);
    }
  });

  it("generates safe primes p = 2p' + 1", () => {
    const { p, pPrime } = generateSafePrime(256);
    expect(p).toBe(2n * pPrime + 1n);
    expect(bitLength(p)).toBe(256);
    expect(checkPrimeSync(p)).toBe(true);
    expect(checkPrimeSync(pPrime)).toBe(true);
  });

  it('rejects strong pseudoprimes and Carmichael numbers, accepts Mersenne primes', () => {
    // 3215031751 is a strong pseudoprime to bases 2, 3, 5 and 7; 561, 41041 and 825265 are
    // Carmichael numbers; 2^61-1, 2^127-1 and 2^521-1 are prime.
    for (const c of [
      561n,
      41041n,
      825265n,
      3215031751n,
      (1n << 128n) + 1n,
      (2n ** 61n - 1n) * (2n ** 89n - 1n),
    ]) {
      expect(isProbablePrime(c)).toBe(false);
    }
    for (const p of [2n ** 61n - 1n, 2n ** 127n - 1n, 2n ** 521n - 1n, 65537n, 2n, 3n]) {
      expect(isProbablePrime(p)).toBe(true);
    }
    expect(millerRabin(2n ** 89n - 1n)).toBe(true);
  });

  it('modPow, the fixed-base table and modInverse agree with plain BigInt arithmetic', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 2n, max: 1n << 700n }),
        fc.bigInt({ min: 0n, max: (1n << 300n) - 1n }), // the table holds 300 bits
        fc.bigInt({ min: 3n, max: 1n << 500n }),
        (b, e, m0) => {
          const m = m0 | 1n;
          let ref = 1n;
          let base = b % m;
          let x = e;
          while (x > 0n) {
            if (x & 1n) ref = (ref * base) % m;
            base = (base * base) % m;
            x >>= 1n;
          }
          expect(modPow(b, e, m)).toBe(ref);
          expect(new FixedBaseTable(b, m, 300, 4).pow(e)).toBe(ref);
          if (b % m !== 0n && checkPrimeSync(m)) expect((modInverse(b, m) * b) % m).toBe(1n);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('codes bigints as fixed-length bytes and samples below a bound', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), (x) => {
        expect(bytesToBigint(bigintToBytes(x, 32))).toBe(x);
      }),
    );
    expect(() => bigintToBytes(1n << 256n, 32)).toThrow(/needs more than/);
    for (let i = 0; i < 200; i++) expect(randomBelow(1000n)).toBeLessThan(1000n);
  });
});
