/**
 * The aggregator: adds encrypted contributions one at a time into one accumulator and hands out
 * the encrypted sum. It holds no key and never sees a value: its arithmetic is coefficient-wise
 * addition modulo the public primes (what SEAL's `add` does at one level), done on the wire form
 * directly, so it needs no SEAL object and its memory does not grow with the contributions.
 * @module
 */
import { aint, aoneOf, UnseenError } from '@unseen/core';
import {
  CONTRIBUTION_HEADER_BYTES,
  decodeVectorParams,
  TYPE_CONTRIBUTION,
  TYPE_SUM,
  type VectorParams,
} from './seal/params.js';
import { CoefficientSums, decodeContribution, encodeContributionHeader } from './seal/wire.js';

/** Options of {@link Aggregator.create}. */
export interface AggregatorOptions {
  /** `result()` refuses sums of fewer contributions (default 1). */
  minContributions?: number;
  /** Refuse more than this many (default and upper limit: the parameters' maxContributions). */
  maxContributions?: number;
  /**
   * `reject` (default): a contribution whose ciphertext was already added (a replay, with or
   * without a new id) raises `ERR_REPLAY`. `allow`: accept it (it then counts twice).
   */
  duplicates?: 'reject' | 'allow';
}

/** Key of a contribution for duplicate detection: the first 32 bytes of its ciphertext data. */
function duplicateKey(body: Uint8Array): string {
  const w = new Uint16Array(body.buffer, body.byteOffset, 16);
  return String.fromCharCode(...w);
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
  readonly #sums: CoefficientSums;
  readonly #min: number;
  readonly #max: number;
  readonly #seen: Set<string> | undefined;

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
    this.#seen = dup === 'reject' ? new Set() : undefined;
    this.#sums = new CoefficientSums(params);
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

  /** Contributions added so far. */
  get count(): number {
    return this.#sums.count;
  }

  /**
   * Validates a contribution (parameters, size, every coefficient reduced, not a duplicate,
   * room left) and adds it. On any error nothing changes.
   * @throws UnseenError `ERR_PARAMETER_MISMATCH`, `ERR_MALFORMED_MESSAGE`,
   * `ERR_UNSUPPORTED_VERSION`, `ERR_UNEXPECTED_MESSAGE`, `ERR_REPLAY`, `ERR_OVERFLOW` (more
   * than maxContributions)
   */
  add(contribution: Uint8Array): void {
    const msg = decodeContribution(this.#params, contribution, TYPE_CONTRIBUTION);
    if (this.#sums.count >= this.#max) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `already ${this.#sums.count} contributions; the parameters allow ${this.#max}`,
      );
    }
    const key = this.#seen === undefined ? '' : duplicateKey(msg.body);
    if (this.#seen?.has(key)) {
      throw new UnseenError('ERR_REPLAY', 'this contribution was already added');
    }
    this.#sums.validate(msg.body); // every coefficient below its prime
    this.#sums.add(msg.body, 1);
    this.#seen?.add(key);
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
