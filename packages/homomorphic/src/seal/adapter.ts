/**
 * The one file that talks to node-seal (Microsoft SEAL 4 compiled to WebAssembly). Everything
 * else in the package sees plain numbers, bigints and typed arrays: parameters, serialized keys,
 * and ciphertexts as raw coefficient words. Upgrading to node-seal 7 (Node 22+) means changing
 * this file only.
 *
 * node-seal 6.0.3 is a factory (`await SEAL()`); its package is CommonJS (UMD), so under
 * NodeNext the default import may arrive wrapped: `mod.default ?? mod`.
 *
 * Memory: SEAL objects live in the WebAssembly heap, which never shrinks and is not garbage
 * collected. Every object made here is `delete()`d in a `finally`, and long-lived ones (context,
 * encoder, encryptor, decryptor) belong to a {@link SealSession} whose `dispose()` frees them.
 *
 * Ciphertext words: SEAL serializes a ciphertext as a header followed by its data, `size` (2)
 * polynomials of `coeffModulusSize` RNS components of N 64-bit little-endian words. Uncompressed
 * (`ComprModeType.none`) the data are the trailing bytes, which is all this file relies on: a
 * ciphertext is read as those words and rebuilt by writing words into a template serialization
 * of a ciphertext at the same level and scale, then loaded (SEAL checks every word < q_j again).
 *
 * CKKS packs two real values per slot, one in the real and one in the imaginary part: N values
 * per ciphertext where SEAL's real-valued encoder alone would fill N/2, which halves the bytes,
 * the encryption and the aggregation of a vector. node-seal 6 encodes real vectors only, so a
 * ciphertext of `a + i b` is made as `Enc(encode(b)) * X^(N/2) + encode(a)`: in the canonical
 * embedding X^(N/2) is i in every slot (zeta^(N/2) = i for zeta = exp(i pi k / N), k = 5^j = 1
 * mod 4), and multiplying by a monomial only permutes (and negates) coefficients, so the
 * encryption error keeps its size. Decryption decodes the ciphertext (real parts: `a`) and the
 * ciphertext times -X^(N/2) (real parts of `-i (a + i b)`: `b`). In SEAL's NTT form X^(N/2) is
 * the vector psi^((2 rev(k) + 1) N / 2) = (-1)^rev(k) I for each prime, I = psi^(N/2) a square
 * root of -1 and psi SEAL's root (the smallest primitive 2N-th root of unity modulo the prime);
 * the session builds it once and checks it by decoding before any use.
 * @module
 */

import { UnseenError } from '@unseen/core';
import SEALModule from 'node-seal';

/** The subset of node-seal used here; `any` because its own typings are partial. */
// biome-ignore lint/suspicious/noExplicitAny: node-seal 6 ships `any` for its library objects.
type Seal = any;
// biome-ignore lint/suspicious/noExplicitAny: as above.
type SealObject = any;

/** Which SEAL scheme. */
export type SealScheme = 'ckks' | 'bfv';

/** Parameters of a SEAL context, as plain values. */
export interface SealParameters {
  scheme: SealScheme;
  /** N, a power of two from 1024 to 32768. */
  polyModulusDegree: number;
  /** Every prime of the coefficient modulus; the last is SEAL's special (key) prime when there
   * are two or more. */
  coeffModulus: readonly bigint[];
  /** BFV plain modulus t (a batching prime); 0n for CKKS. */
  plainModulus: bigint;
}

let sealPromise: Promise<Seal> | undefined;

/** Loads the SEAL WebAssembly module once per thread. */
async function loadSeal(): Promise<Seal> {
  sealPromise ??= (async () => {
    // Under NodeNext the CommonJS export may arrive as the function or as { default: function }.
    const mod = SEALModule as unknown as { default?: unknown };
    const factory = (typeof mod === 'function' ? mod : mod.default) as
      | (() => Promise<Seal>)
      | undefined;
    if (typeof factory !== 'function') {
      throw new UnseenError('ERR_UNSUPPORTED', 'node-seal did not export its factory');
    }
    return factory();
  })();
  return sealPromise;
}

