/**
 * Modular exponentiation with a secret exponent (Paillier's p - 1, q - 1 and n mod p(p - 1),
 * threshold shares 2 Delta s_i and proof masks): `base^exponent mod modulus` for a fixed
 * exponent and modulus and any base.
 *
 * Why not BigInt: {@link modPow} takes time that depends on the exponent's bits (sliding windows
 * skip zeros, and BigInt multiplication time depends on its operands), a timing side channel on
 * the secret; and it is slow (a BigInt multiplication allocates). Where the platform has
 * node:crypto, the exponentiation goes through its finite-field Diffie-Hellman instead: with the
 * exponent as the private key and the modulus as the "prime", `computeSecret(base)` is
 * base^exponent mod modulus computed by OpenSSL's `BN_mod_exp_mont_consttime` (OpenSSL sets
 * `BN_FLG_CONSTTIME` on DH private keys: fixed-window Montgomery exponentiation with
 * cache-line-scattered tables, the same for every exponent of a given length). It is about
 * 5-8x faster than BigInt at these sizes. The modulus need not be prime (OpenSSL only reports
 * that in `verifyError`); Montgomery arithmetic needs it odd.
 *
 * OpenSSL refuses some inputs: a base outside [2, m - 2] and a result of 0, 1 or m - 1 (the
 * checks of SP 800-56A on DH public keys and shared secrets). A result of 1 is common here:
 * c^(p-1) = 1 mod p^2 for every encryption of 0, and falling back to BigInt for it would both
 * leak that the plaintext is 0 and run the secret exponent through BigInt. So the base is blinded
 * with a random unit u fixed per object: base^e = (base * u)^e * u^-e, with u^-e computed once
 * (also by OpenSSL). A refusal then happens only for a base chosen with knowledge of the secret
 * u, or for a base that is not a unit (which no valid ciphertext is); then, and on platforms
 * without node:crypto (browsers), the result comes from BigInt {@link modPow}, which gives the
 * same value for every base.
 *
 * What stays in BigInt around it (the blinding multiplications, Paillier's L function and CRT)
 * runs in time that depends only on operand lengths, not on the exponent's bits.
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
   * this modulus, else BigInt. `bigint`: always BigInt (tests, comparisons).
   */
  backend?: 'auto' | 'bigint';
  /**
   * Blind every base (default true): the time of `pow` then does not depend on whether the
   * result is 0, 1 or m - 1, at the cost of one more exponentiation at construction. `false`
   * for a short-lived object (one fresh exponent used on two or three bases) whose bases cannot
   * have such results: the blinding is then built only if OpenSSL refuses a base.
   */
  blind?: boolean;
}

/** OpenSSL's DH bounds on the modulus: DH_MIN_MODULUS_BITS and OPENSSL_DH_MAX_MODULUS_BITS. */
const OPENSSL_MIN_BITS = 512;
const OPENSSL_MAX_BITS = 10_000;
/** The DH generator is never used (only computeSecret is called), but must be given. */
const GENERATOR = Uint8Array.of(2);

/**
 * Self-check results per modulus and exponent length in bytes: the platform's DH is trusted for
 * a (modulus, length) only after it has computed one exponentiation with a random public
 * exponent of that length exactly as BigInt does. A few entries (a key holder uses two or three
 * moduli).
 */
const checked = new Map<bigint, Map<number, boolean>>();
const CHECKED_MAX = 64;

function byteLength(x: bigint): number {
  return Math.max(1, Math.ceil(bitLength(x) / 8));
}

function createDh(modulus: bigint, exponent: bigint, expBytes: number): NodeDiffieHellman {
  const dh = nodeCrypto!.createDiffieHellman(
    bigintToBytes(modulus, byteLength(modulus)),
    GENERATOR,
  );
  dh.setPrivateKey(bigintToBytes(exponent, expBytes));
  return dh;
}

/**
 * Whether node:crypto's DH computes x^e mod `modulus` for exponents of `expBytes` bytes: one
 * random base and one random exponent with its top bit set (public values: the secret exponent
 * never goes through BigInt), compared with {@link modPow}. Cached.
 */
