/**
 * Parameter choice and the public-parameter codec for CKKS and BFV vector aggregation.
 *
 * The only computation on ciphertexts is addition, so no multiplicative depth is needed: the
 * coefficient modulus holds the data level and nothing else, and ciphertexts travel at that
 * (lowest useful) level. Choices, smallest first:
 *
 * 1. one prime q0 (key level = data level; fastest encryption, most fresh noise);
 * 2. q0 and a special prime P (SEAL encrypts at {q0, P} and divides by P, so fresh noise is
 *    about 2^4 smaller);
 * 3. several data primes and P, when the value range needs more than 60 bits.
 *
 * N is the smallest power of two whose 128-bit bound (HomomorphicEncryption.org standard, SEAL's
 * `tc128`: 109 bits at N = 4096, 218 at 8192, 438 at 16384, 881 at 32768) covers the primes.
 *
 * BFV: values in [-B, B] and k contributions need a plain modulus t > 2Bk (sums decode centred);
 * the noise of a fresh ciphertext uses NOISE bits of q0/t and each doubling of k one more, so
 * bits(q0) >= bits(t) + NOISE + log2(k) + 2 (margin). Measured here (node-seal 6.0.3, 30
 * encryptions each): fresh noise budgets leave 12-13 bits used with one prime and 8 with a
 * special prime at N = 4096; NOISE below adds 2 bits of margin and 1 per doubling of N.
 * Decryption also checks the noise budget (`ERR_OVERFLOW` if exhausted).
 *
 * CKKS: decryption is noise-flooded (Li, Micciancio, Schultz, Sorrell 2022; OpenFHE's
 * NOISE_FLOODING_DECRYPT) against the IND-CPA^D key recovery of Li and Micciancio 2021, and the
 * error bound is proven term by term (encryption, encoding, flooding, grid, floating point: see
 * `noise.ts`). The scale is the smallest that keeps that bound within the requested precision;
 * q (the data primes) > 2 * scale * B * k with 2 bits of margin, so that no sum wraps.
 * @module
 */
import {
  aint,
  anumber,
  aoneOf,
  ByteReader,
  ByteWriter,
  ensureWellFormed,
  sha256,
  UnseenError,
} from '@unseen/core';
import {
  type CkksNoise,
  ckksNoise,
  ckksScaleBits,
  DEFAULT_MAX_DECRYPTIONS,
  DEFAULT_STATISTICAL_SECURITY,
} from './noise.js';

/** Schemes of vector aggregation. */
export type VectorScheme = 'ckks' | 'bfv';

/** tc128 bounds on the total coefficient-modulus bits (SEAL `CoeffModulus.MaxBitCount`). */
export const TC128_MAX_BITS: Readonly<Record<number, number>> = Object.freeze({
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
});

/** Most contributions one parameter set supports (the aggregator's exact float sums need it). */
export const MAX_CONTRIBUTIONS = 1 << 20;
/** Longest vector. */
export const MAX_LENGTH = 1 << 26;

/** BFV noise bits (budget used by a fresh ciphertext, with margin). */
function bfvNoiseBits(n: number, special: boolean): number {
  return (special ? 10 : 14) + Math.log2(n / 4096);
}

/** What the key holder asks for. */
export interface VectorOptions {
  scheme: VectorScheme;
  /** Values per contribution (1 to 2^26). */
  length: number;
  /** Most contributions that will be summed (default 1000, at most 2^20). */
  maxContributions?: number;
  /**
   * Every value lies in [-valueBound, valueBound]: a number for CKKS (default 1), an integer
   * (number or bigint, default 2^16) for BFV.
   */
  valueBound?: number | bigint;
  /**
   * CKKS: the largest acceptable absolute error of a decrypted sum of maxContributions
   * (default 1e-6); decrypted values are rounded to a grid of at most half of it.
   */
  precision?: number;
  /**
   * CKKS: statistical security kappa, in bits, of the noise flooding that protects the secret
   * key from whoever sees decrypted values (default 40; 16 to 128).
   */
  statisticalSecurity?: number;
  /**
   * CKKS: how many sums the key holder may decrypt; the flooding is sized for that many and the
   * key holder refuses more (default 16).
   */
  maxDecryptions?: number;
  /** Force N (4096 to 32768); by default the smallest that fits. */
  polyModulusDegree?: number;
}

