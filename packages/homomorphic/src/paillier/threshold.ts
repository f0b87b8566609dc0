/**
 * Threshold Paillier with a trusted dealer: the threshold variant of Damgard and Jurik, "A
 * Generalisation, a Simplification and Some Applications of Paillier's Probabilistic Public-Key
 * System" (PKC 2001), section 4.1, with s = 1, which carries Shoup's threshold RSA ("Practical
 * Threshold Signatures", EUROCRYPT 2000) over to Paillier. Names follow the paper.
 *
 * Dealer: safe primes p = 2p' + 1, q = 2q' + 1, n = pq, m = p'q'; d = 0 mod m and d = 1 mod n;
 * f(X) = d + a_1 X + ... + a_{w-1} X^{w-1} over Z_{nm} with uniform a_i; share s_i = f(i).
 * Verification keys v (a random square, generating the squares of Z*_{n^2} with overwhelming
 * probability) and v_i = v^(Delta s_i), Delta = l!.
 *
 * Party i: c_i = c^(2 Delta s_i) mod n^2, with a non-interactive proof (Fiat-Shamir with
 * SHA-256) that log_{c^4}(c_i^2) = log_v(v_i). Exponentiations with secret exponents (the share,
 * the proof's mask, the dealer's v^(Delta s_i)) go through {@link SecretExponentPow}: OpenSSL's
 * constant-time Montgomery exponentiation on Node, BigInt elsewhere.
 *
 * Combination of any w valid shares S (invalid ones are skipped, so any w honest parties suffice): c' = prod c_i^(2 lambda_i) with the integer Lagrange
 * coefficients lambda_i = Delta prod_{j in S, j != i} j / (j - i), so c' = c^(4 Delta^2 d) =
 * (1 + n)^(4 Delta^2 M), and M = L(c') * (4 Delta^2)^-1 mod n.
 *
 * Security (DJ01 theorem 2, semi-honest to static malicious minority with the proofs): under
 * DCRA in the random-oracle model, fewer than w shares reveal nothing about M beyond what
 * decryptions that the honest parties agree to reveal; a wrong partial decryption is caught by
 * its proof. The dealer sees everything and must forget p, q, d and the polynomial after dealing.
 * @module
 */
import {
  aint,
  ByteReader,
  ByteWriter,
  concatBytes,
  ensureWellFormed,
  equalBytes,
  isUnseenError,
  sha256,
  UnseenError,
  utf8ToBytes,
} from '@unseen/core';
import {
  bigintToBytes,
  bitLength,
  bytesToBigint,
  gcd,
  modInverse,
  modPow,
  randomBelow,
  randomBits,
  randomUnit,
} from './bigint.js';
import { SecretExponentPow } from './modexp.js';
import { djnBase, PAILLIER_VERSION, PaillierPublicKey } from './paillier.js';
import { generateSafePrime, isProbablePrime } from './primes.js';

const TAG_THRESHOLD_KEY = 0x54; // 'T'
const TAG_SHARE = 0x4b; // 'K'
const TAG_PARTIAL = 0x44; // 'D'
const DOMAIN = utf8ToBytes('unseen/threshold-paillier/v1/proof');
/** Bits of the Fiat-Shamir challenge. */
const CHALLENGE_BITS = 256;
/** Extra bits of the proof's masking exponent beyond |e * Delta * s_i| (statistical hiding). */
const STATISTICAL_BITS = 128;

function factorial(l: number): bigint {
  let f = 1n;
  for (let i = 2; i <= l; i++) f *= BigInt(i);
  return f;
}

/** L(x) = (x - 1) / n. */
function L(x: bigint, n: bigint): bigint {
  return (x - 1n) / n;
}

/** A party's partial decryption of one ciphertext, with its proof. */
export interface PartialDecryption {
  /** The share index i in [1, l]. */
  index: number;
  /** c_i = c^(2 Delta s_i) mod n^2. */
  value: bigint;
  /** Fiat-Shamir proof (e, z), absent when the share holder skipped it. */
  proof?: { e: bigint; z: bigint };
}

