/**
 * The aggregator: adds encrypted contributions one at a time into one accumulator and hands out
 * the encrypted sum. It holds no key and never sees a value: its arithmetic is coefficient-wise
 * addition modulo the public primes (what SEAL's `add` does at one level), done on the wire form
 * directly, so it needs no SEAL object and its memory does not grow with the contributions.
 *
 * Two modes. Plain: it adds contributions and its count is what `result()` claims; a key holder
 * that trusts that count trusts the aggregator (the semi-honest model). Signed (`context` set):
 * it adds only contributions signed for that context, each signer once (and, with
 * `contributors`, only registered signers), so that its count is a count of distinct
 * authenticated contributors; the key holder's `openRound` is this mode with its own registry,
 * which is how a key holder counts for itself.
 * @module
 */
import {
  aint,
  aoneOf,
  bytesToHex,
  ED25519_PUBLIC_BYTES,
  equalBytes,
  UnseenError,
} from '@unseen/core';
import {
  CONTRIBUTION_HEADER_BYTES,
  decodeVectorParams,
  TYPE_CONTRIBUTION,
  TYPE_SIGNED,
  TYPE_SUM,
  type VectorParams,
} from './seal/params.js';
import { createCoefficientSums, type Sums } from './seal/simd-sums.js';
import { decodeContribution, encodeContributionHeader } from './seal/wire.js';
import { acontext, digest, verifySignedContribution } from './signed.js';

/** Options of {@link Aggregator.create}. */
export interface AggregatorOptions {
  /** `result()` refuses sums of fewer contributions (default 1). */
  minContributions?: number;
  /** Refuse more than this many (default and upper limit: the parameters' maxContributions). */
  maxContributions?: number;
  /**
   * `reject` (default): a contribution whose ciphertext was already added (a replay, with or
   * without a new id) raises `ERR_REPLAY`. `allow`: accept it (it then counts twice). Signed mode
   * always rejects.
   */
  duplicates?: 'reject' | 'allow';
  /**
   * Signed mode: accept only contributions signed (`signContribution`) for this context, one per
   * signer.
   */
  context?: Uint8Array;
  /** Signed mode: the Ed25519 public keys allowed to contribute (default: any signer). */
  contributors?: readonly Uint8Array[];
}

/** A registry of Ed25519 public keys as a set of hex strings. */
export function contributorSet(keys: readonly Uint8Array[]): Set<string> {
  if (!Array.isArray(keys)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'contributors: expected an array of public keys');
  }
  const set = new Set<string>();
  for (const k of keys) {
    if (!(k instanceof Uint8Array) || k.length !== ED25519_PUBLIC_BYTES) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'contributors: 32-byte Ed25519 public keys');
    }
    set.add(bytesToHex(k));
  }
  return set;
}

/**
 * Sums encrypted contributions.
 * @example
 * ```ts
 * const aggregator = await Aggregator.create(holder.publicParams, { minContributions: 3 });
 * for (const c of contributions) aggregator.add(c);
 * const encryptedSum = aggregator.result();
 * ```
 */
export class Aggregator {
  readonly #params: VectorParams;
  readonly #sums: Sums;
  readonly #min: number;
  readonly #max: number;
  /** SHA-256 of every ciphertext body added (duplicate detection), unless duplicates are allowed. */
  readonly #seen: Set<string> | undefined;
  readonly #context: Uint8Array | undefined;
  readonly #registry: Set<string> | undefined;
  readonly #signers = new Set<string>();

