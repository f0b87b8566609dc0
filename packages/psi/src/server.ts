/**
 * The server side of ECDH PSI (Meadows 1986; Huberman, Franklin and Hogg 1999), in the
 * unbalanced "setup + OPRF" shape of psi.js / Chen-Laine-Rindal: with its secret key k the server
 *
 * - setup: evaluates F(x) = [k]H(x) on its own items, derives PRF tags and publishes them
 *   compressed (once, for every client), with the sealed labels or encrypted values of the mode;
 * - respond: raises each of the client's blinded elements [r]H(y) to k and returns [k][r]H(y),
 *   in request order, or shuffled in the cardinality and sum modes so that the client cannot tell
 *   which of its elements matched.
 *
 * The server learns the number of elements in each request and nothing else about them.
 * @module
 */
import {
  aint,
  anumber,
  aoneOf,
  ByteReader,
  ByteWriter,
  bytesToHex,
  decodeMessage,
  newSessionId,
  randomBytes,
  SESSION_ID_BYTES,
  shuffle,
  UnseenError,
} from '@unseen/core';
import { bloomFilter, buildGcs, encodeGcs } from './filter.js';
import { ELEMENT_BYTES, isValidKey, newKey, SUITE_IDS, SUITES, type SuiteName } from './group.js';
import { type Item, isWellFormed, pack, toItemSet } from './items.js';
import { frameLabel, LABEL_FRAME, sealLabels } from './labels.js';
import { type ComputeOptions, hashItems, multiplyElements } from './parallel.js';
import {
  encodeSetup,
  FILTERS,
  type FilterKind,
  gcsRange,
  LABEL_SALT_BYTES,
  type SetupData,
} from './setup.js';
import {
  checkValues,
  createSumServerState,
  type SumServerState,
  type SumValue,
  sumDecryptQuery,
  sumSetupExtras,
} from './sum.js';
import {
  type Chunk,
  decodeChunk,
  encodeChunk,
  MODES,
  MSG,
  PSI_VERSION,
  type PsiMode,
} from './wire.js';

/** Options of {@link PsiServer.create}. */
export interface PsiServerOptions<M extends PsiMode = PsiMode> extends ComputeOptions {
  /** The server's set: strings (UTF-8) or bytes; duplicates are removed. */
  items: readonly Item[];
  /** What the client learns (default `'intersection'`). */
  mode?: M;
  /** Group suite (default `'x25519'`). */
  suite?: SuiteName;
  /**
   * Probability that a client with up to `maxClientItems` elements sees any false positive
   * (default 1e-9). Labels and sum modes verify matches, so there it only costs work.
   */
  fpr?: number;
  /** Largest client set the setup is sized for (default: the server's set size, at least 1). */
  maxClientItems?: number;
  /** Setup filter (default `'gcs'`; `'bloom'` only for intersection and cardinality). */
  filter?: FilterKind;
  /** labels mode: one label per item (same order as `items`), any length. */
  labels?: readonly (string | Uint8Array)[];
  /** labels mode: pad every label to this many bytes (default: the longest label). */
  labelBytes?: number;
  /** sum mode: one non-negative integer per item (same order as `items`). */
  values?: readonly SumValue[];
  /** sum mode: Paillier modulus bits (default 3072, i.e. 128-bit security; 2048 for 112-bit). */
  paillierBits?: number;
  /**
   * The output of {@link PsiServer.exportSecret} of an earlier server over the same items and
   * options: the new server has the same key and setup id, so clients holding the earlier setup
   * keep working (a restart, or a second replica).
   */
  secret?: Uint8Array;
}

/** Sessions a sum-mode server remembers between response and sum query. */
const MAX_PENDING_SUMS = 1024;

/**
 * Client set sizes one answer accepts, checked from the request's declared total before any
 * element is evaluated: e.g. a minimum cohort, so that a tiny query set cannot single out a
 * record, or the exact size a client announced. Unlike `maxClientItems` of the setup, they may
 * differ from one client to the next.
 */
export interface ClientItemLimits {
  /** Smallest accepted client set (default 0). */
  minClientItems?: number;
  /** Largest accepted client set (default: what the setup allows). */
  maxClientItems?: number;
}