/** A chosen parameter set, before keys exist. */
export interface VectorPlan {
  scheme: VectorScheme;
  length: number;
  maxContributions: number;
  polyModulusDegree: number;
  /** Bit sizes of the primes, data primes first, then the special prime if any. */
  primeBits: number[];
  /** Number of data-level primes (a ciphertext's RNS components). */
  levelPrimes: number;
  /** BFV plain-modulus bits (0 for CKKS). */
  plainBits: number;
  /** CKKS scale bits (0 for BFV). */
  scaleBits: number;
  /** CKKS: number; BFV: bigint. */
  valueBound: number | bigint;
  /** CKKS: the requested precision; BFV: 0. */
  precision: number;
  /**
   * CKKS: the proven largest absolute error of a decrypted sum of maxContributions honest
   * contributions, flooding and rounding included (at most `precision`); BFV: 0 (exact).
   */
  errorBound: number;
  /** CKKS: kappa of the flooding; BFV: 0. */
  statisticalSecurity: number;
  /** CKKS: the decryption budget; BFV: 0 (no limit: decryption is exact). */
  maxDecryptions: number;
}

/** Smallest special prime: it only divides SEAL's encryption noise (2^17.4 at N = 4096) away
 * (leaving 0.7 of it per coefficient, beside the rounding's (N + 1) / 2), and 20-bit primes that
 * are 1 mod 2N exist for every N up to 32768. */
const MIN_SPECIAL_BITS = 20;
/** Smallest data prime: the wire form keeps 32 low bits and at least one high byte. */
const MIN_DATA_BITS = 33;

/**
 * Splits `needed` data bits into primes of at most 60 bits (at least 33), rounded up to whole
 * bytes when `room` allows (ciphertext words travel in whole bytes: free headroom).
 */
function dataPrimes(needed: number, room: number): number[] | undefined {
  const count = Math.ceil(needed / 60);
  const each = Math.max(MIN_DATA_BITS, Math.ceil(needed / count));
  const rounded = Math.min(60, 8 * Math.ceil(each / 8));
  if (each > 60) return undefined;
  if (count * rounded <= room) return Array.from({ length: count }, () => rounded);
  // Exactly `needed` bits (at least 33 per prime), the larger primes first.
  const total = Math.max(needed, count * MIN_DATA_BITS);
  if (total > room) return undefined;
  const base = Math.floor(total / count);
  return Array.from({ length: count }, (_, i) => base + (i < total - base * count ? 1 : 0));
}

/**
 * Chooses parameters for the requested range, precision and number of contributions.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for bad options; `ERR_OVERFLOW` when the range
 * cannot be met at 128-bit security (the message says which limit)
 */
