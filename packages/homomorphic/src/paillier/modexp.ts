/**
 * Modular exponentiation with a secret exponent (Paillier's p - 1, q - 1 and n mod p(p - 1),
 * threshold shares 2 Delta s_i and proof masks): `base^exponent mod modulus` for a fixed
 * exponent and modulus and any base.
 *
 * Why not BigInt: {@link modPow} takes time that depends on the exponent's bits (sliding windows
 * skip zeros, and BigInt multiplication time depends on its operands), a timing side channel on
 * the secret; and it is slow (a BigInt multiplication allocates). Where the platform has
 * node:crypto, the exponentiation goes through its finite-field Diffie-Hellman instead: with the
 * exponent as the private key and a multiple M of the modulus m as the "prime",
 * `computeSecret(base)` is base^exponent mod M, computed by OpenSSL's
 * `BN_mod_exp_mont_consttime` (OpenSSL sets `BN_FLG_CONSTTIME` on DH private keys: fixed-window
 * Montgomery exponentiation with cache-line-scattered tables, the same for every exponent of a
 * given length), and reduced mod m (m divides M). It is about 4-6x faster than BigInt at these
 * sizes.
 *
 * Why a multiple, not m itself: creating the DH object runs OpenSSL's `DH_check`, whose
 * `BN_check_prime` tries small primes and then Miller-Rabin, a variable-time exponentiation
 * modulo the "prime" with an exponent derived from it: for m = p^2 that is a computation on the
 * secret p (and takes milliseconds). M = k m with k the smallest of 3, 5, 7, ... that does not
 * divide m has a small factor, so trial division ends at once and Miller-Rabin never runs. Unless
 * k m already reaches the last 64-bit limb of a 512-bit block, M = k (2^s + 1) m instead, s
 * chosen so that M fills a whole number of 512-bit blocks: OpenSSL's fastest Montgomery code
 * (x86-64 `bn_power5`, ARMv8 `__bn_sqr8x_mont`) takes multiples of 8 limbs, and 2560-bit M costs
 * 1.3-1.5x 2048-bit m where 2050-bit 3m costs 2x. Montgomery arithmetic needs M odd, so m must be.
 *
 * OpenSSL refuses some inputs: a base outside [2, M - 2] and a result of 0, 1 or M - 1 (the
 * checks of SP 800-56A on DH public keys and shared secrets). Every base x in [0, m) is handed
 * over as its lift x' = x mod m, x' = 1 mod k (CRT, x' < k m <= M - 2): its power is 1 mod k,
 * never 0 or M - 1, so OpenSSL refuses it only when x^e = 1 mod m (and x' = 1 for x = 1). That
 * is common here: c^(p-1) = 1 mod p^2 for every encryption of 0, and falling back to BigInt for
 * it would both leak that the plaintext is 0 and run the secret exponent through BigInt. So the
 * base is blinded with a random unit u fixed per object: base^e = (base * u)^e * u^-e mod m, with
 * u^-e computed once (also by OpenSSL). A refusal then happens only for a base chosen with
 * knowledge of the secret u; then, and on platforms without node:crypto (browsers), the result
 * comes from BigInt {@link modPow}, which gives the same value for every base.
 *
 * The platform's DH is trusted only after a self-check per size (bits of m, k, exponent bytes):
 * one exponentiation on a random public modulus built the same way, with a random public
 * exponent, compared with BigInt. No secret modulus is kept or checked in BigInt.
 *
 * What stays in BigInt around it (the lift, the blinding multiplications, the reduction mod m,
 * Paillier's L function and CRT) runs in time that depends only on operand lengths, not on the
 * exponent's bits. One leak stays: OpenSSL's exponentiation time follows the exponent's bit
 * length (leading zero bits), public for p - 1 and q - 1.
 * @module
 */
import { type NodeDiffieHellman, nodeCrypto, UnseenError } from '@unseen/core';
import {
  bigintToBytes,
  bitLength,
  bytesToBigint,
  mod,
  modInverse,
  modPow,
  randomBelow,
  randomBits,
} from './bigint.js';