/** A PSI server: computes its setup once and answers any number of client requests. */
export class PsiServer<M extends PsiMode = PsiMode> {
  /** Group suite. */
  readonly suite: SuiteName;
  /** Mode. */
  readonly mode: M;
  /** Identifier of this server's setup; responses carry it. */
  readonly setupId: Uint8Array;
  /** Number of distinct items. */
  readonly size: number;
  readonly #key: Uint8Array;
  readonly #items: Uint8Array[];
  readonly #labels: (string | Uint8Array)[] | undefined;
  readonly #labelBytes: number;
  readonly #values: bigint[] | undefined;
  readonly #fpr: number;
  readonly #maxClientItems: number;
  readonly #filter: FilterKind;
  readonly #compute: ComputeOptions;
  readonly #sum: SumServerState | undefined;
  #setup: Promise<Uint8Array> | undefined;

  private constructor(init: {
    suite: SuiteName;
    mode: M;
    key: Uint8Array;
    setupId: Uint8Array;
    items: Uint8Array[];
    labels: (string | Uint8Array)[] | undefined;
    labelBytes: number;
    values: bigint[] | undefined;
    fpr: number;
    maxClientItems: number;
    filter: FilterKind;
    compute: ComputeOptions;
    sum: SumServerState | undefined;
  }) {
    this.suite = init.suite;
    this.mode = init.mode;
    this.setupId = init.setupId;
    this.size = init.items.length;
    this.#key = init.key;
    this.#items = init.items;
    this.#labels = init.labels;
    this.#labelBytes = init.labelBytes;
    this.#values = init.values;
    this.#fpr = init.fpr;
    this.#maxClientItems = init.maxClientItems;
    this.#filter = init.filter;
    this.#compute = init.compute;
    this.#sum = init.sum;
  }