export function planVector(options: VectorOptions): VectorPlan {
  const scheme = aoneOf(options.scheme, ['ckks', 'bfv'] as const, 'scheme');
  const length = aint(options.length, 'length', 1, MAX_LENGTH);
  const k = aint(options.maxContributions ?? 1000, 'maxContributions', 1, MAX_CONTRIBUTIONS);
  const logK = Math.ceil(Math.log2(k + 1));
  const degrees =
    options.polyModulusDegree === undefined
      ? [4096, 8192, 16384, 32768]
      : [
          aoneOf(
            options.polyModulusDegree,
            [4096, 8192, 16384, 32768] as const,
            'polyModulusDegree',
          ),
        ];
  let bound: number | bigint;
  let plainBits = 0;
  let kappa = 0;
  let decryptions = 0;
  if (scheme === 'bfv') {
    const raw = options.valueBound ?? 1 << 16;
    if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'BFV valueBound must be an integer');
    }
    bound = BigInt(raw);
    if (bound < 1n || bound >= 1n << 62n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'BFV valueBound must be in [1, 2^62)');
    }
    if (
      options.precision !== undefined ||
      options.statisticalSecurity !== undefined ||
      options.maxDecryptions !== undefined
    ) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'BFV decrypts exactly: precision, statisticalSecurity and maxDecryptions are CKKS options',
      );
    }
    // t > 2Bk + 1: sums in [-Bk, Bk] decode centred.
    plainBits = Math.max(18, (2n * bound * BigInt(k) + 1n).toString(2).length + 1);
    if (plainBits > 60) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `BFV: values up to ${bound} summed ${k} times need a ${plainBits}-bit plain modulus; SEAL allows 60`,
        { details: { plainBits } },
      );
    }
  } else {
    bound = anumber(options.valueBound ?? 1, 'valueBound', Number.MIN_VALUE, 2 ** 40);
    kappa = aint(
      options.statisticalSecurity ?? DEFAULT_STATISTICAL_SECURITY,
      'statisticalSecurity',
      16,
      128,
    );
    decryptions = aint(
      options.maxDecryptions ?? DEFAULT_MAX_DECRYPTIONS,
      'maxDecryptions',
      1,
      2 ** 32 - 1,
    );
  }
  const precision =
    scheme === 'ckks' ? anumber(options.precision ?? 1e-6, 'precision', 2 ** -60, 1) : 0;
  let floor = 0; // CKKS: the error no scale removes (grid and floating point)
  for (const n of degrees) {
    const max = TC128_MAX_BITS[n]!;
    for (const special of [false, true]) {
      let needed: number;
      let scaleBits = 0;
      if (scheme === 'bfv') {
        needed = Math.ceil(plainBits + bfvNoiseBits(n, special) + logK + 2);
      } else {
        const noise = {
          polyModulusDegree: n,
          // The smallest special prime allowed: the bound holds for any larger one.
          specialBits: special ? MIN_SPECIAL_BITS : undefined,
          maxContributions: k,
          ciphertexts: Math.ceil(length / n), // two values per slot
          valueBound: bound as number,
          precision,
          statisticalSecurity: kappa,
          maxDecryptions: decryptions,
        };
        const bits = ckksScaleBits(noise);
        if (bits === undefined) {
          floor = ckksNoise({ ...noise, scaleBits: 0 }).parts.float;
          break;
        }
        scaleBits = bits;
        // q > 2 (scale * sqrt(2) B * k + rounding + noise): no sum wraps (a coefficient is at
        // most the largest slot |a + i b| <= sqrt(2) B times the scale); at least scale * 4.
        needed = scaleBits + Math.max(0, Math.ceil(Math.log2((bound as number) * k) + 0.5)) + 2;
      }
      const data = special
        ? dataPrimes(needed, max - MIN_SPECIAL_BITS)
        : needed <= 60
          ? dataPrimes(needed, Math.min(60, max))
          : undefined;
      if (data === undefined) continue;
      const dataTotal = data.reduce((a, b) => a + b, 0);
      const primeBits = special ? [...data, Math.min(60, max - dataTotal)] : data;
      const errorBound =
        scheme === 'ckks'
          ? ckksNoise({
              polyModulusDegree: n,
              specialBits: special ? primeBits.at(-1)! : undefined,
              maxContributions: k,
              ciphertexts: Math.ceil(length / n), // two values per slot
              scaleBits,
              valueBound: bound as number,
              precision,
              statisticalSecurity: kappa,
              maxDecryptions: decryptions,
            }).errorBound
          : 0;
      return {
        scheme,
        length,
        maxContributions: k,
        polyModulusDegree: n,
        primeBits,
        levelPrimes: data.length,
        plainBits,
        scaleBits,
        valueBound: bound,
        precision,
        errorBound,
        statisticalSecurity: kappa,
        maxDecryptions: decryptions,
      };
    }
  }
  throw new UnseenError(
    'ERR_OVERFLOW',
    `no ${scheme.toUpperCase()} parameters at 128-bit security hold ${k} contributions of this range${
      scheme === 'ckks'
        ? ` at precision ${precision} with flooding for ${decryptions} decryptions at ${kappa}-bit statistical security${
            floor > 0 ? ` (doubles alone round sums of ${(bound as number) * k} by ${floor})` : ''
          }`
        : ''
    }`,
  );
}

/** Public parameters: what contributors and the aggregator need, and the public key. */
export interface VectorParams {
  scheme: VectorScheme;
  length: number;
  maxContributions: number;
  polyModulusDegree: number;
  /** All primes; the first `levelPrimes` form the data level. */
  coeffModulus: bigint[];
  levelPrimes: number;
  plainModulus: bigint;
  scaleBits: number;
  valueBound: number | bigint;
  /** CKKS: the requested precision (0 for BFV). */
  precision: number;
  errorBound: number;
  /** CKKS: kappa of the decryption flooding (0 for BFV). */
  statisticalSecurity: number;
  /** CKKS: decryptions the flooding is sized for (0 for BFV: no limit). */
  maxDecryptions: number;
  /** SEAL public key (seeded serialization). */
  publicKey: Uint8Array;
  /** SHA-256 of the encoded parameters: carried by every contribution. */
  hash: Uint8Array;
  /** Values per ciphertext. */
  slots: number;
  /** Ciphertexts per contribution. */
  ciphertexts: number;
  /** Bytes per coefficient of each data prime. */
  primeBytes: number[];
  /** Bytes of a contribution or sum. */
  contributionBytes: number;
  /** CKKS: the error model and flooding of these parameters (undefined for BFV). */
  noise: CkksNoise | undefined;
}