/** Which code computes the exponentiations of a {@link SecretExponentPow}. */
export type ModexpBackend = 'openssl' | 'bigint';

/** Options of {@link SecretExponentPow}. */
export interface SecretExponentPowOptions {
  /**
   * `auto` (default): OpenSSL through node:crypto where it exists and passes a self-check for
   * this modulus size, else BigInt. `bigint`: always BigInt (tests, comparisons).
   */
  backend?: 'auto' | 'bigint';
  /**
   * Blind every base (default true): the time of `pow` then does not depend on whether the
   * result is 1, at the cost of one more exponentiation at construction. `false` for a
   * short-lived object (one fresh exponent used on two or three bases) whose bases cannot have
   * that result: the blinding is then built only if OpenSSL refuses a base.
   */
  blind?: boolean;
}

/** OpenSSL's DH bounds on the modulus: DH_MIN_MODULUS_BITS and OPENSSL_DH_MAX_MODULUS_BITS. */
const OPENSSL_MIN_BITS = 512;
const OPENSSL_MAX_BITS = 10_000;
/** The DH generator is never used (only computeSecret is called), but must be given. */
const GENERATOR = Uint8Array.of(2);
/** Candidates for the small factor k of the modulus given to OpenSSL (the first not dividing m). */
const SMALL_PRIMES = [3n, 5n, 7n, 11n, 13n, 17n, 19n, 23n, 29n, 31n, 37n, 41n, 43n, 47n];
/** OpenSSL's fastest Montgomery code works on multiples of 8 limbs of 64 bits. */
const BLOCK_BITS = 512;

/**
 * Self-check results per size: key `bits of m : k : exponent bytes`. The platform's DH is
 * trusted for a size only after it has computed one exponentiation with a random public modulus
 * and exponent of that size exactly as BigInt does. No modulus is kept: sizes only.
 */
const checked = new Map<string, boolean>();
const CHECKED_MAX = 64;

/** The keys of the self-check cache (tests: they hold sizes, never a modulus). @internal */
export function selfCheckKeys(): string[] {
  return [...checked.keys()];
}

function byteLength(x: bigint): number {
  return Math.max(1, Math.ceil(bitLength(x) / 8));
}

/** The smallest candidate prime not dividing m, or undefined. */
function smallFactor(m: bigint): bigint | undefined {
  return SMALL_PRIMES.find((k) => m % k !== 0n);
}

/**
 * The modulus M handed to OpenSSL for m and its small factor k, with a whole number of 512-bit
 * blocks of limbs: k m when it already reaches the last limb of its last block, else
 * k (2^s + 1) m (T - 1 or T bits for T = 512 ceil((|m| + |k|) / 512), as
 * 2^(s + |k| - 1) <= (2^s + 1) k < 2^(s + |k|) with s = T - |m| - |k|).
 */
function opensslModulusFor(m: bigint, k: bigint): bigint {
  const b = bitLength(m);
  const kb = bitLength(k);
  const top = BLOCK_BITS * Math.ceil((b + kb) / BLOCK_BITS);
  // k m has at least b + kb - 1 bits: the same limbs as T bits when that is > T - 64.
  if (b + kb >= top - 62 || top > OPENSSL_MAX_BITS) return k * m;
  const s = BigInt(top - b - kb);
  return k * ((m << s) + m);
}

/** The OpenSSL side of a SecretExponentPow: the DH object modulo M and the blinding pair. */
interface OpensslPow {
  dh: NodeDiffieHellman;
  /** The modulus m of the results. */
  m: bigint;
  /** The small prime factor k of M that does not divide m, and m^-1 mod k (for the lift). */
  k: bigint;
  mInvK: bigint;
  /** The modulus M that OpenSSL sees, a multiple of k m. */
  bigM: bigint;
  /** Bytes of M (computeSecret's input length). */
  size: number;
  /** The blinding unit u and w = u^-exponent mod m; `null` when none could be made. */
  blinding: { u: bigint; w: bigint } | null | undefined;
}

