/**
 * The key holder (the analyst): chooses parameters for the requested range, generates the SEAL
 * keys, publishes `publicParams`, and decrypts aggregate sums, never single contributions.
 *
 * Two ways to get a sum decrypted, with different guarantees:
 * - `decrypt(sum)`: a sum made by an aggregator. Its count is the aggregator's claim, written in
 *   a header nobody authenticates: a malicious aggregator can relabel one contribution as a sum,
 *   or add encryptions of zero it made itself. So a key holder with `minContributions` above 1
 *   decrypts such sums only when told to trust the aggregator (`trustAggregatorCount`: the
 *   semi-honest model), and never when it has registered contributors.
 * - `openRound(context)`: the key holder adds the contributions itself (adding is cheap; it
 *   needs no secret), each signed by a registered contributor for this context, counts distinct
 *   signers and decrypts once per context, so that no two decrypted sums can be subtracted.
 *
 * CKKS decryptions are noise-flooded and rounded (see `seal/noise.ts`), within a budget of
 * `maxDecryptions`; BFV decryptions are exact.
 * @module
 */
import { aint, bytesToHex, UnseenError } from '@unseen/core';
import { Aggregator, contributorSet } from './aggregator.js';
import { batchingPrime, choosePrimes, SealSession } from './seal/adapter.js';
import { type CkksNoise, floodingNoise, roundToGrid } from './seal/noise.js';
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
import { acontext } from './signed.js';

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
  /** CKKS: the requested precision (0 for BFV). */
  precision: number;
  /**
   * CKKS: proven largest absolute error of a decrypted sum of up to maxContributions honest
   * contributions, flooding and rounding included; BFV: 0.
   */
  errorBound: number;
  /** CKKS: statistical security kappa of the flooded decryption (0 for BFV). */
  statisticalSecurity: number;
  /** CKKS: decryptions the key holder may make (0 for BFV: no limit). */
  maxDecryptions: number;
  /** CKKS: the error model and flooding (undefined for BFV). */
  flooding: CkksNoise | undefined;
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
    precision: p.precision,
    errorBound: p.errorBound,
    statisticalSecurity: p.statisticalSecurity,
    maxDecryptions: p.maxDecryptions,
    flooding: p.noise,
    ciphertexts: p.ciphertexts,
    contributionBytes: p.contributionBytes,
    bytesPerValue: p.contributionBytes / p.length,
  };
}

/** Who may contribute, and how the key holder counts. */
export interface KeyHolderPolicy {
  /** Refuse to decrypt sums of fewer contributions (default 1). */
  minContributions?: number;
  /**
   * Ed25519 public keys of the registered contributors. With a registry the key holder decrypts
   * only rounds it summed itself (`openRound`), never an aggregator's `decrypt(sum)`.
   */
  contributors?: readonly Uint8Array[];
  /**
   * Accept the aggregator's count in `decrypt(sum)` when minContributions is above 1 (default
   * false): only where the aggregator is trusted to follow the protocol (semi-honest).
   */
  trustAggregatorCount?: boolean;
}

/** Options of {@link createKeyHolder}. */
export interface KeyHolderOptions<S extends VectorScheme = VectorScheme>
  extends VectorOptions,
    KeyHolderPolicy {
  scheme: S;
}

/** Options of {@link restoreKeyHolder}: the policy, and the state the key carries. */
export interface RestoreOptions extends KeyHolderPolicy {
  /** CKKS decryptions this key has already made (its flooding budget is per key). */
  decryptionsUsed?: number;
  /** Contexts this key has already decrypted a round of (`holder.decryptedContexts()`). */
  decryptedContexts?: readonly Uint8Array[];
}

/**
 * One aggregation the key holder sums itself: signed contributions in, one decryption out.
 */
export interface DecryptionRound<S extends VectorScheme = VectorScheme> {
  readonly context: Uint8Array;
  /** Distinct registered contributors added so far. */
  readonly count: number;
  /**
   * Verifies and adds a signed contribution. On any error nothing changes.
   * @throws UnseenError `ERR_INTEGRITY` (signature), `ERR_UNAUTHORIZED` (not registered),
   * `ERR_REPLAY` (signer or ciphertext already added), `ERR_SESSION_MISMATCH` (another
   * context), `ERR_MALFORMED_MESSAGE`, `ERR_PARAMETER_MISMATCH`, `ERR_OVERFLOW`,
   * `ERR_INVALID_STATE` (after `decrypt`)
   */
  add(signedContribution: Uint8Array): void;
  /**
   * Decrypts the sum of what was added, once.
   * @throws UnseenError `ERR_POLICY_DENIED` (fewer than minContributions), `ERR_REPLAY` (this
   * context was already decrypted), `ERR_BUDGET_EXHAUSTED`, `ERR_INVALID_STATE`
   */
  decrypt(): Promise<VectorValues<S>>;
}