/** Version string of the loaded SEAL binding, e.g. "6.0.3". */
export async function sealVersion(): Promise<string> {
  return String((await loadSeal()).Version);
}

/** The largest total coefficient-modulus bits SEAL allows for N at 128-bit security (tc128). */
export async function maxCoeffModulusBits(polyModulusDegree: number): Promise<number> {
  const seal = await loadSeal();
  return seal.CoeffModulus.MaxBitCount(polyModulusDegree, seal.SecurityLevel.tc128) as number;
}

/** SEAL's primes of the given bit sizes that are 1 mod 2N (largest first per size). */
export async function choosePrimes(polyModulusDegree: number, bitSizes: readonly number[]) {
  const seal = await loadSeal();
  const vector = seal.CoeffModulus.Create(polyModulusDegree, Int32Array.from(bitSizes));
  try {
    return Array.from(vector.toArray() as BigUint64Array, (x) => BigInt(x));
  } finally {
    vector.delete();
  }
}

/** A batching prime t = 1 mod 2N of exactly `bits` bits (BFV plain modulus). */
export async function batchingPrime(polyModulusDegree: number, bits: number): Promise<bigint> {
  const seal = await loadSeal();
  const modulus = seal.PlainModulus.Batching(polyModulusDegree, bits);
  try {
    return BigInt(modulus.value);
  } finally {
    modulus.delete();
  }
}

function wrap(e: unknown, what: string): UnseenError {
  if (e instanceof UnseenError) return e;
  const msg =
    e instanceof Error ? e.message : typeof e === 'number' ? `SEAL exception ${e}` : String(e);
  return new UnseenError('ERR_MALFORMED_MESSAGE', `${what}: ${msg}`, { cause: e });
}

/**
 * A SEAL context with its encoder and (optionally) keys, for one parameter set. Dispose it.
 */
export class SealSession {
  readonly params: SealParameters;
  /** Slots of SEAL's encoder: N for BFV, N/2 (real) for CKKS. */
  readonly slots: number;
  /** Values per ciphertext: N (BFV: one per slot; CKKS: real and imaginary part of N/2 slots). */
  readonly valuesPerCiphertext: number;
  /** RNS components of a ciphertext at the first data level (the only level used). */
  readonly levelPrimes: number;
  readonly #seal: Seal;
  readonly #context: SealObject;
  readonly #encoder: SealObject;
  #evaluator: SealObject | undefined;
  #encryptor: SealObject | undefined;
  #decryptor: SealObject | undefined;
  #template: { bytes: Uint8Array; scale: number } | undefined;
  /** CKKS: X^(N/2) and -X^(N/2) as plaintexts in NTT form at the data level, scale 1. */
  #unit: { plus: SealObject; minus: SealObject } | undefined;
  #disposed = false;

  private constructor(
    seal: Seal,
    params: SealParameters,
    context: SealObject,
    encoder: SealObject,
  ) {
    this.#seal = seal;
    this.params = params;
    this.#context = context;
    this.#encoder = encoder;
    this.slots = encoder.slotCount as number;
    this.valuesPerCiphertext = params.polyModulusDegree;
    const n = params.coeffModulus.length;
    this.levelPrimes = n === 1 ? 1 : n - 1;
  }