/**
 * The public side of a threshold Paillier key: encryption (through `paillier`), verification of
 * partial decryptions, and their combination.
 */
export class ThresholdPaillierPublicKey {
  /** Encrypt, add, multiply and (de)serialize ciphertexts with this ordinary public key. */
  readonly paillier: PaillierPublicKey;
  /** Number of share holders l. */
  readonly parties: number;
  /** Shares needed to decrypt, w in DJ01. */
  readonly threshold: number;
  /** Verification base v. */
  readonly v: bigint;
  /** Verification keys v_i = v^(Delta s_i), index i - 1. */
  readonly verificationKeys: readonly bigint[];
  /** Delta = l!. */
  readonly delta: bigint;
  #fingerprint: Uint8Array | undefined;

  constructor(
    paillier: PaillierPublicKey,
    parties: number,
    threshold: number,
    v: bigint,
    verificationKeys: readonly bigint[],
  ) {
    this.paillier = paillier;
    this.parties = aint(parties, 'parties', 1, 1024);
    this.threshold = aint(threshold, 'threshold', 1, parties);
    const n2 = paillier.n2;
    const unit = (x: bigint) =>
      typeof x === 'bigint' && x > 1n && x < n2 && gcd(x, paillier.n) === 1n;
    if (!unit(v) || verificationKeys.length !== parties || !verificationKeys.every(unit)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'threshold Paillier: bad verification keys');
    }
    this.v = v;
    this.verificationKeys = Object.freeze([...verificationKeys]);
    this.delta = factorial(parties);
  }

  /** Bytes of s_i in a share: enough for any value below n * m < n^2 / 4. */
  get shareBytes(): number {
    return this.paillier.ciphertextBytes;
  }

  /** Bits of the masking exponent r of a proof. */
  get proofMaskBits(): number {
    return 2 * this.paillier.bits + bitLength(this.delta) + CHALLENGE_BITS + STATISTICAL_BITS;
  }

  /** The Fiat-Shamir challenge e = H(domain, key, i, c^4, c_i^2, v_i, a, b) as 256 bits. */
  challenge(index: number, c4: bigint, ci2: bigint, a: bigint, b: bigint): bigint {
    const size = this.paillier.ciphertextBytes;
    const idx = new Uint8Array([index >> 8, index & 0xff]);
    const h = sha256(
      concatBytes(
        DOMAIN,
        this.fingerprint(),
        idx,
        bigintToBytes(c4, size),
        bigintToBytes(ci2, size),
        bigintToBytes(this.verificationKeys[index - 1]!, size),
        bigintToBytes(a, size),
        bigintToBytes(b, size),
      ),
    );
    return bytesToBigint(h);
  }

  /** Checks the index and the value of a partial decryption (not its proof). */
  #checkShape(partial: PartialDecryption): void {
    const n2 = this.paillier.n2;
    const { index, value } = partial ?? ({} as PartialDecryption);
    if (!Number.isInteger(index) || index < 1 || index > this.parties) {
      throw new UnseenError('ERR_INVALID_SHARE', `partial decryption index ${index} out of range`);
    }
    if (
      typeof value !== 'bigint' ||
      value <= 0n ||
      value >= n2 ||
      gcd(value, this.paillier.n) !== 1n
    ) {
      throw new UnseenError('ERR_INVALID_SHARE', `partial decryption ${index} is not in Z*_{n^2}`);
    }
  }

  /**
   * Checks a partial decryption's proof: (c^4)^z = a (c_i^2)^e and v^z = b v_i^e, with a, b
   * recomputed and e the hash of them.
   * @throws UnseenError `ERR_INVALID_SHARE` on a bad index, value or proof
   */
  verifyPartial(c: bigint, partial: PartialDecryption): void {
    this.#checkShape(partial);
    const n2 = this.paillier.n2;
    const { index, value, proof } = partial;
    if (proof === undefined) {
      throw new UnseenError('ERR_INVALID_SHARE', `partial decryption ${index} carries no proof`);
    }
    const { e, z } = proof;
    if (
      typeof e !== 'bigint' ||
      typeof z !== 'bigint' ||
      e < 0n ||
      bitLength(e) > CHALLENGE_BITS ||
      z < 0n ||
      bitLength(z) > this.proofMaskBits + 1
    ) {
      throw new UnseenError('ERR_INVALID_SHARE', `partial decryption ${index}: proof out of range`);
    }
    const c4 = modPow(c, 4n, n2);
    const ci2 = (value * value) % n2;
    const vi = this.verificationKeys[index - 1]!;
    // a = (c^4)^z * (c_i^2)^-e, b = v^z * v_i^-e. z is public, but as long as the modulus (a
    // proof mask plus e times a share): OpenSSL's exponentiation makes verification about 5x
    // faster; the 256-bit e stays in BigInt.
    const zPow = new SecretExponentPow(n2, z, { blind: false });
    const a = (zPow.pow(c4) * modPow(modInverse(ci2, n2), e, n2)) % n2;
    const b = (zPow.pow(this.v) * modPow(modInverse(vi, n2), e, n2)) % n2;
    if (this.challenge(index, c4, ci2, a, b) !== e) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `partial decryption ${index}: proof does not verify`,
      );
    }
  }

  /**
   * Combines partial decryptions of `c` into the plaintext in [0, n): it takes, in the order
   * given, the first `threshold` partials with distinct indices whose proofs verify, and skips
   * the others (a wrong, unproven or repeated partial costs nothing while enough valid ones
   * remain). With `verify: false` proofs are not checked and the first `threshold` distinct
   * well-formed partials are used, right or wrong.
   * @param options.verify check proofs (default true)
   * @throws UnseenError `ERR_INSUFFICIENT_SHARES` when fewer than `threshold` valid partials
   * remain (`details.rejected` lists the indices skipped as invalid)
   */
  combine(
    c: bigint,
    partials: readonly PartialDecryption[],
    options: { verify?: boolean } = {},
  ): bigint {
    this.paillier.assertCiphertext(c);
    if (!Array.isArray(partials)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'partials: expected an array');
    }
    const verify = options.verify !== false;
    const used: PartialDecryption[] = [];
    const indices = new Set<number>();
    const rejected: number[] = [];
    for (const p of partials) {
      if (used.length === this.threshold) break;
      if (indices.has(p?.index)) continue; // one partial per share: the first valid one
      try {
        if (verify) this.verifyPartial(c, p);
        else this.#checkShape(p);
      } catch (e) {
        if (!isUnseenError(e, 'ERR_INVALID_SHARE')) throw e;
        rejected.push(p?.index);
        continue;
      }
      indices.add(p.index);
      used.push(p);
    }
    if (used.length < this.threshold) {
      throw new UnseenError(
        'ERR_INSUFFICIENT_SHARES',
        `${used.length} valid partial decryptions with distinct indices; ${this.threshold} are needed`,
        { details: { valid: used.length, need: this.threshold, rejected } },
      );
    }
    return combinePartials(this, used);
  }

  /**
   * `version | 'T' | parties u16 | threshold u16 | paillier key (u32-prefixed) | v | v_1..v_l`.
   */
  toBytes(): Uint8Array {
    const size = this.paillier.ciphertextBytes;
    const w = new ByteWriter()
      .u8(PAILLIER_VERSION)
      .u8(TAG_THRESHOLD_KEY)
      .u16(this.parties)
      .u16(this.threshold)
      .varBytes(this.paillier.toBytes())
      .bytes(bigintToBytes(this.v, size));
    for (const vk of this.verificationKeys) w.bytes(bigintToBytes(vk, size));
    return w.finish();
  }

  /**
   * Decodes and validates a threshold public key.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNSUPPORTED_VERSION`
   */
  static fromBytes(bytes: Uint8Array): ThresholdPaillierPublicKey {
    const r = new ByteReader(bytes, 'threshold Paillier key');
    const version = r.u8('version');
    if (version !== PAILLIER_VERSION) {
      throw new UnseenError('ERR_UNSUPPORTED_VERSION', `threshold key version ${version}`);
    }
    ensureWellFormed(r.u8('tag') === TAG_THRESHOLD_KEY, 'threshold Paillier key: wrong tag');
    const parties = r.u16('parties');
    const threshold = r.u16('threshold');
    ensureWellFormed(
      parties >= 1 && parties <= 1024 && threshold >= 1 && threshold <= parties,
      'threshold Paillier key: bad parties/threshold',
    );
    const paillier = PaillierPublicKey.fromBytes(r.varBytes('paillier key', 4096));
    const size = paillier.ciphertextBytes;
    const v = bytesToBigint(r.bytes(size, 'v'));
    const vks: bigint[] = [];
    for (let i = 0; i < parties; i++) vks.push(bytesToBigint(r.bytes(size, `v_${i + 1}`)));
    r.end();
    try {
      return new ThresholdPaillierPublicKey(paillier, parties, threshold, v, vks);
    } catch (cause) {
      throw new UnseenError('ERR_MALFORMED_MESSAGE', 'threshold Paillier key: invalid values', {
        cause,
      });
    }
  }

  /** SHA-256 of {@link toBytes}. */
  fingerprint(): Uint8Array {
    this.#fingerprint ??= sha256(this.toBytes());
    return this.#fingerprint.slice();
  }

  /** `version | 'D' | index u16 | c_i | hasProof u8 | e (32 bytes) | z (u32-prefixed)`. */
  encodePartial(partial: PartialDecryption): Uint8Array {
    const size = this.paillier.ciphertextBytes;
    const w = new ByteWriter()
      .u8(PAILLIER_VERSION)
      .u8(TAG_PARTIAL)
      .u16(partial.index)
      .bytes(bigintToBytes(partial.value, size));
    if (partial.proof === undefined) w.u8(0);
    else {
      const zBytes = Math.ceil((this.proofMaskBits + 1) / 8);
      w.u8(1)
        .bytes(bigintToBytes(partial.proof.e, CHALLENGE_BITS / 8))
        .bytes(bigintToBytes(partial.proof.z, zBytes));
    }
    return w.finish();
  }

  /**
   * Decodes a partial decryption (structure and ranges; {@link verifyPartial} checks the proof).
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`
   */
  decodePartial(bytes: Uint8Array): PartialDecryption {
    const size = this.paillier.ciphertextBytes;
    const r = new ByteReader(bytes, 'partial decryption');
    const version = r.u8('version');
    if (version !== PAILLIER_VERSION) {
      throw new UnseenError('ERR_UNSUPPORTED_VERSION', `partial decryption version ${version}`);
    }
    ensureWellFormed(r.u8('tag') === TAG_PARTIAL, 'partial decryption: wrong tag');
    const index = r.u16('index');
    ensureWellFormed(index >= 1 && index <= this.parties, 'partial decryption: index out of range');
    const value = bytesToBigint(r.bytes(size, 'value'));
    ensureWellFormed(
      value > 0n && value < this.paillier.n2,
      'partial decryption: value out of range',
    );
    const flag = r.u8('proof flag');
    ensureWellFormed(flag === 0 || flag === 1, 'partial decryption: bad proof flag');
    if (flag === 0) {
      r.end();
      return { index, value };
    }
    const e = bytesToBigint(r.bytes(CHALLENGE_BITS / 8, 'e'));
    const z = bytesToBigint(r.bytes(Math.ceil((this.proofMaskBits + 1) / 8), 'z'));
    r.end();
    return { index, value, proof: { e, z } };
  }
}