  private constructor(params: VectorParams, options: AggregatorOptions) {
    this.#params = params;
    this.#min = aint(options.minContributions ?? 1, 'minContributions', 1, params.maxContributions);
    this.#max = aint(
      options.maxContributions ?? params.maxContributions,
      'maxContributions',
      this.#min,
      params.maxContributions,
    );
    const dup = aoneOf(options.duplicates ?? 'reject', ['reject', 'allow'] as const, 'duplicates');
    this.#context = options.context === undefined ? undefined : acontext(options.context).slice();
    this.#registry =
      options.contributors === undefined ? undefined : contributorSet(options.contributors);
    if (this.#registry !== undefined && this.#context === undefined) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'contributors need a context (signed mode)');
    }
    this.#seen = dup === 'reject' || this.#context !== undefined ? new Set() : undefined;
    this.#sums = createCoefficientSums(params);
  }

  /**
   * @param publicParams the key holder's public parameters
   * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_MALFORMED_MESSAGE` (bad parameters)
   */
  static async create(
    publicParams: Uint8Array,
    options: AggregatorOptions = {},
  ): Promise<Aggregator> {
    return new Aggregator(decodeVectorParams(publicParams), options);
  }

  /** Contributions added so far (in signed mode: distinct signers). */
  get count(): number {
    return this.#sums.count;
  }

  /**
   * Validates a contribution (parameters, size, every coefficient reduced, not a duplicate,
   * room left; in signed mode the context, the signature, the signer) and adds it. On any error
   * nothing changes.
   * @throws UnseenError `ERR_PARAMETER_MISMATCH`, `ERR_MALFORMED_MESSAGE`,
   * `ERR_UNSUPPORTED_VERSION`, `ERR_UNEXPECTED_MESSAGE` (a sum; a signed contribution in plain
   * mode or an unsigned one in signed mode), `ERR_REPLAY` (a ciphertext already added; a signer
   * already counted), `ERR_OVERFLOW` (more than maxContributions), `ERR_SESSION_MISMATCH`
   * (signed for another context), `ERR_INTEGRITY` (bad signature), `ERR_UNAUTHORIZED` (a signer
   * not among `contributors`)
   */
  add(contribution: Uint8Array): void {
    let inner = contribution;
    let signer: string | undefined;
    if (this.#context !== undefined) {
      const v = verifySignedContribution(this.#params, contribution);
      if (!equalBytes(v.context, this.#context)) {
        throw new UnseenError(
          'ERR_SESSION_MISMATCH',
          'the contribution was signed for another context',
        );
      }
      signer = bytesToHex(v.signer);
      if (this.#registry !== undefined && !this.#registry.has(signer)) {
        throw new UnseenError('ERR_UNAUTHORIZED', 'the signer is not a registered contributor');
      }
      if (this.#signers.has(signer)) {
        throw new UnseenError('ERR_REPLAY', 'this contributor was already counted in this context');
      }
      inner = v.contribution;
    } else if (contribution instanceof Uint8Array && contribution[1] === TYPE_SIGNED) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        'a signed contribution: create the aggregator with its context',
      );
    }
    const msg = decodeContribution(this.#params, inner, TYPE_CONTRIBUTION);
    if (this.#sums.count >= this.#max) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `already ${this.#sums.count} contributions; the parameters allow ${this.#max}`,
      );
    }
    // The whole ciphertext body: a replay with a new id, or a copy under another signer.
    const key = this.#seen === undefined ? '' : bytesToHex(digest(msg.body));
    if (this.#seen?.has(key)) {
      throw new UnseenError('ERR_REPLAY', 'this contribution was already added');
    }
    this.#sums.accept(msg.body, 1); // every coefficient below its prime, then added
    this.#seen?.add(key);
    if (signer !== undefined) this.#signers.add(signer);
  }

  /**
   * The encrypted sum of everything added so far (a snapshot: adding may continue).
   * @throws UnseenError `ERR_POLICY_DENIED` below minContributions
   */
  result(): Uint8Array {
    const count = this.#sums.count;
    if (count < this.#min) {
      throw new UnseenError(
        'ERR_POLICY_DENIED',
        `${count} contributions; at least ${this.#min} are required before the sum is released`,
        { details: { count, min: this.#min } },
      );
    }
    const out = new Uint8Array(this.#params.contributionBytes);
    encodeContributionHeader(this.#params, TYPE_SUM, count, out);
    this.#sums.write(out.subarray(CONTRIBUTION_HEADER_BYTES));
    return out;
  }
}