/** The analyst's side. */
export interface KeyHolder<S extends VectorScheme = VectorScheme> {
  /** Public key and parameters: give them to contributors and the aggregator. */
  readonly publicParams: Uint8Array;
  /** What the parameters promise (range, error bound, sizes, flooding). */
  readonly info: VectorParamsInfo;
  /** CKKS decryptions made so far (0 for BFV). */
  readonly decryptionsUsed: number;
  /** CKKS decryptions left in the budget (Infinity for BFV). */
  readonly decryptionsLeft: number;
  /** The SEAL secret key (secret: store it encrypted if at all). */
  exportSecretKey(): Uint8Array;
  /** Contexts already decrypted through {@link openRound} (store them with the key). */
  decryptedContexts(): Uint8Array[];
  /**
   * Decrypts a sum made by an aggregator (see the module note for what that trusts).
   * @throws UnseenError `ERR_PARAMETER_MISMATCH`, `ERR_MALFORMED_MESSAGE`,
   * `ERR_UNEXPECTED_MESSAGE` (a single contribution), `ERR_POLICY_DENIED` (fewer than
   * minContributions; a count this key holder does not trust), `ERR_BUDGET_EXHAUSTED` (CKKS),
   * `ERR_OVERFLOW` (BFV noise exhausted)
   */
  decrypt(encryptedSum: Uint8Array): Promise<VectorValues<S>>;
  /**
   * Starts a round that this key holder sums itself from contributions signed for `context`
   * (1 to 64 bytes) by registered contributors.
   * @throws UnseenError `ERR_INVALID_STATE` (no registered contributors), `ERR_REPLAY` (the
   * context was decrypted before), `ERR_INVALID_ARGUMENT`
   */
  openRound(context: Uint8Array): Promise<DecryptionRound<S>>;
  /** Frees the SEAL objects. Decrypting afterwards raises `ERR_INVALID_STATE`. */
  dispose(): void;
}

class SealKeyHolder<S extends VectorScheme> implements KeyHolder<S> {
  readonly publicParams: Uint8Array;
  readonly info: VectorParamsInfo;
  readonly #params: VectorParams;
  readonly #session: SealSession;
  readonly #secretKey: Uint8Array;
  readonly #min: number;
  readonly #registry: readonly Uint8Array[] | undefined;
  readonly #trustCount: boolean;
  readonly #contexts: Map<string, Uint8Array>;
  #used: number;

