/**
 * The client side of ECDH PSI: blind each element as [r]H(y) with a fresh secret r, let the
 * server raise the blinded elements to its key k, unblind with r^-1 to get F(y) = [k]H(y), and
 * look the PRF tags up in the server's setup. The server never sees H(y) (r is uniform and
 * secret); the client learns F only on its own elements (one-more Diffie-Hellman).
 * @module
 */
import { aint, aoneOf, equalBytes, newSessionId, UnseenError } from '@unseen/core';
import { ELEMENT_BYTES, newBlindingPair, SUITES, type SuiteName, TAG_BYTES } from './group.js';
import { type Item, type ItemSet, toItemSet } from './items.js';
import { openLabel, unframeLabel } from './labels.js';
import { type ComputeOptions, hashItems, multiplyElements } from './parallel.js';
import { decodeSetup, indexSetup, type SetupData, SUM_CHECK_BYTES } from './setup.js';
import { type SumClientState, sumFinish, sumQuery } from './sum.js';
import { decodeChunk, encodeChunk, MAX_CHUNK_ITEMS, MODES, MSG, type PsiMode } from './wire.js';

/** Options of {@link PsiClient.create}. */
export interface PsiClientOptions<M extends PsiMode = PsiMode, T extends Item = Item>
  extends ComputeOptions {
  /** The client's set: strings (UTF-8) or bytes; duplicates are removed. */
  items: readonly T[];
  /** Must equal the server's mode (default `'intersection'`). */
  mode?: M;
  /** Must equal the server's suite (default `'x25519'`). */
  suite?: SuiteName;
}

/** Result of `intersection` mode: the client's elements that the server holds, in input order. */
export interface IntersectionResult<T extends Item = Item> {
  intersection: T[];
}
/** Result of `cardinality` mode: only how many elements are shared. */
export interface CardinalityResult {
  cardinality: number;
}
/** Result of `labels` mode: the shared elements and the server's label of each. */
export interface LabelsResult<T extends Item = Item> {
  intersection: T[];
  /** `labels[i]` belongs to `intersection[i]`; a string where the server gave a string. */
  labels: (string | Uint8Array)[];
}
/** First result of `sum` mode: the cardinality, and the query that asks the server to unmask the sum. */
export interface SumPending {
  cardinality: number;
  /** Send to the server; pass its answer to {@link PsiClient.finishSum}. */
  sumQuery: Uint8Array;
}
/** Final result of `sum` mode. */
export interface SumResult {
  cardinality: number;
  /** Sum of the server's values over the intersection. */
  sum: bigint;
}

/** What {@link PsiClient.finish} returns in each mode. */
export type FinishResult<M extends PsiMode, T extends Item> = M extends 'intersection'
  ? IntersectionResult<T>
  : M extends 'cardinality'
    ? CardinalityResult
    : M extends 'labels'
      ? LabelsResult<T>
      : SumPending;

/** Default elements per request chunk in {@link PsiClient.requestChunks}: 2 MiB messages. */
export const DEFAULT_CHUNK_ITEMS = 65_536;

/** A PSI client: one session against one server. */
export class PsiClient<M extends PsiMode = PsiMode, T extends Item = Item> {
  /** Group suite. */
  readonly suite: SuiteName;
  /** Mode. */
  readonly mode: M;
  /** Session id carried by every message of this client. */
  readonly session: Uint8Array;
  /** Number of distinct elements. */
  readonly size: number;
  readonly #set: ItemSet<T>;
  readonly #blind: Uint8Array;
  readonly #unblind: Uint8Array;
  readonly #compute: ComputeOptions;
  #state: 'new' | 'requested' | 'awaiting-sum' | 'done' = 'new';
  #sum: SumClientState | undefined;

  private constructor(suite: SuiteName, mode: M, set: ItemSet<T>, compute: ComputeOptions) {
    this.suite = suite;
    this.mode = mode;
    this.session = newSessionId();
    this.size = set.items.length;
    this.#set = set;
    const { blind, unblind } = newBlindingPair(suite);
    this.#blind = blind;
    this.#unblind = unblind;
    this.#compute = compute;
  }

