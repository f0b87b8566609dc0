/**
 * The Paillier cryptosystem (P. Paillier, "Public-Key Cryptosystems Based on Composite Degree
 * Residuosity Classes", EUROCRYPT 1999) on BigInt, with g = n + 1:
 *
 * - encryption `c = (1 + m*n) * r^n mod n^2` ((1 + n)^m = 1 + m*n mod n^2, so g^m costs one
 *   multiplication);
 * - the randomizer `r^n mod n^2` is either fresh (`r` uniform in Z*_n, the textbook scheme) or,
 *   by default, `hs^a` with `hs = (-x^2)^n mod n^2` published in the key and `a` a uniform
 *   ceil(k/2)-bit exponent (Damgard, Jurik and Nielsen, "A generalization of Paillier's
 *   public-key system with applications to electronic voting", IJIS 2010, section 4.2; also the
 *   default of SecretFlow HEU and Intel IPCL). A fixed base allows a precomputed table: one
 *   multiplication per 5 exponent bits and no squaring;
 * - randomizers can be computed ahead of time ({@link PaillierPublicKey.randomizer}), so an
 *   encryption on the hot path is one multiplication;
 * - decryption by CRT (Paillier 1999, section 7): exponents p - 1 and q - 1 modulo p^2 and q^2
 *   instead of lambda modulo n^2, each through {@link SecretExponentPow} (OpenSSL's constant-time
 *   Montgomery exponentiation on Node, BigInt elsewhere).
 *
 * Security: IND-CPA under the decisional composite residuosity assumption (DCRA); the `djn`
 * randomizer additionally assumes that `hs^a` for a short `a` is indistinguishable from a random
 * n-th residue (the assumption DJN10 states for this variant). 2048-bit n is taken as 112-bit
 * security and 3072-bit n as 128-bit (NIST SP 800-57 part 1, table 2, for factoring moduli).
 * Ciphertexts are malleable by design (that is the homomorphism): authenticate them where an
 * active adversary could substitute one.
 * @module
 */
import { aint, ByteReader, ByteWriter, ensureWellFormed, sha256, UnseenError } from '@unseen/core';
import {
  bigintToBytes,
  bitLength,
  bytesToBigint,
  crt2,
  FixedBaseTable,
  gcd,
  mod,
  modInverse,
  modPow,
  randomBits,
  randomUnit,
} from './bigint.js';
import { type ModexpBackend, SecretExponentPow } from './modexp.js';
import { generatePrime, isProbablePrime } from './primes.js';

/** Wire version of Paillier keys and ciphertext blocks. */
export const PAILLIER_VERSION = 1;
const TAG_PUBLIC = 0x50; // 'P'
const TAG_PRIVATE = 0x53; // 'S'

/** Modulus sizes accepted: 2048 (112-bit security) to 8192 bits, in whole bytes. */
export const PAILLIER_MIN_BITS = 2048;
export const PAILLIER_MAX_BITS = 8192;

/** How the randomizer r^n of an encryption is drawn. */
export type PaillierRandomness = 'djn' | 'full';

