/**
 * The key holder (the analyst): chooses parameters for the requested range, generates the SEAL
 * keys, publishes `publicParams`, and decrypts aggregate sums, never single contributions.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { batchingPrime, choosePrimes, SealSession } from './seal/adapter.js';
import {
  decodeVectorParams,
  encodeVectorParams,
  planVector,
  TYPE_SUM,
  type VectorOptions,
  type VectorParams,
  type VectorScheme,
} from './seal/params.js';
import { decodeContribution, unpackWords } from './seal/wire.js';

/** Decrypted values: Float64Array for CKKS, BigInt64Array for BFV. */
export type VectorValues<S extends VectorScheme> = S extends 'ckks' ? Float64Array : BigInt64Array;

/** What the parameters promise, for display and checks. */
export interface VectorParamsInfo {
  scheme: VectorScheme;
  length: number;
  maxContributions: number;
  polyModulusDegree: number;
  /** Bits of each prime of the coefficient modulus (data primes first). */
  primeBits: number[];
  /** Primes a ciphertext carries (its level). */
  levelPrimes: number;
  /** BFV plain modulus t (0n for CKKS). */
  plainModulus: bigint;
  /** CKKS scale bits (0 for BFV). */
  scaleBits: number;
  valueBound: number | bigint;
  /** CKKS: largest absolute error of a decrypted sum of maxContributions; BFV: 0. */
  errorBound: number;
  /** Ciphertexts per contribution. */
  ciphertexts: number;
  /** Bytes of one contribution on the wire. */
  contributionBytes: number;
  /** Bytes per value on the wire. */
  bytesPerValue: number;
}

/** A summary of public parameters. */
export function describeParams(publicParams: Uint8Array): VectorParamsInfo {
  const p = decodeVectorParams(publicParams);
  return infoOf(p);
}

function infoOf(p: VectorParams): VectorParamsInfo {
  return {
    scheme: p.scheme,
    length: p.length,
    maxContributions: p.maxContributions,
    polyModulusDegree: p.polyModulusDegree,
    primeBits: p.coeffModulus.map((q) => q.toString(2).length),
    levelPrimes: p.levelPrimes,
    plainModulus: p.plainModulus,
    scaleBits: p.scaleBits,
    valueBound: p.valueBound,
    errorBound: p.errorBound,
    ciphertexts: p.ciphertexts,
    contributionBytes: p.contributionBytes,
    bytesPerValue: p.contributionBytes / p.length,
  };
}

/** Options of {@link createKeyHolder}. */
export interface KeyHolderOptions<S extends VectorScheme = VectorScheme> extends VectorOptions {
  scheme: S;
  /** Refuse to decrypt sums of fewer contributions (default 1). */
  minContributions?: number;
}

/** The analyst's side. */
export interface KeyHolder<S extends VectorScheme = VectorScheme> {
  /** Public key and parameters: give them to contributors and the aggregator. */
  readonly publicParams: Uint8Array;
  /** What the parameters promise (range, error bound, sizes). */
  readonly info: VectorParamsInfo;
  /** The SEAL secret key (secret: store it encrypted if at all). */
  exportSecretKey(): Uint8Array;
  /**
   * Decrypts an aggregate sum.
   * @throws UnseenError `ERR_PARAMETER_MISMATCH`, `ERR_MALFORMED_MESSAGE`,
   * `ERR_UNEXPECTED_MESSAGE` (a single contribution), `ERR_POLICY_DENIED` (fewer than
   * minContributions), `ERR_OVERFLOW` (BFV noise exhausted)
   */
  decrypt(encryptedSum: Uint8Array): Promise<VectorValues<S>>;
  /** Frees the SEAL objects. Decrypting afterwards raises `ERR_INVALID_STATE`. */
  dispose(): void;
}

class SealKeyHolder<S extends VectorScheme> implements KeyHolder<S> {
  readonly publicParams: Uint8Array;
  readonly info: VectorParamsInfo;
  readonly #params: VectorParams;
  readonly #session: SealSession;
  readonly #secretKey: Uint8Array;
  readonly #minContributions: number;