  /**
   * Validates the options, removes duplicate items and draws the secret key. The setup is
   * computed on the first call to {@link PsiServer.setup}.
   * @throws UnseenError `ERR_INVALID_ARGUMENT`
   * @example
   * ```ts
   * const server = await PsiServer.create({ items: ['alice', 'bob'], fpr: 1e-9 });
   * const setup = await server.setup(); // publish once
   * ```
   */
  static async create<M extends PsiMode = 'intersection'>(
    options: PsiServerOptions<M>,
  ): Promise<PsiServer<M>> {
    if (typeof options !== 'object' || options === null) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'PsiServer.create: expected an options object');
    }
    const mode = aoneOf(options.mode ?? 'intersection', MODES, 'mode') as M;
    const suite = aoneOf(options.suite ?? 'x25519', SUITES, 'suite');
    const filter = aoneOf(options.filter ?? 'gcs', FILTERS, 'filter');
    if (filter === 'bloom' && (mode === 'labels' || mode === 'sum')) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `mode ${mode} needs filter 'gcs' (labels and values are indexed by it)`,
      );
    }
    const fpr = anumber(options.fpr ?? 1e-9, 'fpr', Number.MIN_VALUE, 0.5);
    const set = toItemSet(options.items);
    const restored =
      options.secret === undefined ? undefined : parseSecret(options.secret, suite, mode);
    const maxClientItems = aint(
      options.maxClientItems ?? Math.max(1, set.items.length),
      'maxClientItems',
      1,
      2 ** 28,
    );
    gcsRange(fpr, maxClientItems); // raises early when the per-lookup rate is out of range
    let labels: (string | Uint8Array)[] | undefined;
    let labelBytes = 0;
    if (mode === 'labels') {
      labels = alignPerItem(
        options.labels,
        options.items.length,
        set,
        'labels',
        (l, i) => {
          if (typeof l === 'string' ? !isWellFormed(l) : !(l instanceof Uint8Array)) {
            throw new UnseenError(
              'ERR_INVALID_ARGUMENT',
              `labels[${i}]: expected a well-formed string or a Uint8Array`,
            );
          }
          return l;
        },
        labelEqual,
      );
      const longest = labels.reduce((m, l) => Math.max(m, labelLength(l)), 0);
      labelBytes = aint(options.labelBytes ?? longest, 'labelBytes', longest, 2 ** 24);
    } else if (options.labels !== undefined) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `labels are only used in mode 'labels', not '${mode}'`,
      );
    }
    let values: bigint[] | undefined;
    let sum: SumServerState | undefined;
    if (mode === 'sum') {
      values = alignPerItem(
        options.values,
        options.items.length,
        set,
        'values',
        toValue,
        (a, b) => a === b,
      );
      sum = await createSumServerState(options.paillierBits, restored?.paillier);
      checkValues(sum, values);
    } else if (options.values !== undefined) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `values are only used in mode 'sum', not '${mode}'`,
      );
    }
    const key = restored?.key ?? newKey(suite);
    const setupId = restored?.setupId ?? newSessionId();
    const compute: ComputeOptions = {};
    if (options.pool !== undefined) compute.pool = options.pool;
    if (options.signal !== undefined) compute.signal = options.signal;
    return new PsiServer<M>({
      suite,
      mode,
      key,
      setupId,
      items: set.bytes,
      labels,
      labelBytes,
      values,
      fpr,
      maxClientItems,
      filter,
      compute,
      sum,
    });
  }

  /**
   * The server's secret (suite, setup id and key; in sum mode also the Paillier secret key), for
   * {@link PsiServerOptions.secret}. Whoever holds it can evaluate the server's PRF: store it
   * like a private key.
   */
  exportSecret(): Uint8Array {
    const w = new ByteWriter(64)
      .u8(SECRET_VERSION)
      .u8(SUITE_IDS[this.suite])
      .bytes(this.setupId)
      .bytes(this.#key);
    if (this.#sum !== undefined) w.varBytes(this.#sum.privateKey.toBytes());
    return w.finish();
  }

  /**
   * The setup: computed on the first call (the expensive part: one hash and one exponentiation
   * per item, spread over the pool), then returned again and again. Publish it to every client.
   */
  setup(): Promise<Uint8Array> {
    this.#setup ??= this.#buildSetup().catch((e: unknown) => {
      this.#setup = undefined; // a failed (e.g. aborted) build may be retried
      throw e;
    });
    return this.#setup;
  }

  async #buildSetup(): Promise<Uint8Array> {
    const n = this.#items.length;
    const { elements, tags } = await hashItems(
      this.suite,
      this.#key,
      this.#items,
      true,
      this.#compute,
    );
    const s: SetupData = {
      setupId: this.setupId,
      suite: this.suite,
      mode: this.mode,
      filter: this.#filter,
      entries: n,
      maxClientItems: this.#maxClientItems,
      fpr: this.#fpr,
      filterBytes: new Uint8Array(0),
    };
    if (this.#filter === 'bloom') {
      const { bits, probes, filter } = bloomFilter(tags!, this.#fpr / this.#maxClientItems);
      s.bloomBits = bits;
      s.bloomProbes = probes;
      s.filterBytes = filter;
      return encodeSetup(s);
    }
    const m = gcsRange(this.#fpr, this.#maxClientItems);
    const { gcs, order } = buildGcs(tags!, n, m);
    s.gcsRange = m;
    s.filterBytes = encodeGcs(gcs);
    if (this.mode === 'labels') {
      const frame = LABEL_FRAME + this.#labelBytes;
      const plains = new Uint8Array(n * frame);
      const sortedItems: Uint8Array[] = new Array(n);
      const sortedElements = new Uint8Array(n * ELEMENT_BYTES);
      for (let j = 0; j < n; j++) {
        const i = order[j]!;
        plains.set(frameLabel(this.#labels![i]!, this.#labelBytes), j * frame);
        sortedItems[j] = this.#items[i]!;
        sortedElements.set(
          elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES),
          j * ELEMENT_BYTES,
        );
      }
      const { data, offsets } = pack(sortedItems);
      s.labelFrameBytes = frame;
      s.labelSalt = randomBytes(LABEL_SALT_BYTES); // fresh per build: no key seals twice
      s.sealedLabels = await sealLabels(
        sortedElements,
        data,
        offsets,
        plains,
        frame,
        this.setupId,
        s.labelSalt,
      );
    }
    if (this.mode === 'sum') {
      Object.assign(
        s,
        await sumSetupExtras(this.#sum!, this.#values!, tags!, order, this.#compute),
      );
    }
    return encodeSetup(s);
  }

  /**
   * Answers one message: a whole request (one chunk) or, in sum mode, a sum query.
   * @param limits the client set sizes this answer accepts (e.g. a policy's minimum cohort)
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_PARAMETER_MISMATCH` (suite, mode, too many
   * elements), `ERR_POLICY_DENIED` (a set size outside `limits`), `ERR_INVALID_POINT`,
   * `ERR_UNEXPECTED_MESSAGE` (a chunk of a multi-chunk request: use
   * {@link PsiServer.respondChunks}), `ERR_SESSION_MISMATCH` (sum query of an unknown session)
   */
  async respond(message: Uint8Array, limits: ClientItemLimits = {}): Promise<Uint8Array> {
    const type = peekType(message);
    if (type === MSG.sumQuery) return this.#answerSum(message);
    const chunk = this.#checkChunk(decodeChunk(MSG.request, message), limits);
    if (chunk.count !== 1 || chunk.elements.length / ELEMENT_BYTES !== chunk.total) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        'respond: this request has several chunks; pass them all to respondChunks',
      );
    }
    const out = await this.#evaluate(chunk.elements);
    this.#remember(chunk);
    return encodeChunk(MSG.response, { ...chunk, setupId: this.setupId, elements: out });
  }

  /**
   * Answers a request sent as several chunks (large sets, streaming). Intersection and labels
   * answer chunk by chunk; cardinality and sum collect the whole request first, so that one
   * shuffle hides every position.
   * @throws UnseenError as {@link PsiServer.respond}, and `ERR_MALFORMED_MESSAGE` for chunks out
   * of order, of another session, or missing at the end
   */
  async *respondChunks(
    requests: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    limits: ClientItemLimits = {},
  ): AsyncGenerator<Uint8Array> {
    const shuffled = this.mode === 'cardinality' || this.mode === 'sum';
    let head: Chunk | undefined;
    let next = 0;
    let covered = 0;
    const held: Uint8Array[] = [];
    const sizes: number[] = [];
    for await (const message of requests) {
      const chunk = this.#checkChunk(decodeChunk(MSG.request, message, head?.session), limits);
      if (head === undefined) head = chunk;
      const n = chunk.elements.length / ELEMENT_BYTES;
      if (
        chunk.total !== head.total ||
        chunk.count !== head.count ||
        chunk.index !== next ||
        chunk.first !== covered
      ) {
        throw new UnseenError(
          'ERR_MALFORMED_MESSAGE',
          `request: chunk ${chunk.index} does not continue chunk ${next - 1}`,
        );
      }
      next++;
      covered += n;
      const out = await this.#evaluate(chunk.elements, false);
      if (shuffled) {
        held.push(out);
        sizes.push(n);
      } else {
        yield encodeChunk(MSG.response, { ...chunk, setupId: this.setupId, elements: out });
      }
      if (next === head.count) break;
    }
    if (head === undefined || next !== head.count || covered !== head.total) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        'request: chunks missing at the end of the stream',
      );
    }
    this.#remember(head);
    if (!shuffled) return;
    const all = shuffleElements(concat(held, covered));
    let first = 0;
    for (let index = 0; index < sizes.length; index++) {
      const n = sizes[index]!;
      yield encodeChunk(MSG.response, {
        ...head,
        index,
        first,
        setupId: this.setupId,
        elements: all.subarray(first * ELEMENT_BYTES, (first + n) * ELEMENT_BYTES),
      });
      first += n;
    }
  }

  #checkChunk(chunk: Chunk, limits: ClientItemLimits): Chunk {
    if (chunk.suite !== this.suite || chunk.mode !== this.mode) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `request for ${chunk.suite}/${chunk.mode}, this server runs ${this.suite}/${this.mode}`,
      );
    }
    if (chunk.total > this.#maxClientItems) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `request of ${chunk.total} elements, the setup is sized for ${this.#maxClientItems}`,
        { details: { total: chunk.total, maxClientItems: this.#maxClientItems } },
      );
    }
    const min = aint(limits.minClientItems ?? 0, 'minClientItems', 0);
    const max = aint(limits.maxClientItems ?? Number.MAX_SAFE_INTEGER, 'maxClientItems', 0);
    if (chunk.total < min || chunk.total > max) {
      // Refused before any element is evaluated.
      throw new UnseenError(
        'ERR_POLICY_DENIED',
        `request of ${chunk.total} elements; this answer accepts ${min === max ? `exactly ${min}` : `${min} to ${max}`}`,
        { details: { reason: 'client-items-out-of-range', total: chunk.total, min, max } },
      );
    }
    return chunk;
  }

  async #evaluate(elements: Uint8Array, mayShuffle = true): Promise<Uint8Array> {
    const { elements: out } = await multiplyElements(
      this.suite,
      this.#key,
      elements,
      false,
      this.#compute,
    );
    return mayShuffle && (this.mode === 'cardinality' || this.mode === 'sum')
      ? shuffleElements(out)
      : out;
  }

  #remember(chunk: Chunk): void {
    if (this.#sum === undefined) return;
    const pending = this.#sum.pending;
    if (pending.size >= MAX_PENDING_SUMS) pending.delete(pending.keys().next().value!);
    pending.set(bytesToHex(chunk.session), chunk.total);
  }

  async #answerSum(message: Uint8Array): Promise<Uint8Array> {
    if (this.#sum === undefined) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        `a sum query, but this server runs mode ${this.mode}`,
      );
    }
    return sumDecryptQuery(this.#sum, message, this.setupId);
  }
}