  /**
   * Validates the options, removes duplicates and draws the blinding scalar.
   * @throws UnseenError `ERR_INVALID_ARGUMENT`
   * @example
   * ```ts
   * const client = await PsiClient.create({ items: ['bob', 'carol'] });
   * const request = await client.request();
   * ```
   */
  static async create<M extends PsiMode = 'intersection', T extends Item = Item>(
    options: PsiClientOptions<M, T>,
  ): Promise<PsiClient<M, T>> {
    if (typeof options !== 'object' || options === null) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'PsiClient.create: expected an options object');
    }
    const mode = aoneOf(options.mode ?? 'intersection', MODES, 'mode') as M;
    const suite = aoneOf(options.suite ?? 'x25519', SUITES, 'suite');
    const set = toItemSet(options.items);
    const compute: ComputeOptions = {};
    if (options.pool !== undefined) compute.pool = options.pool;
    if (options.signal !== undefined) compute.signal = options.signal;
    return new PsiClient<M, T>(suite, mode, set, compute);
  }

  /** The whole request as one message (sets up to 2^20 elements). */
  async request(): Promise<Uint8Array> {
    if (this.size > MAX_CHUNK_ITEMS) {
      throw new UnseenError('ERR_INVALID_STATE', `${this.size} elements: use requestChunks()`);
    }
    let only: Uint8Array | undefined;
    for await (const chunk of this.requestChunks(Math.max(1, this.size))) only = chunk;
    return only!;
  }

  /**
   * The request as a stream of chunks of `chunkItems` elements, each computed when the consumer
   * asks for it (so sending one chunk overlaps with blinding the next).
   */
  async *requestChunks(chunkItems = DEFAULT_CHUNK_ITEMS): AsyncGenerator<Uint8Array> {
    aint(chunkItems, 'chunkItems', 1, MAX_CHUNK_ITEMS);
    if (this.#state !== 'new') throw new UnseenError('ERR_INVALID_STATE', 'request: already sent');
    this.#state = 'requested';
    const count = Math.max(1, Math.ceil(this.size / chunkItems));
    for (let index = 0; index < count; index++) {
      const first = index * chunkItems;
      const last = Math.min(this.size, first + chunkItems);
      const { elements } = await hashItems(
        this.suite,
        this.#blind,
        this.#set.bytes.slice(first, last),
        false,
        this.#compute,
      );
      yield encodeChunk(MSG.request, {
        session: this.session,
        suite: this.suite,
        mode: this.mode,
        total: this.size,
        index,
        count,
        first,
        elements,
      });
    }
  }

  /**
   * Unblinds the response and looks every element up in the setup.
   * @param setup the server's setup (see `PsiServer.setup`)
   * @param response the server's response, or its chunks in order
   * @throws UnseenError `ERR_PARAMETER_MISMATCH` (suite, mode, setup id, set larger than the
   * setup allows), `ERR_SESSION_MISMATCH`, `ERR_MALFORMED_MESSAGE` (truncated, extended,
   * counts that do not match the request), `ERR_INVALID_POINT`, `ERR_INVALID_STATE`. A failed
   * call changes nothing: it can be retried with the right messages.
   */
  async finish(
    setup: Uint8Array,
    response: Uint8Array | readonly Uint8Array[],
  ): Promise<FinishResult<M, T>> {
    if (this.#state !== 'requested') {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        `finish: expected a sent request, state is ${this.#state}`,
      );
    }
    const s = this.checkSetup(setup);
    const blinded = this.#collect(s, Array.isArray(response) ? response : [response as Uint8Array]);
    const { elements, tags } = await multiplyElements(
      this.suite,
      this.#unblind,
      blinded,
      true,
      this.#compute,
    );
    const index = indexSetup(s);
    const result = await this.#match(s, index, elements, tags!);
    if (this.mode === 'sum') {
      this.#state = 'awaiting-sum';
    } else {
      this.#state = 'done';
    }
    return result as FinishResult<M, T>;
  }

  /**
   * Decodes a setup and checks that it fits this client (suite, mode, set size), without
   * changing any state: a runner calls it as soon as the setup arrives, to fail early.
   * @throws UnseenError `ERR_PARAMETER_MISMATCH`, and the setup decoder's errors
   */
  checkSetup(setup: Uint8Array): SetupData {
    const s = decodeSetup(setup);
    if (s.suite !== this.suite || s.mode !== this.mode) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `setup is for ${s.suite}/${s.mode}, this client runs ${this.suite}/${this.mode}`,
      );
    }
    if (this.size > s.maxClientItems) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `the setup is sized for ${s.maxClientItems} client elements, this client has ${this.size}`,
      );
    }
    return s;
  }

  /**
   * sum mode: reads the server's answer to the sum query.
   * @throws UnseenError `ERR_INVALID_STATE`, `ERR_SESSION_MISMATCH`, `ERR_MALFORMED_MESSAGE`
   */
  async finishSum(answer: Uint8Array): Promise<SumResult> {
    if (this.#state !== 'awaiting-sum' || this.#sum === undefined) {
      throw new UnseenError('ERR_INVALID_STATE', 'finishSum: no sum query is pending');
    }
    const result = sumFinish(this.#sum, answer, this.session);
    this.#state = 'done';
    return result;
  }

  /** Checks the response chunks against the request and the setup; returns the elements in order. */
  #collect(s: SetupData, messages: readonly Uint8Array[]): Uint8Array {
    const out = new Uint8Array(this.size * ELEMENT_BYTES);
    let covered = 0;
    messages.forEach((m, i) => {
      const c = decodeChunk(MSG.response, m, this.session);
      if (c.suite !== this.suite || c.mode !== this.mode) {
        throw new UnseenError('ERR_PARAMETER_MISMATCH', `response for ${c.suite}/${c.mode}`);
      }
      if (!equalBytes(c.setupId!, s.setupId)) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          'the response belongs to another setup (server key)',
        );
      }
      if (
        c.total !== this.size ||
        c.count !== messages.length ||
        c.index !== i ||
        c.first !== covered
      ) {
        throw new UnseenError(
          'ERR_MALFORMED_MESSAGE',
          `response chunk ${i}: expected chunk ${i} of ${messages.length} from element ${covered} of ${this.size}`,
          { details: { total: c.total, index: c.index, count: c.count, first: c.first } },
        );
      }
      out.set(c.elements, covered * ELEMENT_BYTES);
      covered += c.elements.length / ELEMENT_BYTES;
    });
    if (covered !== this.size || (this.size === 0 && messages.length !== 1)) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        `response holds ${covered} elements, the request ${this.size}`,
      );
    }
    return out;
  }

  async #match(
    s: SetupData,
    index: ReturnType<typeof indexSetup>,
    elements: Uint8Array,
    tags: Uint8Array,
  ): Promise<IntersectionResult<T> | CardinalityResult | LabelsResult<T> | SumPending> {
    const n = this.size;
    if (this.mode === 'intersection') {
      const intersection: T[] = [];
      for (let i = 0; i < n; i++)
        if (index.lookup(tags, i).length > 0) intersection.push(this.#set.items[i]!);
      return { intersection };
    }
    if (this.mode === 'cardinality') {
      let cardinality = 0;
      for (let i = 0; i < n; i++) if (index.lookup(tags, i).length > 0) cardinality++;
      return { cardinality };
    }
    if (this.mode === 'labels') {
      const intersection: T[] = [];
      const labels: (string | Uint8Array)[] = [];
      const stride = s.labelFrameBytes! + 16;
      for (let i = 0; i < n; i++) {
        for (const pos of index.lookup(tags, i)) {
          const plain = await openLabel(
            elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES),
            this.#set.bytes[i]!,
            s.sealedLabels!.subarray(pos * stride, (pos + 1) * stride),
            s.setupId,
            s.labelSalt!,
          );
          if (plain === undefined) continue; // a filter false positive: the tag does not verify
          intersection.push(this.#set.items[i]!);
          labels.push(unframeLabel(plain));
          break;
        }
      }
      return { intersection, labels };
    }
    // sum: a match needs the 64-bit check value too; then its ciphertext joins the sum.
    const matched: number[] = [];
    for (let i = 0; i < n; i++) {
      for (const pos of index.lookup(tags, i)) {
        const check = s.checks!.subarray(pos * SUM_CHECK_BYTES, (pos + 1) * SUM_CHECK_BYTES);
        if (
          equalBytes(check, tags.subarray(i * TAG_BYTES + 16, i * TAG_BYTES + 16 + SUM_CHECK_BYTES))
        ) {
          matched.push(pos);
          break;
        }
      }
    }
    const { state, query } = await sumQuery(s, matched, this.session);
    this.#sum = state;
    return { cardinality: matched.length, sumQuery: query };
  }
}