  /**
   * Builds the context and checks that SEAL accepts the parameters at 128-bit security and uses
   * exactly the primes given.
   * @throws UnseenError `ERR_INVALID_ARGUMENT` for parameters SEAL rejects
   */
  static async create(params: SealParameters): Promise<SealSession> {
    const seal = await loadSeal();
    const parms = seal.EncryptionParameters(
      params.scheme === 'bfv' ? seal.SchemeType.bfv : seal.SchemeType.ckks,
    );
    let coeff: SealObject;
    let plain: SealObject;
    let context: SealObject;
    try {
      parms.setPolyModulusDegree(params.polyModulusDegree);
      // SEAL picks its primes deterministically from (N, bit sizes); a stored parameter set is
      // reproduced that way and must come out identical.
      const sizes = params.coeffModulus.map((q) => q.toString(2).length);
      coeff = seal.CoeffModulus.Create(params.polyModulusDegree, Int32Array.from(sizes));
      const got = Array.from(coeff.toArray() as BigUint64Array, (x) => BigInt(x));
      if (got.length !== sizes.length || got.some((q, i) => q !== params.coeffModulus[i])) {
        throw new UnseenError('ERR_PARAMETER_MISMATCH', 'this SEAL build chooses other primes');
      }
      parms.setCoeffModulus(coeff);
      if (params.scheme === 'bfv') {
        plain = seal.Modulus(params.plainModulus);
        parms.setPlainModulus(plain);
      }
      context = seal.Context(parms, true, seal.SecurityLevel.tc128);
    } catch (e) {
      if (e instanceof UnseenError) throw e;
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'SEAL rejected the encryption parameters', {
        cause: e,
      });
    } finally {
      coeff?.delete();
      plain?.delete();
      parms.delete();
    }
    if (!context.parametersSet()) {
      const why = String(context.parametersErrorMessage?.() ?? 'not valid at 128-bit security');
      context.delete();
      throw new UnseenError('ERR_INVALID_ARGUMENT', `SEAL parameters rejected: ${why}`);
    }
    const encoder =
      params.scheme === 'bfv' ? seal.BatchEncoder(context) : seal.CKKSEncoder(context);
    return new SealSession(seal, params, context, encoder);
  }

  #live(): void {
    if (this.#disposed) throw new UnseenError('ERR_INVALID_STATE', 'SEAL session was disposed');
  }

  /**
   * A fresh key pair: the public key in SEAL's seeded serialization (half size), the secret
   * key serialized as is. Both uncompressed: their words are uniform modulo primes close to
   * 2^60, which no general-purpose compressor shrinks.
   */
  generateKeys(): { publicKey: Uint8Array; secretKey: Uint8Array } {
    this.#live();
    const seal = this.#seal;
    const keygen = seal.KeyGenerator(this.#context);
    let pk: SealObject;
    let sk: SealObject;
    try {
      pk = keygen.createPublicKeySerializable();
      sk = keygen.secretKey();
      return {
        publicKey: pk.saveArray(seal.ComprModeType.none) as Uint8Array,
        secretKey: sk.saveArray(seal.ComprModeType.none) as Uint8Array,
      };
    } finally {
      pk?.delete();
      sk?.delete();
      keygen.delete();
    }
  }

  /**
   * Loads the public key for {@link encryptWords}.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` when SEAL rejects the key
   */
  usePublicKey(bytes: Uint8Array): void {
    this.#live();
    const seal = this.#seal;
    const pk = seal.PublicKey();
    try {
      pk.loadArray(this.#context, bytes);
      this.#encryptor?.delete();
      this.#encryptor = undefined;
      this.#encryptor = seal.Encryptor(this.#context, pk);
    } catch (e) {
      throw wrap(e, 'SEAL public key');
    } finally {
      pk.delete();
    }
  }

  /**
   * Loads the secret key for {@link decryptWords}.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` when SEAL rejects the key
   */
  useSecretKey(bytes: Uint8Array): void {
    this.#live();
    const seal = this.#seal;
    const sk = seal.SecretKey();
    try {
      sk.loadArray(this.#context, bytes);
      this.#decryptor?.delete();
      this.#decryptor = undefined;
      this.#decryptor = seal.Decryptor(this.#context, sk);
    } catch (e) {
      throw wrap(e, 'SEAL secret key');
    } finally {
      sk.delete();
    }
  }

  /** 32-bit words of one ciphertext's data: 2 polys * levelPrimes * N * 2 (low, high). */
  get ciphertextWords(): number {
    return 2 * this.levelPrimes * this.params.polyModulusDegree * 2;
  }

  /**
   * Encodes and encrypts `count` ciphertexts' worth of values
   * (`values.length <= count * valuesPerCiphertext`, the rest zero) and writes each ciphertext's
   * data words into `out` (Uint32 pairs, low word first), ciphertext after ciphertext. A CKKS
   * ciphertext holds its first N/2 values in the real parts of the slots and the next N/2 in
   * the imaginary parts (see the module note).
   * @param scale CKKS scale (ignored for BFV)
   */
  encryptWords(
    values: Float64Array | BigInt64Array,
    count: number,
    scale: number,
    out: Uint32Array,
  ): void {
    this.#live();
    const enc = this.#encryptor;
    if (enc === undefined) throw new UnseenError('ERR_INVALID_STATE', 'no public key loaded');
    const seal = this.#seal;
    const slots = this.slots;
    const per = this.valuesPerCiphertext;
    const words = this.ciphertextWords;
    const bfv = this.params.scheme === 'bfv';
    const unit = bfv ? undefined : this.#imaginaryUnit();
    const pt = seal.PlainText();
    const ptImag = seal.PlainText();
    const ct = seal.CipherText();
    // The last ciphertext of a vector is padded with zeros.
    const part = (from: number): Float64Array | BigInt64Array => {
      const v = values.subarray(from, Math.min(values.length, from + slots));
      if (v.length === slots) return v;
      const padded = bfv ? new BigInt64Array(slots) : new Float64Array(slots);
      (padded as { set(a: ArrayLike<unknown>): void }).set(v);
      return padded;
    };
    try {
      for (let i = 0; i < count; i++) {
        const from = i * per;
        if (bfv) {
          this.#encoder.encode(part(from), pt);
          enc.encrypt(pt, ct);
        } else if (from + slots >= values.length) {
          this.#encoder.encode(part(from), scale, pt); // no imaginary parts left
          enc.encrypt(pt, ct);
        } else {
          // Enc(b) * X^(N/2) + a: a + i b in every slot.
          this.#encoder.encode(part(from + slots), scale, ptImag);
          enc.encrypt(ptImag, ct);
          this.#evaluator.multiplyPlain(ct, unit!.plus, ct);
          this.#encoder.encode(part(from), scale, pt);
          this.#evaluator.addPlain(ct, pt, ct);
        }
        this.#readWords(ct, out.subarray(i * words, (i + 1) * words));
      }
    } catch (e) {
      throw wrap(e, 'SEAL encryption');
    } finally {
      pt.delete();
      ptImag.delete();
      ct.delete();
    }
  }

  /**
   * X^(N/2) (the imaginary unit in every slot) and its negation as CKKS plaintexts in SEAL's NTT
   * form at the data level with scale 1, made once per session and checked by decoding: a
   * plaintext times X^(N/2) must decode to real parts zero, which any other choice of roots or
   * order turns into values of the size of q / scale.
   * @throws UnseenError `ERR_UNSUPPORTED` when this SEAL build's NTT is not the one expected
   */
  #imaginaryUnit(): { plus: SealObject; minus: SealObject } {
    if (this.#unit !== undefined) return this.#unit;
    const seal = this.#seal;
    this.#evaluator ??= seal.Evaluator(this.#context);
    const n = this.params.polyModulusDegree;
    const levels = this.levelPrimes;
    const primes = this.params.coeffModulus.slice(0, levels);
    const roots = primes.map((q) => imaginaryRoot(q, n));
    // Probe values at a scale 12 bits below the data modulus: a right unit decodes to real parts
    // within the encoding's rounding (N / scale, at most 2^-7 for q >= 2^30 and N <= 32768); a
    // wrong one to values of size q / scale = 2^12.
    const dataBits = primes.reduce((bits, q) => bits + q.toString(2).length - 1, 0);
    const checkScale = 2 ** Math.max(1, dataBits - 12);
    const probe = Float64Array.from({ length: this.slots }, (_, k) => ((k % 7) - 3) / 8);
    const pt = seal.PlainText();
    const test = seal.PlainText();
    const plus = seal.PlainText();
    const minus = seal.PlainText();
    let ok = false;
    try {
      this.#encoder.encode(new Float64Array(this.slots), 1, pt);
      const template = pt.saveArray(seal.ComprModeType.none) as Uint8Array;
      this.#encoder.encode(probe, checkScale, test);
      const probeBytes = test.saveArray(seal.ComprModeType.none) as Uint8Array;
      if (pt.coeffCount !== n * levels || test.coeffCount !== n * levels) {
        throw new UnseenError('ERR_INVALID_STATE', 'unexpected SEAL plaintext layout');
      }
      // rev(k) is odd exactly when k's top bit is set (SEAL's NTT output is in bit-reversed
      // order); the other order is tried too, and the decoding check decides.
      for (const odd of [(k: number) => k >= n / 2, (k: number) => (k & 1) === 1]) {
        const unitBytes = new Uint8Array(template);
        const negBytes = new Uint8Array(template);
        const productBytes = new Uint8Array(probeBytes);
        const u = trailingWords(unitBytes, n * levels);
        const v = trailingWords(negBytes, n * levels);
        const w = trailingWords(productBytes, n * levels);
        for (let j = 0; j < levels; j++) {
          const q = primes[j]!;
          for (let k = 0; k < n; k++) {
            const x = odd(k) ? q - roots[j]! : roots[j]!;
            const at = j * n + k;
            u.setBigUint64(8 * at, x, true);
            v.setBigUint64(8 * at, q - x, true);
            w.setBigUint64(8 * at, (w.getBigUint64(8 * at, true) * x) % q, true);
          }
        }
        test.loadArray(this.#context, productBytes);
        const re = this.#encoder.decode(test) as Float64Array;
        if (re.every((x) => Math.abs(x) < 2 ** -4)) {
          plus.loadArray(this.#context, unitBytes);
          minus.loadArray(this.#context, negBytes);
          ok = true;
          break;
        }
      }
    } catch (e) {
      throw wrap(e, 'SEAL imaginary unit');
    } finally {
      pt.delete();
      test.delete();
      if (!ok) {
        plus.delete();
        minus.delete();
      }
    }
    if (!ok) {
      throw new UnseenError(
        'ERR_UNSUPPORTED',
        "this SEAL build's NTT is not the one expected: cannot pack two values per CKKS slot",
      );
    }
    this.#unit = { plus, minus };
    return this.#unit;
  }

  #readWords(ct: SealObject, out: Uint32Array): void {
    const bytes = ct.saveArray(this.#seal.ComprModeType.none) as Uint8Array;
    const dataBytes = out.length * 4;
    const start = bytes.length - dataBytes;
    if (start < 0 || ct.size !== 2 || ct.coeffModulusSize !== this.levelPrimes) {
      throw new UnseenError('ERR_INVALID_STATE', 'unexpected SEAL ciphertext layout');
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, dataBytes);
    for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
  }

  /** A serialized ciphertext at the data level with the given scale, whose data we overwrite. */
  #templateFor(scale: number): Uint8Array {
    if (this.#template?.scale === scale) return this.#template.bytes;
    const enc = this.#encryptor;
    const seal = this.#seal;
    const pt = seal.PlainText();
    const ct = seal.CipherText();
    try {
      if (this.params.scheme === 'bfv') {
        this.#encoder.encode(new BigInt64Array(this.slots), pt);
      } else {
        this.#encoder.encode(new Float64Array(this.slots), scale, pt);
      }
      if (enc !== undefined) enc.encrypt(pt, ct);
      else {
        throw new UnseenError('ERR_INVALID_STATE', 'decryption needs the public key too');
      }
      const bytes = ct.saveArray(seal.ComprModeType.none) as Uint8Array;
      this.#template = { bytes: new Uint8Array(bytes), scale };
      return this.#template.bytes;
    } finally {
      pt.delete();
      ct.delete();
    }
  }

  /**
   * Decrypts ciphertexts given as data words (as written by {@link encryptWords}) and decodes
   * `length` values. For BFV, also checks the invariant noise budget of each ciphertext. For
   * CKKS, `flood` gives N noise values per ciphertext (real parts, then imaginary parts), which
   * are encoded and added to the exact plaintext before it is decoded.
   * @returns values, and the smallest noise budget in bits (BFV; Infinity for CKKS)
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` when SEAL rejects the words; `ERR_OVERFLOW`
   * when a BFV ciphertext has no noise budget left
   */
  decryptWords(
    words: Uint32Array,
    count: number,
    length: number,
    scale: number,
    flood?: (count: number) => Float64Array,
  ): { values: Float64Array | BigInt64Array; noiseBudget: number } {
    this.#live();
    const dec = this.#decryptor;
    if (dec === undefined) throw new UnseenError('ERR_INVALID_STATE', 'no secret key loaded');
    const seal = this.#seal;
    const bfv = this.params.scheme === 'bfv';
    const template = this.#templateFor(scale);
    const per = this.ciphertextWords;
    const buf = new Uint8Array(template);
    const start = buf.length - per * 4;
    const view = new DataView(buf.buffer, buf.byteOffset + start, per * 4);
    const out = bfv ? new BigInt64Array(length) : new Float64Array(length);
    const unit = bfv ? undefined : this.#imaginaryUnit();
    const ct = seal.CipherText();
    const pt = seal.PlainText();
    let budget = Number.POSITIVE_INFINITY;
    try {
      for (let i = 0; i < count; i++) {
        const src = words.subarray(i * per, (i + 1) * per);
        for (let k = 0; k < per; k++) view.setUint32(4 * k, src[k]!, true);
        try {
          ct.loadArray(this.#context, buf);
        } catch (e) {
          throw wrap(e, 'SEAL rejected a ciphertext');
        }
        try {
          budget = Math.min(budget, this.#decryptOne(ct, pt, i, length, scale, out, unit, flood));
        } catch (e) {
          throw wrap(e, 'SEAL decryption'); // e.g. a transparent ciphertext (c1 = 0)
        }
      }
    } finally {
      ct.delete();
      pt.delete();
    }
    if (bfv && budget <= 0) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        'BFV noise budget exhausted: the sum cannot be decrypted',
      );
    }
    return { values: out, noiseBudget: budget };
  }

  /**
   * Decrypts the loaded ciphertext `i` into `out`; returns its BFV noise budget (Infinity for
   * CKKS).
   */
  #decryptOne(
    ct: SealObject,
    pt: SealObject,
    i: number,
    length: number,
    scale: number,
    out: Float64Array | BigInt64Array,
    unit: { plus: SealObject; minus: SealObject } | undefined,
    flood: ((count: number) => Float64Array) | undefined,
  ): number {
    const dec = this.#decryptor!;
    const bfv = this.params.scheme === 'bfv';
    const budget = bfv ? (dec.invariantNoiseBudget(ct) as number) : Number.POSITIVE_INFINITY;
    const from = i * this.valuesPerCiphertext;
    const take = Math.min(this.slots, length - from);
    if (bfv) {
      dec.decrypt(ct, pt);
      const v = this.#encoder.decodeBigInt(pt, true) as BigInt64Array;
      (out as BigInt64Array).set(v.subarray(0, take), from);
      return budget;
    }
    // CKKS: ct encrypts m + e = a + i b (plus error). With flooding, the noise g = g_re +
    // X^(N/2) g_im joins the exact plaintext before anything is decoded:
    // ct2 = -X^(N/2) (ct + g_re) + g_im encrypts -X^(N/2) (m + e + g), whose real parts are
    // b's, and X^(N/2) ct2 encrypts m + e + g, whose real parts are a's.
    const noise = flood?.(this.valuesPerCiphertext);
    if (noise !== undefined) {
      this.#encoder.encode(noise.subarray(0, this.slots), scale, pt);
      this.#evaluator.addPlain(ct, pt, ct);
    }
    this.#evaluator.multiplyPlain(ct, unit!.minus, ct);
    if (noise !== undefined) {
      this.#encoder.encode(noise.subarray(this.slots), scale, pt);
      this.#evaluator.addPlain(ct, pt, ct);
    }
    const rest = Math.min(this.slots, length - from - this.slots);
    if (rest > 0) {
      dec.decrypt(ct, pt);
      const w = this.#encoder.decode(pt) as Float64Array;
      (out as Float64Array).set(w.subarray(0, rest), from + this.slots);
    }
    this.#evaluator.multiplyPlain(ct, unit!.plus, ct);
    dec.decrypt(ct, pt);
    const v = this.#encoder.decode(pt) as Float64Array;
    (out as Float64Array).set(v.subarray(0, take), from);
    return budget;
  }

  /**
   * Sums ciphertexts (data words) with SEAL's own evaluator: a reference for the aggregator's
   * word arithmetic, used in tests.
   */
  addWordsWithSeal(a: Uint32Array, b: Uint32Array, scale: number): Uint32Array {
    this.#live();
    const seal = this.#seal;
    this.#evaluator ??= seal.Evaluator(this.#context);
    const template = this.#templateFor(scale);
    const per = this.ciphertextWords;
    const load = (words: Uint32Array): SealObject => {
      const buf = new Uint8Array(template);
      const view = new DataView(buf.buffer, buf.byteOffset + buf.length - per * 4, per * 4);
      for (let k = 0; k < per; k++) view.setUint32(4 * k, words[k]!, true);
      const ct = seal.CipherText();
      ct.loadArray(this.#context, buf);
      return ct;
    };
    const ca = load(a);
    const cb = load(b);
    try {
      this.#evaluator.add(ca, cb, ca);
      const out = new Uint32Array(per);
      this.#readWords(ca, out);
      return out;
    } finally {
      ca.delete();
      cb.delete();
    }
  }

  /** Frees every SEAL object of the session. Idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#encryptor?.delete();
    this.#decryptor?.delete();
    this.#evaluator?.delete();
    this.#unit?.plus.delete();
    this.#unit?.minus.delete();
    this.#encoder.delete();
    this.#context.delete();
  }
}

/** The 64-bit words at the end of a SEAL serialization (its data, when uncompressed). */
function trailingWords(bytes: Uint8Array, words: number): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8 * words, 8 * words);
}

function powMod(base: bigint, exp: bigint, q: bigint): bigint {
  let r = 1n;
  let b = base % q;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % q;
    b = (b * b) % q;
  }
  return r;
}

/**
 * psi^(N/2) for psi the smallest primitive 2N-th root of unity modulo q (SEAL's choice for its
 * NTT tables): a square root of -1.
 */
function imaginaryRoot(q: bigint, n: number): bigint {
  const order = BigInt(2 * n);
  if ((q - 1n) % order !== 0n) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'prime is not 1 modulo 2N');
  }
  // A primitive 2N-th root: x^((q-1)/2N) with g^N = -1; the others are its odd powers.
  let g = 0n;
  for (let x = 2n; g === 0n; x++) {
    const c = powMod(x, (q - 1n) / order, q);
    if (powMod(c, BigInt(n), q) === q - 1n) g = c;
  }
  const g2 = (g * g) % q;
  let best = g;
  for (let k = 1, r = g; k < n; k++) {
    r = (r * g2) % q;
    if (r < best) best = r;
  }
  return powMod(best, BigInt(n / 2), q);
}