/** Lagrange combination without any check (exported for tests that show t-1 shares fail). */
export function combinePartials(
  key: ThresholdPaillierPublicKey,
  partials: readonly PartialDecryption[],
): bigint {
  const { n, n2 } = key.paillier;
  const delta = key.delta;
  let acc = 1n;
  for (const pi of partials) {
    // lambda_i = Delta * prod_{j != i} j / (j - i): an integer because Delta = l!.
    let num = delta;
    let den = 1n;
    for (const pj of partials) {
      if (pj.index === pi.index) continue;
      num *= BigInt(pj.index);
      den *= BigInt(pj.index - pi.index);
    }
    const lambda = num / den;
    acc = (acc * modPow(pi.value, 2n * lambda, n2)) % n2;
  }
  const fourDeltaSq = (4n * delta * delta) % n;
  return (L(acc, n) * modInverse(fourDeltaSq, n)) % n;
}

/**
 * One party's key share s_i. Keep it secret; any `threshold` of them decrypt.
 */
export class ThresholdKeyShare {
  readonly publicKey: ThresholdPaillierPublicKey;
  readonly index: number;
  readonly #s: bigint;
  /** x^(2 Delta s_i) mod n^2, built on first use. */
  #pow: SecretExponentPow | undefined;

  constructor(publicKey: ThresholdPaillierPublicKey, index: number, s: bigint) {
    this.publicKey = publicKey;
    this.index = aint(index, 'share index', 1, publicKey.parties);
    if (typeof s !== 'bigint' || s < 0n || bitLength(s) > 8 * publicKey.shareBytes) {
      throw new UnseenError('ERR_INVALID_SHARE', 'threshold key share out of range');
    }
    this.#s = s;
  }