  constructor(
    publicParams: Uint8Array,
    session: SealSession,
    secretKey: Uint8Array,
    minContributions: number,
  ) {
    this.publicParams = publicParams;
    this.#params = decodeVectorParams(publicParams);
    this.info = infoOf(this.#params);
    this.#session = session;
    this.#secretKey = secretKey;
    this.#minContributions = minContributions;
  }

  exportSecretKey(): Uint8Array {
    return this.#secretKey.slice();
  }

  async decrypt(encryptedSum: Uint8Array): Promise<VectorValues<S>> {
    const p = this.#params;
    const msg = decodeContribution(p, encryptedSum, TYPE_SUM);
    if (msg.count < this.#minContributions) {
      throw new UnseenError(
        'ERR_POLICY_DENIED',
        `the sum holds ${msg.count} contributions; this key holder decrypts ${this.#minContributions} or more`,
        { details: { count: msg.count, min: this.#minContributions } },
      );
    }
    const words = unpackWords(p, msg.body);
    const { values } = this.#session.decryptWords(words, p.ciphertexts, p.length, 2 ** p.scaleBits);
    return values as VectorValues<S>;
  }

  dispose(): void {
    this.#session.dispose();
  }
}

async function sessionFor(p: VectorParams): Promise<SealSession> {
  return SealSession.create({
    scheme: p.scheme,
    polyModulusDegree: p.polyModulusDegree,
    coeffModulus: p.coeffModulus,
    plainModulus: p.plainModulus,
  });
}

/**
 * Creates a key holder: parameters for the range, fresh SEAL keys.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_OVERFLOW` (range not reachable at 128-bit
 * security; the message says which limit)
 * @example
 * ```ts
 * const holder = await createKeyHolder({ scheme: 'ckks', length: 1000, maxContributions: 100 });
 * holder.info.errorBound; // worst-case error of a decrypted sum
 * ```
 */
export async function createKeyHolder<S extends VectorScheme>(
  options: KeyHolderOptions<S>,
): Promise<KeyHolder<S>> {
  const minContributions = aint(options.minContributions ?? 1, 'minContributions', 1);
  const plan = planVector(options);
  const n = plan.polyModulusDegree;
  const coeffModulus = await choosePrimes(n, plan.primeBits);
  const plainModulus = plan.scheme === 'bfv' ? await batchingPrime(n, plan.plainBits) : 0n;
  const session = await SealSession.create({
    scheme: plan.scheme,
    polyModulusDegree: n,
    coeffModulus,
    plainModulus,
  });
  try {
    const keys = session.generateKeys();
    const publicParams = encodeVectorParams({
      scheme: plan.scheme,
      length: plan.length,
      maxContributions: plan.maxContributions,
      polyModulusDegree: n,
      coeffModulus,
      levelPrimes: plan.levelPrimes,
      plainModulus,
      scaleBits: plan.scaleBits,
      valueBound: plan.valueBound,
      errorBound: plan.errorBound,
      publicKey: keys.publicKey,
    });
    session.usePublicKey(keys.publicKey);
    session.useSecretKey(keys.secretKey);
    return new SealKeyHolder<S>(publicParams, session, keys.secretKey, minContributions);
  } catch (e) {
    session.dispose();
    throw e;
  }
}

/**
 * Restores a key holder from its public parameters and exported secret key.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` when the key does not load
 */
export async function restoreKeyHolder<S extends VectorScheme = VectorScheme>(
  publicParams: Uint8Array,
  secretKey: Uint8Array,
  options: { minContributions?: number } = {},
): Promise<KeyHolder<S>> {
  const minContributions = aint(options.minContributions ?? 1, 'minContributions', 1);
  const p = decodeVectorParams(publicParams);
  const session = await sessionFor(p);
  try {
    session.usePublicKey(p.publicKey);
    session.useSecretKey(secretKey);
    return new SealKeyHolder<S>(publicParams, session, new Uint8Array(secretKey), minContributions);
  } catch (e) {
    session.dispose();
    throw e;
  }
}