function checkModulusBits(bits: number, what: string): number {
  if (
    !Number.isSafeInteger(bits) ||
    bits < PAILLIER_MIN_BITS ||
    bits > PAILLIER_MAX_BITS ||
    bits % 8 !== 0
  ) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${what}: modulus of ${bits} bits; expected a multiple of 8 in [${PAILLIER_MIN_BITS}, ${PAILLIER_MAX_BITS}]`,
    );
  }
  return bits;
}

/** Encryptions after which the fixed-base table of `hs` pays for itself. */
const TABLE_AFTER = 8;

/**
 * A Paillier public key: encryption, homomorphic operations and ciphertext codecs.
 * Ciphertexts are bigints in Z*_{n^2}; their wire form is `2 * bits / 8` big-endian bytes.
 * @example
 * ```ts
 * const { publicKey, privateKey } = await generatePaillierKeys({ bits: 2048 });
 * const c = publicKey.add(publicKey.encrypt(20n), publicKey.encrypt(22n));
 * privateKey.decrypt(c); // 42n
 * ```
 */
export class PaillierPublicKey {
  /** The modulus n = p * q. */
  readonly n: bigint;
  /** n^2, the ciphertext modulus. */
  readonly n2: bigint;
  /** Bits of n. */
  readonly bits: number;
  /** The DJN randomizer base hs = (-x^2)^n mod n^2, or undefined for textbook randomness. */
  readonly hs: bigint | undefined;
  #table: FixedBaseTable | undefined;
  #encryptions = 0;
  #fingerprint: Uint8Array | undefined;

  /**
   * @param n an odd modulus of 2048 to 8192 bits (a whole number of bytes)
   * @param hs optional DJN base, a unit of Z_{n^2}
   * @throws UnseenError `ERR_INVALID_ARGUMENT`
   */
  constructor(n: bigint, hs?: bigint) {
    if (typeof n !== 'bigint' || n <= 0n || (n & 1n) === 0n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier modulus must be an odd bigint');
    }
    this.bits = checkModulusBits(bitLength(n), 'Paillier public key');
    this.n = n;
    this.n2 = n * n;
    if (hs !== undefined) {
      if (typeof hs !== 'bigint' || hs <= 1n || hs >= this.n2 || gcd(hs, n) !== 1n) {
        throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier hs must be a unit of Z_{n^2}');
      }
    }
    this.hs = hs;
  }

  /** Bytes of n. */
  get modulusBytes(): number {
    return this.bits / 8;
  }

  /** Bytes of one serialized ciphertext: 2 * bits / 8. */
  get ciphertextBytes(): number {
    return this.bits / 4;
  }

  /** Bits of the DJN exponent: ceil(k / 2). */
  get djnExponentBits(): number {
    return Math.ceil(this.bits / 2);
  }

  /**
   * A fresh randomizer `r^n mod n^2`: compute ahead of time (in idle time or in workers), then
   * encrypt with {@link encryptWith} at one multiplication per encryption. Never reuse one.
   * @param randomness `djn` (default when the key has `hs`) or `full`
   */
  randomizer(randomness: PaillierRandomness = this.hs === undefined ? 'full' : 'djn'): bigint {
    if (randomness === 'djn') {
      const hs = this.hs;
      if (hs === undefined) {
        throw new UnseenError('ERR_UNSUPPORTED', 'this Paillier public key carries no DJN base hs');
      }
      const a = randomBits(this.djnExponentBits);
      if (this.#table === undefined && ++this.#encryptions >= TABLE_AFTER) this.precompute();
      return this.#table !== undefined ? this.#table.pow(a) : modPow(hs, a, this.n2);
    }
    if (randomness !== 'full') {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `unknown randomness ${String(randomness)}`);
    }
    return modPow(randomUnit(this.n), this.n, this.n2);
  }

  /**
   * Builds the fixed-base table of hs now (about 0.1 s and 3 MiB at 2048 bits) instead of after
   * the first few encryptions.
   */
  precompute(): this {
    if (this.hs !== undefined && this.#table === undefined) {
      this.#table = new FixedBaseTable(this.hs, this.n2, this.djnExponentBits, 5);
    }
    return this;
  }

  /** Checks a plaintext: an integer in [0, n). Use {@link encodeSigned} for negatives. */
  #plaintext(m: bigint): bigint {
    if (typeof m !== 'bigint' || m < 0n || m >= this.n) {
      throw new UnseenError('ERR_OVERFLOW', `Paillier plaintext must be a bigint in [0, n)`);
    }
    return m;
  }

  /**
   * Encrypts `m` in [0, n) with fresh randomness.
   * @throws UnseenError `ERR_OVERFLOW` when m is outside [0, n)
   */
  encrypt(m: bigint, randomness?: PaillierRandomness): bigint {
    return this.encryptWith(m, this.randomizer(randomness));
  }

  /**
   * Encrypts `m` with a randomizer from {@link randomizer}: `(1 + m*n) * rn mod n^2`.
   * The randomizer must be fresh: two ciphertexts under one randomizer reveal m1 - m2.
   */
  encryptWith(m: bigint, rn: bigint): bigint {
    this.#plaintext(m);
    return ((1n + m * this.n) * rn) % this.n2;
  }

  /** Encrypts a signed integer in (-n/2, n/2) (negatives as n - |m|). */
  encryptSigned(m: bigint, randomness?: PaillierRandomness): bigint {
    return this.encrypt(this.encodeSigned(m), randomness);
  }

  /** Maps a signed integer in (-n/2, n/2) to Z_n. */
  encodeSigned(m: bigint): bigint {
    const half = this.n >> 1n;
    if (typeof m !== 'bigint' || m > half || m < -half) {
      throw new UnseenError('ERR_OVERFLOW', 'signed Paillier plaintext must lie in (-n/2, n/2)');
    }
    return m < 0n ? m + this.n : m;
  }

  /** Maps Z_n back to (-n/2, n/2]. */
  decodeSigned(m: bigint): bigint {
    return m > this.n >> 1n ? m - this.n : m;
  }

  /** E(a + b): the product of the ciphertexts modulo n^2. */
  add(a: bigint, b: bigint): bigint {
    return (a * b) % this.n2;
  }

  /** E(m1 + ... + mk) from E(m1), ..., E(mk). */
  sum(ciphertexts: Iterable<bigint>): bigint {
    let acc = 1n; // E(0) with randomizer 1: only a neutral element, never sent alone
    for (const c of ciphertexts) acc = (acc * c) % this.n2;
    return acc;
  }

  /** E(m + k) for a public k in [0, n): `c * (1 + k*n)`. */
  addPlain(c: bigint, k: bigint): bigint {
    return (c * (1n + this.#plaintext(k) * this.n)) % this.n2;
  }

  /** E(k * m) for a public integer k (negative k multiplies by n - |k|). */
  multiply(c: bigint, k: bigint): bigint {
    if (typeof k !== 'bigint') {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier scalar must be a bigint');
    }
    return modPow(c, mod(k, this.n), this.n2);
  }

  /** E(-m). */
  negate(c: bigint): bigint {
    return modInverse(c, this.n2);
  }

  /** E(a - b). */
  subtract(a: bigint, b: bigint): bigint {
    return (a * modInverse(b, this.n2)) % this.n2;
  }

  /**
   * The same plaintext under fresh randomness: `c * r^n`. Unlinkable to `c` for anyone without
   * the private key.
   */
  rerandomize(c: bigint, randomness?: PaillierRandomness): bigint {
    return (c * this.randomizer(randomness)) % this.n2;
  }

  /**
   * Checks that `c` is a ciphertext of this key: an integer in Z*_{n^2} (0 < c < n^2 and
   * gcd(c, n) = 1).
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`
   */
  assertCiphertext(c: bigint): bigint {
    ensureWellFormed(
      typeof c === 'bigint' && c > 0n && c < this.n2,
      'Paillier ciphertext must lie in (0, n^2)',
    );
    ensureWellFormed(gcd(c, this.n) === 1n, 'Paillier ciphertext is not a unit of Z_{n^2}');
    return c;
  }

  /** A ciphertext as `ciphertextBytes` big-endian bytes. */
  encodeCiphertext(c: bigint): Uint8Array {
    return bigintToBytes(this.assertCiphertext(c), this.ciphertextBytes);
  }

  /**
   * Decodes and validates one ciphertext (exact length, in Z*_{n^2}).
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`
   */
  decodeCiphertext(bytes: Uint8Array): bigint {
    ensureWellFormed(
      bytes instanceof Uint8Array && bytes.length === this.ciphertextBytes,
      `Paillier ciphertext must be ${this.ciphertextBytes} bytes`,
    );
    return this.assertCiphertext(bytesToBigint(bytes));
  }

  /**
   * Ciphertexts as one block of `count * ciphertextBytes` bytes, each checked as
   * {@link assertCiphertext} does, with one gcd for the block (see {@link decodeCiphertexts}).
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`
   */
  encodeCiphertexts(cs: readonly bigint[]): Uint8Array {
    for (const c of cs) {
      ensureWellFormed(
        typeof c === 'bigint' && c > 0n && c < this.n2,
        'Paillier ciphertext must lie in (0, n^2)',
      );
    }
    this.#assertUnits(cs);
    const size = this.ciphertextBytes;
    const out = new Uint8Array(cs.length * size);
    for (let i = 0; i < cs.length; i++) out.set(bigintToBytes(cs[i]!, size), i * size);
    return out;
  }

  /** Every c (already in (0, n^2)) is a unit: one gcd of their product, then the culprit. */
  #assertUnits(cs: readonly bigint[]): void {
    let product = 1n;
    for (const c of cs) product = (product * c) % this.n;
    if (gcd(product, this.n) !== 1n) for (const c of cs) this.assertCiphertext(c);
  }

  /**
   * Decodes a block from {@link encodeCiphertexts}, validating every ciphertext. Membership in
   * Z*_{n^2} is checked for the whole block with one gcd: the product of units is a unit, and a
   * product sharing a factor with n points at the culprit, found one by one.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`
   */
  decodeCiphertexts(bytes: Uint8Array): bigint[] {
    const size = this.ciphertextBytes;
    ensureWellFormed(
      bytes instanceof Uint8Array && bytes.length % size === 0,
      `Paillier ciphertext block must be a multiple of ${size} bytes`,
    );
    const out: bigint[] = [];
    for (let off = 0; off < bytes.length; off += size) {
      const c = bytesToBigint(bytes.subarray(off, off + size));
      ensureWellFormed(c > 0n && c < this.n2, 'Paillier ciphertext must lie in (0, n^2)');
      out.push(c);
    }
    this.#assertUnits(out);
    return out;
  }

  /**
   * `version u8 | 'P' | bits u16 | n | hasHs u8 | hs?` with n in bits/8 and hs in bits/4 bytes.
   */
  toBytes(): Uint8Array {
    const w = new ByteWriter(8 + this.modulusBytes + this.ciphertextBytes)
      .u8(PAILLIER_VERSION)
      .u8(TAG_PUBLIC)
      .u16(this.bits)
      .bytes(bigintToBytes(this.n, this.modulusBytes));
    if (this.hs === undefined) w.u8(0);
    else w.u8(1).bytes(bigintToBytes(this.hs, this.ciphertextBytes));
    return w.finish();
  }

  /**
   * Decodes and validates a public key from {@link toBytes}.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNSUPPORTED_VERSION`
   */
  static fromBytes(bytes: Uint8Array): PaillierPublicKey {
    const r = new ByteReader(bytes, 'Paillier public key');
    const version = r.u8('version');
    if (version !== PAILLIER_VERSION) {
      throw new UnseenError('ERR_UNSUPPORTED_VERSION', `Paillier key version ${version}`);
    }
    ensureWellFormed(r.u8('tag') === TAG_PUBLIC, 'Paillier public key: wrong tag');
    const bits = r.u16('bits');
    ensureWellFormed(
      bits >= PAILLIER_MIN_BITS && bits <= PAILLIER_MAX_BITS && bits % 8 === 0,
      `Paillier public key: unsupported size ${bits}`,
    );
    const n = bytesToBigint(r.bytes(bits / 8, 'n'));
    const flag = r.u8('hs flag');
    ensureWellFormed(flag === 0 || flag === 1, 'Paillier public key: bad hs flag');
    const hs = flag === 1 ? bytesToBigint(r.bytes(bits / 4, 'hs')) : undefined;
    r.end();
    ensureWellFormed(bitLength(n) === bits && (n & 1n) === 1n, 'Paillier public key: bad n');
    try {
      return new PaillierPublicKey(n, hs);
    } catch (cause) {
      throw new UnseenError('ERR_MALFORMED_MESSAGE', 'Paillier public key: invalid values', {
        cause,
      });
    }
  }

  /** SHA-256 of {@link toBytes}: identifies the key in messages. */
  fingerprint(): Uint8Array {
    this.#fingerprint ??= sha256(this.toBytes());
    return this.#fingerprint.slice();
  }
}