  /**
   * c_i = c^(2 Delta s_i) mod n^2 and, unless `proof: false`, the proof that it used s_i.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` if c is not a ciphertext of the key
   */
  partialDecrypt(c: bigint, options: { proof?: boolean } = {}): PartialDecryption {
    const key = this.publicKey;
    const n2 = key.paillier.n2;
    key.paillier.assertCiphertext(c);
    const exp = key.delta * this.#s; // Delta s_i
    this.#pow ??= new SecretExponentPow(n2, 2n * exp);
    const value = this.#pow.pow(c);
    if (options.proof === false) return { index: this.index, value };
    const c4 = modPow(c, 4n, n2);
    const ci2 = (value * value) % n2;
    // The mask r is as secret as s_i (z = r + e Delta s_i): constant time too. Not blinded: a
    // fresh r on two bases, c^4 and v, whose r-th powers are 1 or -1 only for c of small order,
    // which no one finds without factoring n (c = +-1 gives c^4 = 1: the blinded path). The top
    // bit is set: OpenSSL's time follows the exponent's bit length, and r in [2^(B-1), 2^B)
    // still hides e Delta s_i < 2^(B-128) statistically.
    const r = randomBits(key.proofMaskBits) | (1n << BigInt(key.proofMaskBits - 1));
    const mask = new SecretExponentPow(n2, r, { blind: false });
    const a = mask.pow(c4);
    const b = mask.pow(key.v);
    const e = key.challenge(this.index, c4, ci2, a, b);
    return { index: this.index, value, proof: { e, z: r + e * exp } };
  }