function selfCheck(modulus: bigint, expBytes: number): boolean {
  let byLength = checked.get(modulus);
  const known = byLength?.get(expBytes);
  if (known !== undefined) return known;
  let ok = false;
  try {
    const e = randomBits(8 * expBytes) | (1n << BigInt(8 * expBytes - 1));
    const dh = createDh(modulus, e, expBytes);
    // Two tries: a random base whose power is refused (0, 1 or m - 1) is possible for a
    // modulus with small subgroups, never twice in a row in practice.
    for (let tries = 0; tries < 2 && !ok; tries++) {
      const base = randomBelow(modulus - 3n) + 2n; // [2, m - 2]
      try {
        const got = bytesToBigint(dh.computeSecret(bigintToBytes(base, byteLength(modulus))));
        ok = got === modPow(base, e, modulus);
        if (!ok) break; // a wrong answer: never use this platform's DH for this modulus
      } catch {
        // refused: try another base
      }
    }
  } catch {
    ok = false; // no DH for this modulus (size limits, platform without it)
  }
  if (byLength === undefined) {
    if (checked.size >= CHECKED_MAX) checked.delete(checked.keys().next().value as bigint);
    byLength = new Map();
    checked.set(modulus, byLength);
  }
  byLength.set(expBytes, ok);
  return ok;
}

/** The OpenSSL side of a SecretExponentPow: the DH object and the blinding pair. */
interface OpensslPow {
  dh: NodeDiffieHellman;
  /** Bytes of the modulus (computeSecret's input length). */
  size: number;
  /** The blinding unit u and w = u^-exponent mod modulus; `null` when none could be made. */
  blinding: { u: bigint; w: bigint } | null | undefined;
}

/** base^e by OpenSSL, or undefined when it refuses. */
function compute(s: OpensslPow, base: bigint): bigint | undefined {
  try {
    return bytesToBigint(s.dh.computeSecret(bigintToBytes(base, s.size)));
  } catch {
    return undefined;
  }
}

/** A random unit u and u^-e, with u^e by OpenSSL too (constant time). */
function makeBlinding(s: OpensslPow, modulus: bigint): { u: bigint; w: bigint } | null {
  for (let tries = 0; tries < 4; tries++) {
    const u = randomBelow(modulus - 3n) + 2n; // [2, m - 2]
    const ue = compute(s, u);
    if (ue === undefined) continue; // refused: another u
    try {
      return { u, w: modInverse(ue, modulus) };
    } catch {
      // u^e not invertible: u is not a unit
    }
  }
  return null;
}

function opensslPow(modulus: bigint, exponent: bigint, blind: boolean): OpensslPow | undefined {
  if (typeof nodeCrypto?.createDiffieHellman !== 'function') return undefined;
  const bits = bitLength(modulus);
  if ((modulus & 1n) === 0n || bits < OPENSSL_MIN_BITS || bits > OPENSSL_MAX_BITS) return undefined;
  if (exponent === 0n) return undefined; // OpenSSL refuses a zero private key; x^0 = 1 anyway
  const expBytes = byteLength(exponent);
  if (!selfCheck(modulus, expBytes)) return undefined;
  let s: OpensslPow;
  try {
    s = {
      dh: createDh(modulus, exponent, expBytes),
      size: byteLength(modulus),
      blinding: undefined,
    };
  } catch {
    return undefined;
  }
  if (blind) {
    s.blinding = makeBlinding(s, modulus);
    if (s.blinding === null) return undefined; // an odd modulus where every try was refused
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
   * @param modulus m >= 1 (OpenSSL is used for odd m of 512 to 10,000 bits)
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
   * backend unless a base was not a unit).
   */
  get fallbacks(): number {
    return this.#fallbacks;
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
        const x = b < m - 1n ? compute(s, b) : undefined;
        if (x !== undefined) return x;
        s.blinding = makeBlinding(s, m);
      }
      const blinding = s.blinding;
      if (blinding !== null) {
        const t = (b * blinding.u) % m;
        const x = t > 1n && t < m - 1n ? compute(s, t) : undefined;
        if (x !== undefined) return (x * blinding.w) % m;
        // A result of 0, 1 or m - 1 for the blinded base: only for a base that is not a unit
        // or one chosen with knowledge of u. BigInt below gives the right value.
      }
      this.#fallbacks++;
    }
    return modPow(b, this.#exponent, m);
  }
}
