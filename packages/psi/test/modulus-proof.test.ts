/**
 * The proof that a Paillier modulus is coprime to its totient (GRSB19 section 3.2, e = N): an
 * honest key's proof verifies; a modulus with gcd(N, phi(N)) > 1 (a prime p dividing q - 1, or
 * p^2 dividing N) cannot be proven, even by a prover that knows the factors and answers every
 * challenge that has an N-th root; small factors, tampered, truncated, extended and out-of-range
 * roots are refused with ERR_INTEGRITY.
 */
import { isUnseenError } from '@unseen/core';
import {
  bigintToBytes,
  bitLength,
  crt2,
  gcd,
  generatePaillierKeys,
  generatePrime,
  isProbablePrime,
  modInverse,
  modPow,
  randomBits,
} from '@unseen/homomorphic';
import { describe, expect, it } from 'vitest';
import {
  PROOF_ROUNDS,
  proofChallenges,
  proveCoprime,
  smallFactor,
  verifyCoprime,
} from '../src/modulus-proof.js';

function code(f: () => void): string {
  try {
    f();
    return 'none';
  } catch (e) {
    return isUnseenError(e) ? e.code : `other: ${String(e)}`;
  }
}

/** A prime q = 2kp + 1 (k odd, p not dividing k) of about `bits` bits: p | q - 1. */
function primeOneModP(p: bigint, bits: number): bigint {
  for (;;) {
    const k = randomBits(bits - bitLength(p) - 1) | 1n;
    if (k % p === 0n) continue;
    const q = 2n * k * p + 1n;
    if (isProbablePrime(q, 20)) return q;
  }
}

/**
 * The best a prover can do for N = pq when it knows p and q: for each challenge, an N-th root
 * when one exists (mod a prime r with g = gcd(N, r - 1) and r - 1 = g t, gcd(g, t) = 1, x is an
 * N-th power iff x^t = 1, and then x^(N^-1 mod t) is a root), else anything.
 */
function bestEffortProof(p: bigint, q: bigint): { proof: Uint8Array; roots: number } {
  const n = p * q;
  const size = Math.ceil(bitLength(n) / 8);
  const proof = new Uint8Array(PROOF_ROUNDS * size);
  let roots = 0;
  proofChallenges(n).forEach((rho, i) => {
    const part = [p, q].map((r) => {
      const t = (r - 1n) / gcd(n, r - 1n);
      const x = rho! % r;
      return modPow(x, t, r) === 1n || t === r - 1n
        ? modPow(x, modInverse(n % t, t), r)
        : undefined;
    });
    let sigma: bigint;
    if (part[0] !== undefined && part[1] !== undefined) {
      sigma = crt2(part[0], p, part[1], q, modInverse(q % p, p));
      roots++;
    } else {
      sigma = (randomBits(bitLength(n)) % (n - 1n)) + 1n;
    }
    proof.set(bigintToBytes(sigma, size), i * size);
  });
  return { proof, roots };
}