  /** `version | 'K' | index u16 | key fingerprint (32) | s_i`. Secret. */
  toBytes(): Uint8Array {
    return new ByteWriter()
      .u8(PAILLIER_VERSION)
      .u8(TAG_SHARE)
      .u16(this.index)
      .bytes(this.publicKey.fingerprint())
      .bytes(bigintToBytes(this.#s, this.publicKey.shareBytes))
      .finish();
  }

  /**
   * Decodes a share for `publicKey`, checking it against its verification key v_i.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_PARAMETER_MISMATCH` (another key),
   * `ERR_INVALID_SHARE` (v^(Delta s_i) != v_i)
   */
  static fromBytes(bytes: Uint8Array, publicKey: ThresholdPaillierPublicKey): ThresholdKeyShare {
    const r = new ByteReader(bytes, 'threshold key share');
    const version = r.u8('version');
    if (version !== PAILLIER_VERSION) {
      throw new UnseenError('ERR_UNSUPPORTED_VERSION', `key share version ${version}`);
    }
    ensureWellFormed(r.u8('tag') === TAG_SHARE, 'threshold key share: wrong tag');
    const index = r.u16('index');
    const fp = r.bytes(32, 'key fingerprint');
    const s = bytesToBigint(r.bytes(publicKey.shareBytes, 's_i'));
    r.end();
    if (!equalBytes(fp, publicKey.fingerprint())) {
      throw new UnseenError('ERR_PARAMETER_MISMATCH', 'key share belongs to another threshold key');
    }
    ensureWellFormed(index >= 1 && index <= publicKey.parties, 'key share index out of range');
    const vi = new SecretExponentPow(publicKey.paillier.n2, publicKey.delta * s).pow(publicKey.v);
    if (vi !== publicKey.verificationKeys[index - 1]) {
      throw new UnseenError('ERR_INVALID_SHARE', `key share ${index} does not match v_${index}`);
    }
    return new ThresholdKeyShare(publicKey, index, s);
  }
}

/** Options of {@link dealThresholdPaillier}. */
export interface ThresholdDealOptions {
  /** Modulus bits: 2048 or 3072 (default) up to 8192. */
  bits?: number;
  /** Number of share holders l (1 to 1024). */
  parties: number;
  /** Shares needed to decrypt (1 to parties). */
  threshold: number;
  /** Safe primes to use instead of generating them (tests, ceremonies); checked. */
  primes?: { p: bigint; q: bigint };
}

/**
 * The trusted dealer: generates safe primes, splits the decryption exponent d into `parties`
 * shares of which any `threshold` decrypt, and forgets everything when it returns.
 * Safe-prime generation takes seconds at 2048 bits and tens of seconds at 3072.
 * @example
 * ```ts
 * const { publicKey, shares } = await dealThresholdPaillier({ bits: 2048, parties: 5, threshold: 3 });
 * const c = publicKey.paillier.encrypt(42n);
 * const partials = shares.slice(0, 3).map((s) => s.partialDecrypt(c));
 * publicKey.combine(c, partials); // 42n
 * ```
 */
export async function dealThresholdPaillier(
  options: ThresholdDealOptions,
): Promise<{ publicKey: ThresholdPaillierPublicKey; shares: ThresholdKeyShare[] }> {
  const bits = aint(options.bits ?? 3072, 'bits', 2048, 8192);
  if (bits % 16 !== 0)
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'bits must be a multiple of 16');
  const l = aint(options.parties, 'parties', 1, 1024);
  const w = aint(options.threshold, 'threshold', 1, l);
  let p: bigint;
  let q: bigint;
  if (options.primes !== undefined) {
    ({ p, q } = options.primes);
    for (const x of [p, q]) {
      if (!isProbablePrime(x) || !isProbablePrime((x - 1n) / 2n)) {
        throw new UnseenError('ERR_INVALID_ARGUMENT', 'threshold Paillier needs safe primes');
      }
    }
    if (p === q || bitLength(p * q) !== bits) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `safe primes must give a ${bits}-bit n`);
    }
  } else {
    do {
      p = generateSafePrime(bits / 2).p;
      await new Promise((resolve) => setTimeout(resolve, 0));
      q = generateSafePrime(bits / 2).p;
    } while (p === q || bitLength(p * q) !== bits);
  }
  const n = p * q;
  const n2 = n * n;
  const m = ((p - 1n) / 2n) * ((q - 1n) / 2n); // p'q'
  const nm = n * m;
  // d = 0 mod m, d = 1 mod n.
  const d = m * modInverse(m, n);
  const coefficients = [d];
  for (let i = 1; i < w; i++) coefficients.push(randomBelow(nm));
  const delta = factorial(l);
  const r = randomUnit(n2);
  const v = (r * r) % n2;
  const sharesS: bigint[] = [];
  const vks: bigint[] = [];
  for (let i = 1; i <= l; i++) {
    // Horner: f(i) mod nm.
    let s = 0n;
    const x = BigInt(i);
    for (let k = coefficients.length - 1; k >= 0; k--) s = (s * x + coefficients[k]!) % nm;
    sharesS.push(s);
    vks.push(new SecretExponentPow(n2, delta * s).pow(v));
  }
  const paillier = new PaillierPublicKey(n, djnBase(p, q));
  const publicKey = new ThresholdPaillierPublicKey(paillier, l, w, v, vks);
  const shares = sharesS.map((s, i) => new ThresholdKeyShare(publicKey, i + 1, s));
  return { publicKey, shares };
}
