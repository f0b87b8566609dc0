/**
 * Prime generation for Paillier keys from `crypto.getRandomValues`: random odd candidates with
 * the top two bits set (so that a product of two has exactly twice the bits), sieved by the
 * small primes below 2^16, then a base-2 Fermat test, then Miller-Rabin with 64 random bases
 * (error at most 4^-64 = 2^-128 for any candidate, HAC fact 4.25; FIPS 186-5 appendix B.3 asks
 * for fewer). Safe primes p = 2p' + 1 (p' prime) for threshold keys are searched with a joint
 * sieve on p' and p (Wiener, "Safe prime generation with a combined sieve", 2003).
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { bitLength, modPow, randomBelow, randomBits } from './bigint.js';

/** Odd primes below 2^16. */
const SMALL_PRIMES: Uint32Array = (() => {
  const limit = 1 << 16;
  const composite = new Uint8Array(limit);
  const out: number[] = [];
  for (let i = 3; i < limit; i += 2) {
    if (composite[i]) continue;
    out.push(i);
    for (let j = i * i; j < limit; j += 2 * i) composite[j] = 1;
  }
  return Uint32Array.from(out);
})();

/** Miller-Rabin rounds with random bases: 4^-64 = 2^-128 error bound for any odd candidate. */
export const MILLER_RABIN_ROUNDS = 64;

function smallFactor(n: bigint): boolean {
  for (let i = 0; i < 64; i++) {
    const s = BigInt(SMALL_PRIMES[i]!);
    if (n % s === 0n) return n !== s;
  }
  return false;
}

/**
 * Miller-Rabin with `rounds` uniformly random bases in [2, n-2] (HAC algorithm 4.24).
 * @returns true when `n` is probably prime
 */
export function millerRabin(n: bigint, rounds = MILLER_RABIN_ROUNDS): boolean {
  if (n < 2n) return false;
  if (n < 4n) return true;
  if ((n & 1n) === 0n) return false;
  if (smallFactor(n)) return false;
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  outer: for (let i = 0; i < rounds; i++) {
    const a = n <= 5n ? 2n : 2n + randomBelow(n - 3n);
    let x = modPow(a, d, n);
    if (x === 1n || x === n - 1n) continue;
    for (let r = 1; r < s; r++) {
      x = (x * x) % n;
      if (x === n - 1n) continue outer;
      if (x === 1n) return false;
    }
    return false;
  }
  return true;
}

/** Probable-prime test for public values (small-prime division, then Miller-Rabin). */
export function isProbablePrime(n: bigint, rounds = MILLER_RABIN_ROUNDS): boolean {
  if (n < 2n) return false;
  if (n < 65536n) {
    const v = Number(n);
    if (v === 2) return true;
    if (v % 2 === 0) return false;
    for (let i = 0; i < SMALL_PRIMES.length && SMALL_PRIMES[i]! * SMALL_PRIMES[i]! <= v; i++) {
      if (v % SMALL_PRIMES[i]! === 0) return false;
    }
    return true;
  }
  return millerRabin(n, rounds);
}

/** Offsets scanned per random start. */
const WINDOW = 1 << 14;

/**
 * Scans `start + 2k` for k in [0, WINDOW) and returns the first candidate passing `accept`,
 * skipping those that a small prime divides (and, for safe primes, those where a small prime
 * divides 2x + 1).
 */
function scan(start: bigint, safe: boolean, accept: (x: bigint) => boolean): bigint | undefined {
  const sieve = new Uint8Array(WINDOW);
  for (let i = 0; i < SMALL_PRIMES.length; i++) {
    const s = SMALL_PRIMES[i]!;
    const r = Number(start % BigInt(s));
    // start + 2k = 0 (mod s)  <=>  k = -r * 2^-1 (mod s); 2^-1 = (s+1)/2.
    const half = (s + 1) / 2;
    let k = ((s - r) * half) % s;
    for (; k < WINDOW; k += s) sieve[k] = 1;
    if (safe) {
      // 2(start + 2k) + 1 = 0 (mod s)  <=>  k = (-(2r + 1)) * 4^-1 (mod s).
      const quarter = (half * half) % s;
      let k2 = (((s - ((2 * r + 1) % s)) % s) * quarter) % s;
      for (; k2 < WINDOW; k2 += s) sieve[k2] = 1;
    }
  }
  for (let k = 0; k < WINDOW; k++) {
    if (sieve[k]) continue;
    const x = start + 2n * BigInt(k);
    if (accept(x)) return x;
  }
  return undefined;
}

function randomOddTopBits(bits: number): bigint {
  // Top two bits set so that the product of two such numbers has exactly 2 * bits bits.
  return randomBits(bits) | (3n << BigInt(bits - 2)) | 1n;
}

/**
 * A random prime of exactly `bits` bits with its top two bits set.
 * @param bits 64 to 8192
 */
export function generatePrime(bits: number): bigint {
  aint(bits, 'prime bits', 64, 8192);
  for (;;) {
    // Leave room for the scan so the bit length cannot grow past `bits`.
    const start = randomOddTopBits(bits) - 2n * BigInt(WINDOW);
    const p = scan(start, false, (x) => modPow(2n, x - 1n, x) === 1n && millerRabin(x));
    if (p !== undefined && bitLength(p) === bits && p >> BigInt(bits - 2) === 3n) return p;
  }
}

/**
 * A random safe prime p = 2p' + 1 of exactly `bits` bits (top two bits set) with p' prime.
 * @returns `{ p, pPrime }`
 */
export function generateSafePrime(bits: number): { p: bigint; pPrime: bigint } {
  aint(bits, 'safe prime bits', 64, 8192);
  for (;;) {
    const start = randomOddTopBits(bits - 1) - 2n * BigInt(WINDOW);
    const pPrime = scan(start, true, (x) => {
      const p = 2n * x + 1n;
      // Fermat on both before the expensive rounds; p first: for p' prime and 2 a non-residue
      // the test on p is the stronger filter.
      return (
        modPow(2n, p - 1n, p) === 1n &&
        modPow(2n, x - 1n, x) === 1n &&
        millerRabin(x) &&
        millerRabin(p)
      );
    });
    if (pPrime === undefined) continue;
    const p = 2n * pPrime + 1n;
    if (bitLength(p) === bits && p >> BigInt(bits - 2) === 3n) return { p, pPrime };
  }
}

/**
 * Checks that `p` is a probable prime of `bits` bits.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function assertPrime(p: bigint, title: string): void {
  if (!isProbablePrime(p)) throw new UnseenError('ERR_INVALID_ARGUMENT', `${title} is not prime`);
}