describe('Paillier modulus proof (gcd(N, phi(N)) = 1)', () => {
  it('an honest 2048-bit key proves and verifies; flipped, truncated, extended or foreign proofs fail', async () => {
    const { privateKey } = await generatePaillierKeys({ bits: 2048 });
    const { p, q } = privateKey.primes;
    const n = p * q;
    const proof = proveCoprime(p, q);
    expect(proof.length).toBe(PROOF_ROUNDS * 256);
    expect(code(() => verifyCoprime(n, proof))).toBe('none');
    // every root is checked
    for (let i = 0; i < PROOF_ROUNDS; i++) {
      const bad = proof.slice();
      bad[i * 256 + 200]! ^= 1;
      expect(code(() => verifyCoprime(n, bad))).toBe('ERR_INTEGRITY');
    }
    expect(code(() => verifyCoprime(n, proof.subarray(0, proof.length - 1)))).toBe('ERR_INTEGRITY');
    expect(code(() => verifyCoprime(n, new Uint8Array([...proof, 0])))).toBe('ERR_INTEGRITY');
    expect(code(() => verifyCoprime(n, new Uint8Array(0)))).toBe('ERR_INTEGRITY');
    const other = await generatePaillierKeys({ bits: 2048 });
    expect(code(() => verifyCoprime(other.publicKey.n, proof))).toBe('ERR_INTEGRITY');
    const zero = proof.slice();
    zero.fill(0, 0, 256); // root 0: out of range
    expect(code(() => verifyCoprime(n, zero))).toBe('ERR_INTEGRITY');
  }, 120_000);

  it('the best-effort prover of an honest modulus is the honest prover', () => {
    const p = generatePrime(256);
    const q = generatePrime(256);
    const { proof, roots } = bestEffortProof(p, q);
    expect(roots).toBe(PROOF_ROUNDS);
    expect(code(() => verifyCoprime(p * q, proof))).toBe('none');
    expect(proof).toEqual(proveCoprime(p, q));
  });

  it('N = pq with p | q - 1 (gcd(N, phi(N)) = p) is refused, even with every root that exists', () => {
    // 65537 is the smallest prime the trial division lets through: the cheater's best case, where
    // a uniform unit is an N-th power with probability 1/65537.
    for (const p of [65537n, generatePrime(128)]) {
      const q = primeOneModP(p, 512);
      const n = p * q;
      expect(gcd(n, (p - 1n) * (q - 1n))).toBe(p);
      expect(smallFactor(n)).toBeUndefined();
      const { proof, roots } = bestEffortProof(p, q);
      expect(roots).toBeLessThan(PROOF_ROUNDS);
      expect(code(() => verifyCoprime(n, proof))).toBe('ERR_INTEGRITY');
    }
  }, 120_000);

  it('N = p^2 q (not square-free) is refused', () => {
    const p = generatePrime(128);
    const q = generatePrime(256);
    const n = p * p * q;
    expect(gcd(n, p * (p - 1n) * (q - 1n))).toBe(p);
    const size = Math.ceil(bitLength(n) / 8);
    // roots as if N were p q (the textbook exponent) and junk roots
    const d = modInverse(n % ((p - 1n) * (q - 1n)), (p - 1n) * (q - 1n));
    const textbook = new Uint8Array(PROOF_ROUNDS * size);
    proofChallenges(n).forEach((rho, i) => {
      textbook.set(bigintToBytes(modPow(rho!, d, n), size), i * size);
    });
    expect(code(() => verifyCoprime(n, textbook))).toBe('ERR_INTEGRITY');
    expect(code(() => verifyCoprime(n, new Uint8Array(PROOF_ROUNDS * size).fill(7)))).toBe(
      'ERR_INTEGRITY',
    );
  });

  it('a prime factor below 2^16, or an even N, is refused before any root is checked', () => {
    const q = generatePrime(512);
    for (const small of [3n, 257n, 65521n]) {
      const n = small * q;
      expect(smallFactor(n)).toBe(Number(small));
      const size = Math.ceil(bitLength(n) / 8);
      expect(code(() => verifyCoprime(n, new Uint8Array(PROOF_ROUNDS * size)))).toBe(
        'ERR_INTEGRITY',
      );
    }
    expect(smallFactor(65537n * q)).toBeUndefined();
    expect(smallFactor(q)).toBeUndefined();
    expect(code(() => verifyCoprime(2n * q, new Uint8Array(0)))).toBe('ERR_INTEGRITY');
    expect(code(() => verifyCoprime(1n, new Uint8Array(0)))).toBe('ERR_INTEGRITY');
  });

  it('challenges are units below N, fixed by N alone', () => {
    const n = generatePrime(256) * generatePrime(256);
    const a = proofChallenges(n);
    expect(a).toEqual(proofChallenges(n));
    for (const rho of a) {
      expect(rho! > 0n && rho! < n).toBe(true);
      expect(gcd(rho!, n)).toBe(1n);
    }
    expect(new Set(a.map(String)).size).toBe(PROOF_ROUNDS);
  });
});