/**
 * Wire version of vector-aggregation messages. 2: CKKS parameters carry the precision, the
 * flooding's statistical security and decryption budget; contributions may be signed. 3: CKKS
 * packs two values per slot (N per ciphertext), and its error bound counts that.
 */
export const VECTOR_VERSION = 3;
/** Message types. */
export const TYPE_PARAMS = 0x01;
export const TYPE_CONTRIBUTION = 0x02;
export const TYPE_SUM = 0x03;
/** A contribution signed by its contributor (see `signed.ts`). */
export const TYPE_SIGNED = 0x04;
const SCHEME_CODE: Record<VectorScheme, number> = { ckks: 1, bfv: 2 };
/** Header of a contribution: version, type, hash (32), count u32, id (16), padding (2). */
export const CONTRIBUTION_HEADER_BYTES = 56;

function u64(w: ByteWriter, x: bigint): void {
  w.u32(Number(x >> 32n)).u32(Number(x & 0xffffffffn));
}

function readU64(r: ByteReader, field: string): bigint {
  const hi = r.u32(`${field} high`);
  const lo = r.u32(`${field} low`);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Derived sizes of a parameter set. */
export function deriveLayout(
  n: number,
  length: number,
  coeffModulus: readonly bigint[],
  levelPrimes: number,
): Pick<VectorParams, 'slots' | 'ciphertexts' | 'primeBytes' | 'contributionBytes'> {
  // BFV: one value per slot; CKKS: two per slot (real and imaginary part).
  const slots = n;
  const ciphertexts = Math.ceil(length / slots);
  const primeBytes = coeffModulus
    .slice(0, levelPrimes)
    .map((q) => Math.ceil(q.toString(2).length / 8));
  const perCoefficient = primeBytes.reduce((a, b) => a + b, 0);
  return {
    slots,
    ciphertexts,
    primeBytes,
    contributionBytes: CONTRIBUTION_HEADER_BYTES + ciphertexts * 2 * n * perCoefficient,
  };
}

/**
 * Encodes public parameters:
 * `version | 0x01 | scheme | length u32 | maxContributions u32 | N u32 | primes u8 |
 * levelPrimes u8 | primes (u64 each) | plain modulus u64 | scaleBits u8 | bound (f64 | u64) |
 * precision f64 | errorBound f64 | statisticalSecurity u8 | maxDecryptions u32 |
 * public key (u32-prefixed)`.
 */
export function encodeVectorParams(
  p: Omit<
    VectorParams,
    'hash' | 'slots' | 'ciphertexts' | 'primeBytes' | 'contributionBytes' | 'noise'
  >,
): Uint8Array {
  const w = new ByteWriter(64 + p.publicKey.length)
    .u8(VECTOR_VERSION)
    .u8(TYPE_PARAMS)
    .u8(SCHEME_CODE[p.scheme])
    .u32(p.length)
    .u32(p.maxContributions)
    .u32(p.polyModulusDegree)
    .u8(p.coeffModulus.length)
    .u8(p.levelPrimes);
  for (const q of p.coeffModulus) u64(w, q);
  u64(w, p.plainModulus);
  w.u8(p.scaleBits);
  if (p.scheme === 'ckks') w.f64(p.valueBound as number);
  else u64(w, p.valueBound as bigint);
  w.f64(p.precision).f64(p.errorBound).u8(p.statisticalSecurity).u32(p.maxDecryptions);
  w.varBytes(p.publicKey);
  return w.finish();
}

const decoded = new WeakMap<Uint8Array, VectorParams>();

/**
 * Decodes and validates public parameters (cached per byte array).
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNSUPPORTED_VERSION`
 */
export function decodeVectorParams(bytes: Uint8Array): VectorParams {
  const cached = decoded.get(bytes);
  if (cached !== undefined) return cached;
  if (!(bytes instanceof Uint8Array)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'public parameters must be a Uint8Array');
  }
  const r = new ByteReader(bytes, 'vector parameters');
  const version = r.u8('version');
  if (version !== VECTOR_VERSION) {
    throw new UnseenError('ERR_UNSUPPORTED_VERSION', `vector parameters version ${version}`);
  }
  ensureWellFormed(r.u8('type') === TYPE_PARAMS, 'vector parameters: wrong message type');
  const code = r.u8('scheme');
  const scheme: VectorScheme | undefined = code === 1 ? 'ckks' : code === 2 ? 'bfv' : undefined;
  ensureWellFormed(scheme !== undefined, `vector parameters: unknown scheme ${code}`);
  const length = r.u32('length');
  const maxContributions = r.u32('maxContributions');
  const n = r.u32('polyModulusDegree');
  const count = r.u8('prime count');
  const levelPrimes = r.u8('level primes');
  ensureWellFormed(length >= 1 && length <= MAX_LENGTH, 'vector parameters: bad length');
  ensureWellFormed(
    maxContributions >= 1 && maxContributions <= MAX_CONTRIBUTIONS,
    'vector parameters: bad maxContributions',
  );
  ensureWellFormed(TC128_MAX_BITS[n] !== undefined, `vector parameters: unsupported N ${n}`);
  ensureWellFormed(
    count >= 1 &&
      count <= 16 &&
      levelPrimes >= 1 &&
      levelPrimes <= count &&
      (count === 1 ? levelPrimes === 1 : levelPrimes === count - 1),
    'vector parameters: bad prime counts',
  );
  const coeffModulus: bigint[] = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const q = readU64(r, `prime ${i}`);
    const bits = q.toString(2).length;
    ensureWellFormed(
      q % BigInt(2 * n) === 1n && bits <= 60 && (i >= levelPrimes || bits >= 33),
      `vector parameters: prime ${i} is not a valid SEAL prime for N = ${n}`,
    );
    total += bits;
    coeffModulus.push(q);
  }
  ensureWellFormed(total <= TC128_MAX_BITS[n]!, 'vector parameters: below 128-bit security');
  const dataBits = coeffModulus.slice(0, levelPrimes).reduce((a, q) => a + q.toString(2).length, 0);
  const plainModulus = readU64(r, 'plain modulus');
  const scaleBits = r.u8('scale bits');
  let valueBound: number | bigint;
  if (scheme === 'bfv') {
    ensureWellFormed(
      plainModulus > 2n &&
        plainModulus < 1n << 60n &&
        plainModulus % BigInt(2 * n) === 1n &&
        scaleBits === 0,
      'vector parameters: bad BFV plain modulus',
    );
    valueBound = readU64(r, 'value bound');
    ensureWellFormed(
      valueBound >= 1n && 2n * valueBound * BigInt(maxContributions) < plainModulus,
      'vector parameters: value bound does not fit the plain modulus',
    );
  } else {
    ensureWellFormed(
      plainModulus === 0n && scaleBits >= 20 && scaleBits + 2 <= dataBits,
      'vector parameters: bad CKKS scale',
    );
    valueBound = r.f64('value bound');
    ensureWellFormed(
      Number.isFinite(valueBound) && valueBound > 0 && valueBound <= 2 ** 40,
      'vector parameters: bad value bound',
    );
  }
  const precision = r.f64('precision');
  const errorBound = r.f64('error bound');
  const statisticalSecurity = r.u8('statistical security');
  const maxDecryptions = r.u32('max decryptions');
  const publicKey = r.varBytes('public key', 2 * count * n * 8 + 4096);
  r.end();
  const layout = deriveLayout(n, length, coeffModulus, levelPrimes);
  let noise: CkksNoise | undefined;
  if (scheme === 'bfv') {
    ensureWellFormed(
      precision === 0 && errorBound === 0 && statisticalSecurity === 0 && maxDecryptions === 0,
      'vector parameters: BFV carries no precision, error bound or flooding',
    );
  } else {
    ensureWellFormed(
      Number.isFinite(precision) &&
        precision >= 2 ** -60 &&
        precision <= 1 &&
        statisticalSecurity >= 16 &&
        statisticalSecurity <= 128 &&
        maxDecryptions >= 1,
      'vector parameters: bad CKKS precision or flooding',
    );
    // The error bound is recomputed, never trusted: published parameters cannot overstate it.
    noise = ckksNoise({
      polyModulusDegree: n,
      specialBits: count > levelPrimes ? coeffModulus.at(-1)!.toString(2).length : undefined,
      maxContributions,
      ciphertexts: layout.ciphertexts,
      scaleBits,
      valueBound: valueBound as number,
      precision,
      statisticalSecurity,
      maxDecryptions,
    });
    // Equal up to the last bits a different engine's log2 or pow may round differently.
    ensureWellFormed(
      Math.abs(errorBound - noise.errorBound) <= 1e-12 * noise.errorBound &&
        errorBound <= precision,
      'vector parameters: the error bound does not follow from the parameters',
    );
  }
  const params: VectorParams = {
    scheme,
    length,
    maxContributions,
    polyModulusDegree: n,
    coeffModulus,
    levelPrimes,
    plainModulus,
    scaleBits,
    valueBound,
    precision,
    errorBound,
    statisticalSecurity,
    maxDecryptions,
    publicKey,
    hash: sha256(bytes),
    ...layout,
    noise,
  };
  decoded.set(bytes, params);
  return params;
}