/** Options of {@link PaillierPrivateKey}. */
export interface PaillierPrivateKeyOptions {
  /**
   * Exponentiations with the secret exponents: `auto` (default) through OpenSSL's constant-time
   * code where node:crypto has it, `bigint` always in BigInt (tests, comparisons).
   */
  modexp?: 'auto' | 'bigint';
}

/** The exponentiations of one prime p with secret exponents, built on first use. */
interface PrimePows {
  /** x^(p-1) mod p^2 (decryption). */
  decrypt: SecretExponentPow;
  /** x^(n mod p(p-1)) mod p^2 = x^n mod p^2 for units (randomizers). */
  nth: SecretExponentPow | undefined;
}

/**
 * A Paillier private key (the primes p, q): CRT decryption.
 */
export class PaillierPrivateKey {
  readonly publicKey: PaillierPublicKey;
  readonly #p: bigint;
  readonly #q: bigint;
  readonly #p2: bigint;
  readonly #q2: bigint;
  readonly #hp: bigint;
  readonly #hq: bigint;
  readonly #qInvP: bigint;
  readonly #modexp: 'auto' | 'bigint';
  #powP: PrimePows | undefined;
  #powQ: PrimePows | undefined;
  #q2InvP2: bigint | undefined;

  /**
   * @throws UnseenError `ERR_INVALID_ARGUMENT` unless p and q are distinct primes of the same
   * size whose product is the public key's n
   */
  constructor(
    p: bigint,
    q: bigint,
    publicKey?: PaillierPublicKey,
    options: PaillierPrivateKeyOptions = {},
  ) {
    const modexp = options.modexp ?? 'auto';
    if (modexp !== 'auto' && modexp !== 'bigint') {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `unknown modexp backend ${String(modexp)}`);
    }
    this.#modexp = modexp;
    if (typeof p !== 'bigint' || typeof q !== 'bigint' || p === q || p < 3n || q < 3n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier primes must be distinct bigints');
    }
    const n = p * q;
    const pk = publicKey ?? new PaillierPublicKey(n);
    if (pk.n !== n || bitLength(p) !== bitLength(q)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier primes do not match the modulus');
    }
    if (gcd(n, (p - 1n) * (q - 1n)) !== 1n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier: gcd(n, phi(n)) must be 1');
    }
    this.publicKey = pk;
    this.#p = p;
    this.#q = q;
    this.#p2 = p * p;
    this.#q2 = q * q;
    // h_p = L_p(g^(p-1) mod p^2)^-1 mod p; with g = n + 1, g^(p-1) = 1 + (p-1)n mod p^2,
    // so L_p(...) = (p-1) * q mod p = -q mod p.
    this.#hp = modInverse(mod(-q, p), p);
    this.#hq = modInverse(mod(-p, q), q);
    this.#qInvP = modInverse(q, p);
  }

  /** The prime factors (secret). */
  get primes(): { p: bigint; q: bigint } {
    return { p: this.#p, q: this.#q };
  }

  /** What computes the secret-exponent exponentiations: `openssl` on Node, else `bigint`. */
  get modexpBackend(): ModexpBackend {
    return this.#pows(this.#p, this.#p2, 'p').decrypt.backend;
  }

  /** The exponentiations modulo p^2 (or q^2), built on first use (the OpenSSL self-check). */
  #pows(p: bigint, p2: bigint, which: 'p' | 'q'): PrimePows {
    let pows = which === 'p' ? this.#powP : this.#powQ;
    if (pows === undefined) {
      const options = { backend: this.#modexp };
      pows = { decrypt: new SecretExponentPow(p2, p - 1n, options), nth: undefined };
      if (which === 'p') this.#powP = pows;
      else this.#powQ = pows;
    }
    return pows;
  }

  /** x^n mod p^2: the exponent reduces modulo phi(p^2) = p(p - 1) for units x. */
  #nth(x: bigint, p: bigint, p2: bigint, which: 'p' | 'q'): bigint {
    const pows = this.#pows(p, p2, which);
    pows.nth ??= new SecretExponentPow(p2, this.publicKey.n % (p * (p - 1n)), {
      backend: this.#modexp,
    });
    return pows.nth.pow(x);
  }

  /**
   * Decrypts to m in [0, n) by CRT: m_p = L_p(c^(p-1) mod p^2) * h_p mod p, likewise for q,
   * then Garner.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` if c is not in Z*_{n^2}
   */
  decrypt(c: bigint): bigint {
    ensureWellFormed(
      typeof c === 'bigint' && c > 0n && c < this.publicKey.n2,
      'Paillier ciphertext must lie in (0, n^2)',
    );
    const p = this.#p;
    const q = this.#q;
    const xp = this.#pows(p, this.#p2, 'p').decrypt.pow(c);
    const xq = this.#pows(q, this.#q2, 'q').decrypt.pow(c);
    // A unit c gives x = 1 mod p; anything else was not a ciphertext.
    ensureWellFormed(xp % p === 1n && xq % q === 1n, 'Paillier ciphertext is not a unit');
    const mp = (((xp - 1n) / p) * this.#hp) % p;
    const mq = (((xq - 1n) / q) * this.#hq) % q;
    return crt2(mp, p, mq, q, this.#qInvP);
  }

  /** Decrypts to a signed integer in (-n/2, n/2]. */
  decryptSigned(c: bigint): bigint {
    return this.publicKey.decodeSigned(this.decrypt(c));
  }

  /**
   * A randomizer r^n mod n^2 computed by CRT with the factorization (for the key holder's own
   * encryptions): about 6x faster than without it.
   */
  randomizer(): bigint {
    const r = randomUnit(this.publicKey.n);
    const a = this.#nth(r, this.#p, this.#p2, 'p');
    const b = this.#nth(r, this.#q, this.#q2, 'q');
    this.#q2InvP2 ??= modInverse(this.#q2, this.#p2);
    return crt2(a, this.#p2, b, this.#q2, this.#q2InvP2);
  }

  /** `version u8 | 'S' | bits u16 | p | q`, each prime in bits/16 bytes. Secret: store safely. */
  toBytes(): Uint8Array {
    const half = this.publicKey.bits / 16;
    const w = new ByteWriter(4 + 2 * half + 1 + this.publicKey.ciphertextBytes)
      .u8(PAILLIER_VERSION)
      .u8(TAG_PRIVATE)
      .u16(this.publicKey.bits)
      .bytes(bigintToBytes(this.#p, half))
      .bytes(bigintToBytes(this.#q, half));
    const hs = this.publicKey.hs;
    if (hs === undefined) w.u8(0);
    else w.u8(1).bytes(bigintToBytes(hs, this.publicKey.ciphertextBytes));
    return w.finish();
  }

  /**
   * Decodes and validates a private key (primality, sizes, product).
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNSUPPORTED_VERSION`
   */
  static fromBytes(bytes: Uint8Array, options: PaillierPrivateKeyOptions = {}): PaillierPrivateKey {
    const r = new ByteReader(bytes, 'Paillier private key');
    const version = r.u8('version');
    if (version !== PAILLIER_VERSION) {
      throw new UnseenError('ERR_UNSUPPORTED_VERSION', `Paillier key version ${version}`);
    }
    ensureWellFormed(r.u8('tag') === TAG_PRIVATE, 'Paillier private key: wrong tag');
    const bits = r.u16('bits');
    ensureWellFormed(
      bits >= PAILLIER_MIN_BITS && bits <= PAILLIER_MAX_BITS && bits % 16 === 0,
      `Paillier private key: unsupported size ${bits}`,
    );
    const p = bytesToBigint(r.bytes(bits / 16, 'p'));
    const q = bytesToBigint(r.bytes(bits / 16, 'q'));
    const flag = r.u8('hs flag');
    ensureWellFormed(flag === 0 || flag === 1, 'Paillier private key: bad hs flag');
    const hs = flag === 1 ? bytesToBigint(r.bytes(bits / 4, 'hs')) : undefined;
    r.end();
    ensureWellFormed(
      isProbablePrime(p, 32) && isProbablePrime(q, 32),
      'Paillier private key: p and q must be prime',
    );
    try {
      return new PaillierPrivateKey(p, q, new PaillierPublicKey(p * q, hs), options);
    } catch (cause) {
      throw new UnseenError('ERR_MALFORMED_MESSAGE', 'Paillier private key: invalid values', {
        cause,
      });
    }
  }
}

/** Options of {@link generatePaillierKeys}. */
export interface PaillierKeyOptions {
  /** Modulus bits: 2048 (112-bit security), 3072 (128-bit, the default) or up to 8192. */
  bits?: number;
  /** Publish the DJN base hs for fast encryption (default true). */
  djn?: boolean;
  /** Use these primes instead of generating them (tests, imported keys); checked. */
  primes?: { p: bigint; q: bigint };
}

/** A Paillier key pair. */
export interface PaillierKeyPair {
  publicKey: PaillierPublicKey;
  privateKey: PaillierPrivateKey;
}

/**
 * Computes the DJN base hs = (-x^2)^n mod n^2 for a random unit x, by CRT with the primes.
 * @internal
 */
export function djnBase(p: bigint, q: bigint): bigint {
  const n = p * q;
  const n2 = n * n;
  const x = randomUnit(n);
  const h = mod(-(x * x), n);
  const p2 = p * p;
  const q2 = q * q;
  // h^n mod p^2 with the exponent reduced modulo phi(p^2) = p(p - 1): secret, so constant time.
  const a = new SecretExponentPow(p2, n % (p * (p - 1n))).pow(h);
  const b = new SecretExponentPow(q2, n % (q * (q - 1n))).pow(h);
  return crt2(a, p2, b, q2, modInverse(q2, p2)) % n2;
}

/**
 * Generates a Paillier key pair: two random primes of bits/2 bits each (top two bits set, so n
 * has exactly `bits` bits), g = n + 1.
 * @example
 * ```ts
 * const { publicKey, privateKey } = await generatePaillierKeys({ bits: 3072 });
 * ```
 */
export async function generatePaillierKeys(
  options: PaillierKeyOptions = {},
): Promise<PaillierKeyPair> {
  const bits = checkModulusBits(aint(options.bits ?? 3072, 'bits'), 'generatePaillierKeys');
  if (bits % 16 !== 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'Paillier modulus bits must be even bytes');
  }
  let p: bigint;
  let q: bigint;
  if (options.primes !== undefined) {
    ({ p, q } = options.primes);
    if (!isProbablePrime(p) || !isProbablePrime(q)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'generatePaillierKeys: primes must be prime');
    }
    if (bitLength(p * q) !== bits) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `generatePaillierKeys: n must have ${bits} bits`,
      );
    }
  } else {
    do {
      p = generatePrime(bits / 2);
      // Yield between the two primes so a caller's event loop is not blocked for the whole run.
      await new Promise((resolve) => setTimeout(resolve, 0));
      q = generatePrime(bits / 2);
    } while (p === q || bitLength(p * q) !== bits);
  }
  const hs = options.djn === false ? undefined : djnBase(p, q);
  const publicKey = new PaillierPublicKey(p * q, hs);
  return { publicKey, privateKey: new PaillierPrivateKey(p, q, publicKey) };
}