function peekType(message: Uint8Array): number {
  return decodeMessage(message, { version: PSI_VERSION }).type;
}

function concat(parts: Uint8Array[], count: number): Uint8Array {
  const out = new Uint8Array(count * ELEMENT_BYTES);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A uniformly random permutation of 32-byte elements (core's Fisher-Yates). */
function shuffleElements(elements: Uint8Array): Uint8Array {
  const n = elements.length / ELEMENT_BYTES;
  const perm = shuffle(Array.from({ length: n }, (_, i) => i));
  const out = new Uint8Array(elements.length);
  for (let i = 0; i < n; i++) {
    out.set(
      elements.subarray(perm[i]! * ELEMENT_BYTES, (perm[i]! + 1) * ELEMENT_BYTES),
      i * ELEMENT_BYTES,
    );
  }
  return out;
}

function labelLength(l: string | Uint8Array): number {
  return typeof l === 'string' ? new TextEncoder().encode(l).length : l.length;
}

function labelEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function toValue(v: unknown, i: number): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'bigint' && v >= 0n) return v;
  throw new UnseenError(
    'ERR_INVALID_ARGUMENT',
    `values[${i}]: expected a non-negative safe integer or bigint`,
  );
}

/** Picks the per-item option of every kept item; duplicates must agree. */
function alignPerItem<V, W>(
  given: readonly V[] | undefined,
  length: number,
  set: { source: number[]; of: number[] },
  what: string,
  convert: (v: V, i: number) => W,
  equal: (a: W, b: W) => boolean,
): W[] {
  if (!Array.isArray(given) || given.length !== length) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${what}: expected an array with one entry per item (${length})`,
    );
  }
  const out = set.source.map((i) => convert(given[i]!, i));
  for (let i = 0; i < length; i++) {
    const j = set.of[i]!;
    if (set.source[j] !== i && !equal(convert(given[i]!, i), out[j]!)) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `${what}[${i}]: item ${i} repeats item ${set.source[j]} with a different ${what === 'labels' ? 'label' : 'value'}`,
      );
    }
  }
  return out;
}

const SECRET_VERSION = 1;

/** Parses an exported secret and checks it fits the suite. */
function parseSecret(
  secret: Uint8Array,
  suite: SuiteName,
  mode: PsiMode,
): { setupId: Uint8Array; key: Uint8Array; paillier?: Uint8Array } {
  if (!(secret instanceof Uint8Array)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'secret: expected the bytes of exportSecret()');
  }
  const r = new ByteReader(secret, 'secret');
  if (r.u8('version') !== SECRET_VERSION)
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'secret: unknown version');
  if (r.u8('suite') !== SUITE_IDS[suite]) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `secret: exported by a server of another suite than ${suite}`,
    );
  }
  const setupId = r.bytes(SESSION_ID_BYTES, 'setup id').slice();
  const key = r.bytes(32, 'key').slice();
  const paillier = mode === 'sum' ? r.varBytes('Paillier private key').slice() : undefined;
  r.end();
  if (!isValidKey(suite, key))
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'secret: not a valid key');
  return paillier === undefined ? { setupId, key } : { setupId, key, paillier };
}