/** A DH object computing x^exponent mod M for m, k (throws where the platform refuses). */
function buildOpenssl(m: bigint, k: bigint, exponent: bigint, expBytes: number): OpensslPow {
  const bigM = opensslModulusFor(m, k);
  const size = byteLength(bigM);
  const dh = nodeCrypto!.createDiffieHellman(bigintToBytes(bigM, size), GENERATOR);
  dh.setPrivateKey(bigintToBytes(exponent, expBytes));
  return { dh, m, k, mInvK: modInverse(m % k, k), bigM, size, blinding: undefined };
}

/**
 * x^e mod m by OpenSSL for x in [0, m), or undefined when it refuses (only if x^e = 1 mod m).
 * x goes in as x' = x mod m, x' = 1 mod k: x' in [0, k m), and x' >= 2 unless x = 1.
 */
function compute(s: OpensslPow, x: bigint): bigint | undefined {
  const lifted = x + s.m * mod((1n - (x % s.k)) * s.mInvK, s.k);
  if (lifted < 2n) return undefined;
  try {
    return bytesToBigint(s.dh.computeSecret(bigintToBytes(lifted, s.size))) % s.m;
  } catch {
    return undefined;
  }
}

/**
 * Whether node:crypto's DH computes x^e mod m for moduli of `bits` bits with factor k and
 * exponents of `expBytes` bytes: one random public modulus of that size built like a secret one,
 * one random base and one random exponent with its top bit set, compared with {@link modPow}.
 * Cached per size.
 */
function selfCheck(bits: number, k: bigint, expBytes: number): boolean {
  const key = `${bits}:${k}:${expBytes}`;
  const known = checked.get(key);
  if (known !== undefined) return known;
  let ok = false;
  try {
    let m: bigint;
    do m = randomBits(bits) | (1n << BigInt(bits - 1)) | 1n;
    while (m % k === 0n);
    const e = randomBits(8 * expBytes) | (1n << BigInt(8 * expBytes - 1));
    const s = buildOpenssl(m, k, e, expBytes);
    // Two tries: a random base whose power is 1 (refused) is possible for a modulus with small
    // subgroups, never twice in a row in practice.
    for (let tries = 0; tries < 2 && !ok; tries++) {
      const base = randomBelow(m - 3n) + 2n; // [2, m - 2]
      const got = compute(s, base);
      if (got === undefined) continue; // refused: try another base
      ok = got === modPow(base, e, m);
      if (!ok) break; // a wrong answer: never use this platform's DH for this size
    }
  } catch {
    ok = false; // no DH for this size (limits, platform without it)
  }
  if (checked.size >= CHECKED_MAX) checked.delete(checked.keys().next().value as string);
  checked.set(key, ok);
  return ok;
}

/** A random unit u and u^-e mod m, with u^e by OpenSSL too (constant time). */
function makeBlinding(s: OpensslPow): { u: bigint; w: bigint } | null {
  for (let tries = 0; tries < 4; tries++) {
    const u = randomBelow(s.m - 3n) + 2n; // [2, m - 2]
    const ue = compute(s, u);
    if (ue === undefined) continue; // u^e = 1: another u
    try {
      return { u, w: modInverse(ue, s.m) };
    } catch {
      // u^e not invertible: u is not a unit
    }
  }
  return null;
}

function opensslPow(modulus: bigint, exponent: bigint, blind: boolean): OpensslPow | undefined {
  if (typeof nodeCrypto?.createDiffieHellman !== 'function') return undefined;
  const bits = bitLength(modulus);
  if ((modulus & 1n) === 0n || bits < OPENSSL_MIN_BITS) return undefined;
  if (exponent === 0n) return undefined; // OpenSSL refuses a zero private key; x^0 = 1 anyway
  const k = smallFactor(modulus);
  if (k === undefined || bitLength(opensslModulusFor(modulus, k)) > OPENSSL_MAX_BITS) {
    return undefined;
  }
  const expBytes = byteLength(exponent);
  if (!selfCheck(bits, k, expBytes)) return undefined;
  let s: OpensslPow;
  try {
    s = buildOpenssl(modulus, k, exponent, expBytes);
  } catch {
    return undefined;
  }
  if (blind) {
    s.blinding = makeBlinding(s);
    if (s.blinding === null) return undefined; // a modulus where every try was refused
  }
  return s;
}