  constructor(
    publicParams: Uint8Array,
    session: SealSession,
    secretKey: Uint8Array,
    options: RestoreOptions,
  ) {
    this.publicParams = publicParams;
    this.#params = decodeVectorParams(publicParams);
    this.info = infoOf(this.#params);
    this.#session = session;
    this.#secretKey = secretKey;
    this.#min = aint(
      options.minContributions ?? 1,
      'minContributions',
      1,
      this.#params.maxContributions,
    );
    if (options.contributors !== undefined) {
      if (contributorSet(options.contributors).size < this.#min) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `${options.contributors.length} registered contributors cannot reach minContributions ${this.#min}`,
        );
      }
      this.#registry = options.contributors.map((k) => k.slice());
    }
    this.#trustCount = options.trustAggregatorCount === true;
    const budget = this.#params.maxDecryptions;
    this.#used = aint(options.decryptionsUsed ?? 0, 'decryptionsUsed', 0, budget || 0);
    this.#contexts = new Map();
    for (const c of options.decryptedContexts ?? []) {
      this.#contexts.set(bytesToHex(acontext(c)), c.slice());
    }
  }

  get decryptionsUsed(): number {
    return this.#used;
  }

  get decryptionsLeft(): number {
    return this.#params.scheme === 'ckks'
      ? this.#params.maxDecryptions - this.#used
      : Number.POSITIVE_INFINITY;
  }

  exportSecretKey(): Uint8Array {
    return this.#secretKey.slice();
  }

  decryptedContexts(): Uint8Array[] {
    return [...this.#contexts.values()].map((c) => c.slice());
  }

  async decrypt(encryptedSum: Uint8Array): Promise<VectorValues<S>> {
    if (this.#registry !== undefined) {
      throw new UnseenError(
        'ERR_POLICY_DENIED',
        'this key holder has registered contributors: it decrypts only rounds it sums itself (openRound)',
      );
    }
    const msg = decodeContribution(this.#params, encryptedSum, TYPE_SUM);
    if (this.#min > 1 && !this.#trustCount) {
      throw new UnseenError(
        'ERR_POLICY_DENIED',
        `the count of an aggregator's sum is unauthenticated: to enforce minContributions ${this.#min}, sum signed contributions with openRound, or set trustAggregatorCount for a semi-honest aggregator`,
      );
    }
    if (msg.count < this.#min) {
      throw new UnseenError(
        'ERR_POLICY_DENIED',
        `the sum holds ${msg.count} contributions; this key holder decrypts ${this.#min} or more`,
        { details: { count: msg.count, min: this.#min } },
      );
    }
    return this.#decryptBody(msg.body);
  }

  async openRound(context: Uint8Array): Promise<DecryptionRound<S>> {
    const registry = this.#registry;
    if (registry === undefined) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        'openRound needs registered contributors (createKeyHolder({ contributors }))',
      );
    }
    const ctx = acontext(context).slice();
    const key = bytesToHex(ctx);
    if (this.#contexts.has(key)) {
      throw new UnseenError('ERR_REPLAY', 'a round of this context was already decrypted');
    }
    const aggregator = await Aggregator.create(this.publicParams, {
      context: ctx,
      contributors: registry,
    });
    let done = false;
    const holder = this;
    return {
      context: ctx,
      get count() {
        return aggregator.count;
      },
      add(signedContribution: Uint8Array): void {
        if (done) throw new UnseenError('ERR_INVALID_STATE', 'this round was decrypted');
        aggregator.add(signedContribution);
      },
      async decrypt(): Promise<VectorValues<S>> {
        if (done) throw new UnseenError('ERR_INVALID_STATE', 'this round was decrypted');
        if (holder.#contexts.has(key)) {
          throw new UnseenError('ERR_REPLAY', 'a round of this context was already decrypted');
        }
        if (aggregator.count < holder.#min) {
          throw new UnseenError(
            'ERR_POLICY_DENIED',
            `${aggregator.count} registered contributors; this key holder decrypts ${holder.#min} or more`,
            { details: { count: aggregator.count, min: holder.#min } },
          );
        }
        holder.#checkBudget();
        // Consumed before the first await: no second round of this context can start decrypting.
        holder.#contexts.set(key, ctx);
        done = true;
        const sum = decodeContribution(holder.#params, aggregator.result(), TYPE_SUM);
        return holder.#decryptBody(sum.body);
      },
    };
  }

  #checkBudget(): void {
    if (this.#params.scheme === 'ckks' && this.#used >= this.#params.maxDecryptions) {
      throw new UnseenError(
        'ERR_BUDGET_EXHAUSTED',
        `this CKKS key has made its ${this.#params.maxDecryptions} decryptions: the noise flooding that protects it was sized for that many`,
      );
    }
  }

  async #decryptBody(body: Uint8Array): Promise<VectorValues<S>> {
    const p = this.#params;
    this.#checkBudget();
    const words = unpackWords(p, body);
    const noise = p.noise;
    const { values } = this.#session.decryptWords(
      words,
      p.ciphertexts,
      p.length,
      2 ** p.scaleBits,
      noise === undefined ? undefined : (count) => floodingNoise(count, noise),
    );
    if (noise === undefined) return values as VectorValues<S>;
    this.#used++; // counted before anything is released
    return roundToGrid(values as Float64Array, noise.gridExponent) as VectorValues<S>;
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
 * holder.info.errorBound; // proven largest error of a decrypted sum, flooding included
 * ```
 */
export async function createKeyHolder<S extends VectorScheme>(
  options: KeyHolderOptions<S>,
): Promise<KeyHolder<S>> {
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
      precision: plan.precision,
      errorBound: plan.errorBound,
      statisticalSecurity: plan.statisticalSecurity,
      maxDecryptions: plan.maxDecryptions,
      publicKey: keys.publicKey,
    });
    session.usePublicKey(keys.publicKey);
    session.useSecretKey(keys.secretKey);
    return new SealKeyHolder<S>(publicParams, session, keys.secretKey, {
      ...(options.minContributions === undefined
        ? {}
        : { minContributions: options.minContributions }),
      ...(options.contributors === undefined ? {} : { contributors: options.contributors }),
      ...(options.trustAggregatorCount === undefined
        ? {}
        : { trustAggregatorCount: options.trustAggregatorCount }),
    });
  } catch (e) {
    session.dispose();
    throw e;
  }
}

/**
 * Restores a key holder from its public parameters and exported secret key. Pass the state the
 * key carries (`decryptionsUsed`, `decryptedContexts`): a restored CKKS key that forgets its
 * decryptions gets a fresh flooding budget it was not sized for.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` when the key does not load
 */
export async function restoreKeyHolder<S extends VectorScheme = VectorScheme>(
  publicParams: Uint8Array,
  secretKey: Uint8Array,
  options: RestoreOptions = {},
): Promise<KeyHolder<S>> {
  const p = decodeVectorParams(publicParams);
  const session = await sessionFor(p);
  try {
    session.usePublicKey(p.publicKey);
    session.useSecretKey(secretKey);
    return new SealKeyHolder<S>(publicParams, session, new Uint8Array(secretKey), options);
  } catch (e) {
    session.dispose();
    throw e;
  }
}