/**
 * `base^exponent mod modulus` for one secret exponent and many bases: constant time through
 * OpenSSL on Node (and Deno and Bun where their node:crypto passes the self-check), BigInt
 * {@link modPow} elsewhere. Both give the same value for every base.
 * @example
 * ```ts
 * const pow = new SecretExponentPow(p * p, p - 1n); // built once per key
 * const x = pow.pow(c); // c^(p-1) mod p^2
 * pow.backend; // 'openssl' on Node
 * ```
 */
export class SecretExponentPow {
  /** The modulus m. */
  readonly modulus: bigint;
  /** `openssl` or `bigint`, chosen at construction. */
  readonly backend: ModexpBackend;
  readonly #exponent: bigint;
  readonly #openssl: OpensslPow | undefined;
  #fallbacks = 0;

  /**
   * @param modulus m >= 1 (OpenSSL is used for odd m of at least 512 bits whose multiple M has
   * at most 10,000 bits: m up to about 9,990 bits)
   * @param exponent e >= 0, secret
   * @throws UnseenError `ERR_INVALID_ARGUMENT` for a non-bigint, m < 1 or e < 0
   */
  constructor(modulus: bigint, exponent: bigint, options: SecretExponentPowOptions = {}) {
    if (typeof modulus !== 'bigint' || typeof exponent !== 'bigint' || modulus < 1n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'SecretExponentPow: modulus must be >= 1');
    }
    if (exponent < 0n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'SecretExponentPow: exponent must be >= 0');
    }
    const backend = options.backend ?? 'auto';
    if (backend !== 'auto' && backend !== 'bigint') {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `unknown modexp backend ${String(backend)}`);
    }
    this.modulus = modulus;
    this.#exponent = exponent;
    this.#openssl =
      backend === 'auto' ? opensslPow(modulus, exponent, options.blind !== false) : undefined;
    this.backend = this.#openssl === undefined ? 'bigint' : 'openssl';
  }

  /**
   * Calls of {@link pow} that OpenSSL refused and BigInt computed (diagnostics: 0 on the OpenSSL
   * backend unless a base was chosen with knowledge of the blinding unit).
   */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  /**
   * The modulus M that OpenSSL computes modulo (a multiple k m or k (2^s + 1) m with a small
   * prime k), `undefined` on the BigInt backend. Secret when m is. @internal
   */
  get opensslModulus(): bigint | undefined {
    return this.#openssl?.bigM;
  }

  /** `base^exponent mod modulus` for any integer base (reduced into [0, m) first). */
  pow(base: bigint): bigint {
    const m = this.modulus;
    const b = mod(base, m);
    if (b <= 1n) return this.#exponent === 0n ? 1n % m : b; // 0^e, 1^e: nothing secret to compute
    const s = this.#openssl;
    if (s !== undefined) {
      if (s.blinding === undefined) {
        // Not blinded (yet): the base as it is, and the blinding only if OpenSSL refuses it.
        const x = compute(s, b);
        if (x !== undefined) return x;
        s.blinding = makeBlinding(s);
      }
      const blinding = s.blinding;
      if (blinding !== null) {
        const t = (b * blinding.u) % m;
        const x = compute(s, t);
        if (x !== undefined) return (x * blinding.w) % m;
        // (b u)^e = 1 mod m: only for a base chosen with knowledge of u (a non-unit b has a
        // non-unit power). BigInt below gives the right value.
      }
      this.#fallbacks++;
    }
    return modPow(b, this.#exponent, m);
  }
}
