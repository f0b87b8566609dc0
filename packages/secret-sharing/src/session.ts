/**
 * `MpcSession`: n parties compute on additively shared vectors over Z_2^k (k = 64 by default),
 * connected pairwise by core `Channel`s, with a trusted dealer for multiplications. Every party
 * runs the same program (the same calls in the same order); each call that communicates is one
 * numbered step, and every message is checked against the step, the sender, the ring and the
 * length the receiver expects, in core's envelope, with a deadline on every wait.
 *
 * Values carry a fixed-point `scale` (fractional bits): integers have scale 0, `inputFixed`
 * gives scale f, a product adds scales, `truncate` / `rescale` lower them. Additions need equal
 * scales. `revealNumbers` divides by 2^scale.
 *
 * Failure: any error (a timeout, a bad message, an abort from a peer) ends the session for this
 * party: it sends `abort` to every peer and the dealer, then every later call raises
 * `ERR_INVALID_STATE`. A session never continues from a half-finished step.
 *
 * Security: semi-honest parties (they follow the protocol; any coalition of up to n - 1 learns
 * nothing beyond the revealed outputs) and a trusted dealer that colludes with no party and does
 * not see the openings between parties. Inputs are shared with seed-expanded (AES-128-CTR)
 * shares, so secrecy against the other parties is computational at 128 bits.
 * @module
 */
import {
  abytes,
  aint,
  aringBits,
  type Channel,
  decodeFixedPoint,
  encodeFixedPoint,
  isUnseenError,
  PRG_SEED_BYTES,
  type RingBits,
  randomBytes,
  ringAdd,
  ringAddInto,
  ringNegInto,
  ringSub,
  ringSubInto,
  SESSION_ID_BYTES,
  UnseenError,
  wordsPerElement,
} from '@unseen/core';
import { additive } from './additive.js';
import { beaverFinish, beaverMask } from './beaver.js';
import {
  asTriple,
  asTruncation,
  type CorrelationSpec,
  correctionWords,
  expandCorrelation,
} from './correlations.js';
import { DEFAULT_MAX_ELEMENTS } from './dealer.js';
import {
  decodeInput,
  decodeMaterial,
  decodeOpen,
  encodeAbort,
  encodeInput,
  encodeOpen,
  encodeRequest,
} from './mpc-messages.js';
import {
  aringVector,
  type RingConstant,
  ringAddConstInto,
  ringMulConstInto,
  ringSum,
} from './ring-arith.js';
import { checkShift, truncationFinish, truncationMask } from './truncation.js';

/** Options of {@link MpcSession.create}. */
export interface MpcSessionOptions {
  /** This party's index, 0..parties-1. */
  party: number;
  /** Number of parties n, 2..255. */
  parties: number;
  /** `peers[j]`: the channel to party j (`peers[party]` is unused). */
  peers: readonly (Channel | undefined)[];
  /** The channel to the trusted dealer; needed for `mul`, `mulFixed` and `truncate`. */
  dealer?: Channel | undefined;
  /** The 16-byte session id, the same for all parties and the dealer. */
  session: Uint8Array;
  /** Ring size (default 64). */
  bits?: RingBits;
  /** Fractional bits f of fixed-point values (default 16 for Z_2^64, 8 for Z_2^32). */
  fractionalBits?: number;
  /** Deadline of every wait in ms (default 30,000). */
  timeoutMs?: number;
  /** Longest vector accepted from a peer, in elements (default 2^24). */
  maxElements?: number;
}

/** A vector held in shares by the parties of one session. */
export class SharedVector {
  /** Elements (a Z_2^64 element takes two words). */
  readonly length: number;

  /** @internal Use the session's methods to make shared vectors. */
  constructor(
    /** The session that made it: vectors of different sessions never mix. */
    readonly sessionTag: object,
    readonly bits: RingBits,
    /** This party's share (ring words; do not modify). */
    readonly share: Uint32Array,
    /** Fixed-point fractional bits of the value (0 for integers). */
    readonly scale: number,
  ) {
    this.length = share.length / wordsPerElement(bits);
  }
}

/** Default fixed-point fractional bits for a ring. */
function defaultFractionalBits(bits: RingBits): number {
  return bits === 64 ? 16 : 8;
}

/**
 * One party's side of an n-party computation.
 * @example
 * ```ts
 * const s = MpcSession.create({ party, parties: 3, peers, dealer, session });
 * const x = await s.inputFixed(0, party === 0 ? [1.5, 2] : 2);   // party 0's vector
 * const y = await s.inputFixed(1, party === 1 ? [4, -1] : 2);    // party 1's vector
 * const z = await s.mulFixed(x, y);
 * console.log(await s.revealNumbers(z));                          // Float64Array [6, -2]
 * ```
 */
export class MpcSession {
  readonly party: number;
  readonly parties: number;
  readonly bits: RingBits;
  readonly fractionalBits: number;
  readonly timeoutMs: number | undefined;
  readonly maxElements: number;
  readonly #session: Uint8Array;
  readonly #peers: readonly (Channel | undefined)[];
  readonly #dealer: Channel | undefined;
  readonly #tag = {};
  #step = 0;
  #request = 0;
  #busy = false;
  #failure: UnseenError | undefined;

  private constructor(options: MpcSessionOptions) {
    this.parties = aint(options.parties, 'parties', 2, 255);
    this.party = aint(options.party, 'party', 0, this.parties - 1);
    this.bits = aringBits(options.bits ?? 64);
    this.fractionalBits = aint(
      options.fractionalBits ?? defaultFractionalBits(this.bits),
      'fractionalBits',
      0,
      this.bits - 2,
    );
    this.timeoutMs =
      options.timeoutMs === undefined
        ? undefined
        : aint(options.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
    this.maxElements = aint(options.maxElements ?? DEFAULT_MAX_ELEMENTS, 'maxElements', 1);
    this.#session = abytes(options.session, 'session', SESSION_ID_BYTES).slice();
    if (!Array.isArray(options.peers) || options.peers.length !== this.parties) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `peers: expected an array of ${this.parties} entries`,
      );
    }
    options.peers.forEach((c, j) => {
      if (
        j !== this.party &&
        (typeof c !== 'object' || c === null || typeof c.receive !== 'function')
      ) {
        throw new UnseenError('ERR_INVALID_ARGUMENT', `peers[${j}]: expected a Channel`);
      }
    });
    this.#peers = [...options.peers];
    this.#dealer = options.dealer;
  }

  /**
   * Validates the options and makes the session (no message is sent).
   * @throws UnseenError `ERR_INVALID_ARGUMENT`
   */
  static create(options: MpcSessionOptions): MpcSession {
    return new MpcSession(options);
  }

  /** The error that ended the session, if any. */
  get failure(): UnseenError | undefined {
    return this.#failure;
  }

  // ---- local operations (no communication) ----

  #check(v: SharedVector, title: string): SharedVector {
    if (!(v instanceof SharedVector) || v.sessionTag !== this.#tag) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: not a vector of this session`);
    }
    return v;
  }

  #pair(a: SharedVector, b: SharedVector, op: string): void {
    this.#check(a, op);
    this.#check(b, op);
    if (a.length !== b.length) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `${op}: vectors of ${a.length} and ${b.length} elements`,
      );
    }
  }

  #vector(share: Uint32Array, scale: number): SharedVector {
    return new SharedVector(this.#tag, this.bits, share, scale);
  }

  /** a + b (equal scales). */
  add(a: SharedVector, b: SharedVector): SharedVector {
    this.#pair(a, b, 'add');
    this.#sameScale(a, b, 'add');
    return this.#vector(ringAdd(this.bits, a.share, b.share), a.scale);
  }

  /** a - b (equal scales). */
  sub(a: SharedVector, b: SharedVector): SharedVector {
    this.#pair(a, b, 'sub');
    this.#sameScale(a, b, 'sub');
    return this.#vector(ringSub(this.bits, a.share, b.share), a.scale);
  }

  /** -a. */
  neg(a: SharedVector): SharedVector {
    this.#check(a, 'neg');
    return this.#vector(ringNegInto(this.bits, a.share.slice()), a.scale);
  }

  #sameScale(a: SharedVector, b: SharedVector, op: string): void {
    if (a.scale !== b.scale) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `${op}: fixed-point scales ${a.scale} and ${b.scale} differ`,
      );
    }
  }

  /**
   * a + c for a public constant in ring encoding at a's scale (a number or bigint for every
   * element, or a ring vector). Party 0 adds it.
   */
  addPublic(a: SharedVector, c: RingConstant | Uint32Array): SharedVector {
    this.#check(a, 'addPublic');
    const out = a.share.slice();
    if (this.party === 0) {
      if (c instanceof Uint32Array) {
        aringVector(this.bits, c, 'addPublic constant');
        if (c.length !== out.length)
          throw new UnseenError('ERR_PARAMETER_MISMATCH', 'addPublic: constant length');
        ringAddInto(this.bits, out, c);
      } else ringAddConstInto(this.bits, out, c);
    }
    return this.#vector(out, a.scale);
  }

  /**
   * c * a for a public integer constant. With `scale` g, c stands for c / 2^g and the result's
   * scale is a.scale + g (then `rescale` it), e.g. `mulPublic(s, Math.round(2 ** 24 / n), 24)`
   * to divide by n.
   */
  mulPublic(a: SharedVector, c: RingConstant, scale = 0): SharedVector {
    this.#check(a, 'mulPublic');
    aint(scale, 'scale', 0, this.bits - 2);
    const product = this.#productScale(a.scale + scale, 'mulPublic');
    return this.#vector(ringMulConstInto(this.bits, a.share.slice(), c), product);
  }

  /** Checks that a product's scale still leaves room in the ring: at most k - 2 bits. */
  #productScale(scale: number, op: string): number {
    if (scale > this.bits - 2) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `${op}: the product would have ${scale} fractional bits, more than the ring holds; rescale first`,
      );
    }
    return scale;
  }

  /** The sum of a's elements, a vector of one element. */
  sum(a: SharedVector): SharedVector {
    this.#check(a, 'sum');
    return this.#vector(ringSum(this.bits, a.share), a.scale);
  }

  /** Elements [start, end) of a. */
  slice(a: SharedVector, start: number, end = a.length): SharedVector {
    this.#check(a, 'slice');
    aint(start, 'start', 0, a.length);
    aint(end, 'end', start, a.length);
    const w = wordsPerElement(this.bits);
    return this.#vector(a.share.slice(start * w, end * w), a.scale);
  }

  /** The elements of a, then those of b (equal scales). */
  concat(a: SharedVector, b: SharedVector): SharedVector {
    this.#check(a, 'concat');
    this.#check(b, 'concat');
    this.#sameScale(a, b, 'concat');
    const out = new Uint32Array(a.share.length + b.share.length);
    out.set(a.share);
    out.set(b.share, a.share.length);
    return this.#vector(out, a.scale);
  }

  // ---- operations that communicate ----

  /**
   * Shares a vector owned by party `owner`: the owner passes its ring-encoded values, the others
   * pass the length. The owner sends each peer a 16-byte seed of its share.
   * @param scale the fixed-point scale of the values (default 0: integers)
   */
  input(owner: number, values: Uint32Array | number, scale = 0): Promise<SharedVector> {
    return this.#run('input', async () => {
      aint(owner, 'owner', 0, this.parties - 1);
      aint(scale, 'scale', 0, this.bits - 2);
      const step = ++this.#step;
      const w = wordsPerElement(this.bits);
      if (owner === this.party) {
        const x = aringVector(this.bits, values, 'input values');
        const length = x.length / w;
        this.#checkLength(length);
        const mine = x.slice();
        for (let j = 0; j < this.parties; j++) {
          if (j === owner) continue;
          const seed = randomBytes(PRG_SEED_BYTES);
          ringSubInto(this.bits, mine, await additive.expandSeed(seed, length, this.bits));
          await this.#peer(j).send(
            encodeInput(this.#session, step, owner, this.bits, length, seed),
          );
        }
        return this.#vector(mine, scale);
      }
      const length = aint(values, 'input length (the owner passes the values)', 0);
      this.#checkLength(length);
      const bytes = await this.#peer(owner).receive(this.#wait());
      const seed = decodeInput(bytes, {
        session: this.#session,
        step,
        from: owner,
        bits: this.bits,
        length,
      });
      return this.#vector(await additive.expandSeed(seed, length, this.bits), scale);
    });
  }

  /**
   * Shares reals owned by party `owner` in fixed point with the session's fractional bits
   * (scale f). The owner passes the values, the others the length.
   * @param clip values are clipped to [-clip, clip]; a clipped value raises `ERR_OVERFLOW`
   * (default 2^((k - 2 - 2f) / 2), so that any product of two inputs stays below 2^(k-2))
   */
  inputFixed(
    owner: number,
    values: ArrayLike<number> | number,
    clip?: number,
  ): Promise<SharedVector> {
    if (typeof values === 'number') return this.input(owner, values, this.fractionalBits);
    const params = {
      bits: this.bits,
      fractionalBits: this.fractionalBits,
      clip: clip ?? 2 ** ((this.bits - 2 - 2 * this.fractionalBits) / 2),
    };
    let encoded: Uint32Array;
    try {
      const e = encodeFixedPoint(values, params);
      if (e.clipped > 0) {
        throw new UnseenError(
          'ERR_OVERFLOW',
          `inputFixed: ${e.clipped} values lie outside [-clip, clip]`,
          {
            details: { clipped: e.clipped, clip: params.clip },
          },
        );
      }
      encoded = e.data;
    } catch (e) {
      // Fail the session, as any other error would, so that the peers do not wait in vain.
      return this.#run('inputFixed', () => Promise.reject(e));
    }
    return this.input(owner, encoded, this.fractionalBits);
  }

  /** Opens a vector to every party: the raw ring elements. */
  reveal(a: SharedVector): Promise<Uint32Array> {
    this.#check(a, 'reveal');
    return this.#run('reveal', () => this.#open(a.share));
  }

  /** Opens a vector and decodes it: signed values divided by 2^scale. */
  async revealNumbers(a: SharedVector): Promise<Float64Array> {
    const raw = await this.reveal(a);
    return decodeFixedPoint(raw, { bits: this.bits, fractionalBits: a.scale, clip: 1 });
  }

  /**
   * Opens a vector to party `to` only: it gets the ring elements, the others `undefined`.
   */
  revealTo(to: number, a: SharedVector): Promise<Uint32Array | undefined> {
    this.#check(a, 'revealTo');
    return this.#run('revealTo', async () => {
      aint(to, 'to', 0, this.parties - 1);
      const step = ++this.#step;
      if (to !== this.party) {
        await this.#peer(to).send(encodeOpen(this.#session, step, this.party, this.bits, a.share));
        return undefined;
      }
      return this.#gather(step, a.share);
    });
  }

  /** a * b element-wise with a Beaver triple (scales add). */
  mul(a: SharedVector, b: SharedVector): Promise<SharedVector> {
    this.#pair(a, b, 'mul');
    const scale = this.#productScale(a.scale + b.scale, 'mul');
    return this.#run('mul', async () => {
      const spec: CorrelationSpec = { kind: 'triple', bits: this.bits, length: a.length, shift: 0 };
      const triple = asTriple(await this.#material(spec));
      const opened = await this.#open(beaverMask(this.bits, a.share, b.share, triple));
      return this.#vector(beaverFinish(this.bits, this.party, triple, opened), scale);
    });
  }

  /**
   * floor(a / 2^m) or one more (probabilistic truncation: unbiased, never off by more than one
   * unit of the last place; requires |a| < 2^(k-2) as a ring integer). Lowers the scale by m.
   */
  truncate(a: SharedVector, m: number): Promise<SharedVector> {
    this.#check(a, 'truncate');
    return this.#run('truncate', async () => {
      checkShift(this.bits, m);
      if (m > a.scale) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `truncate: shift ${m} exceeds the scale ${a.scale}`,
        );
      }
      const spec: CorrelationSpec = {
        kind: 'truncation',
        bits: this.bits,
        length: a.length,
        shift: m,
      };
      const pair = asTruncation(await this.#material(spec));
      const opened = await this.#open(truncationMask(this.bits, this.party, a.share, pair));
      return this.#vector(truncationFinish(this.bits, this.party, m, opened, pair), a.scale - m);
    });
  }

  /** Truncates a down to `scale` fractional bits (no-op when already there). */
  async rescale(a: SharedVector, scale = this.fractionalBits): Promise<SharedVector> {
    this.#check(a, 'rescale');
    aint(scale, 'scale', 0, a.scale);
    return scale === a.scale ? a : this.truncate(a, a.scale - scale);
  }

  /**
   * Fixed-point product: Beaver multiplication, then truncation by f. The result has the scale
   * a.scale + b.scale - f. Valid while |a * b| < 2^(k-2) as ring integers, i.e. for real values
   * |a * b| < 2^(k - 2 - a.scale - b.scale).
   */
  async mulFixed(a: SharedVector, b: SharedVector): Promise<SharedVector> {
    return this.truncate(await this.mul(a, b), this.fractionalBits);
  }

  /** Tells every peer and the dealer that this party stops, and ends the session. */
  async abort(message = 'aborted by the application'): Promise<void> {
    if (this.#failure !== undefined) return;
    await this.#fail(new UnseenError('ERR_PROTOCOL_ABORTED', message));
  }

  // ---- machinery ----

  #wait(): { timeoutMs?: number } {
    return this.timeoutMs === undefined ? {} : { timeoutMs: this.timeoutMs };
  }

  #peer(j: number): Channel {
    return this.#peers[j]!;
  }

  #checkLength(length: number): void {
    if (length > this.maxElements) {
      throw new UnseenError(
        'ERR_MESSAGE_TOO_LARGE',
        `vector of ${length} elements exceeds maxElements`,
      );
    }
  }

  /** Sends this share to every peer, then adds theirs. */
  async #open(share: Uint32Array): Promise<Uint32Array> {
    const step = ++this.#step;
    const message = encodeOpen(this.#session, step, this.party, this.bits, share);
    await Promise.all(this.#others().map((j) => this.#peer(j).send(message)));
    return this.#gather(step, share);
  }

  async #gather(step: number, share: Uint32Array): Promise<Uint32Array> {
    // When one peer fails, stop waiting for the others (no timer outlives the failure).
    const stop = new AbortController();
    const received = await Promise.all(
      this.#others().map(async (j) => {
        try {
          const bytes = await this.#peer(j).receive({ ...this.#wait(), signal: stop.signal });
          return decodeOpen(bytes, {
            session: this.#session,
            step,
            from: j,
            bits: this.bits,
            words: share.length,
          });
        } catch (e) {
          stop.abort();
          throw e;
        }
      }),
    );
    const sum = share.slice();
    for (const r of received) ringAddInto(this.bits, sum, r);
    return sum;
  }

  #others(): number[] {
    const out: number[] = [];
    for (let j = 0; j < this.parties; j++) if (j !== this.party) out.push(j);
    return out;
  }

  async #material(spec: CorrelationSpec): Promise<Uint32Array[]> {
    const dealer = this.#dealer;
    if (dealer === undefined) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        'this session has no dealer channel: mul and truncate need one',
      );
    }
    this.#checkLength(spec.length);
    const request = ++this.#request;
    await dealer.send(encodeRequest(this.#session, request, this.party, this.parties, spec));
    const last = this.party === this.parties - 1;
    const { seed, correction } = decodeMaterial(await dealer.receive(this.#wait()), {
      session: this.#session,
      request,
      spec,
      correctionWords: last ? correctionWords(spec) : 0,
    });
    return expandCorrelation(spec, this.party, this.parties, seed, last ? correction : undefined);
  }

  /** Runs one communicating operation: one at a time, and any failure ends the session. */
  async #run<T>(op: string, body: () => Promise<T>): Promise<T> {
    if (this.#failure !== undefined) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        `${op}: the session has ended: ${this.#failure.message}`,
        {
          cause: this.#failure,
        },
      );
    }
    if (this.#busy) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        `${op}: another operation is running; await each call`,
      );
    }
    this.#busy = true;
    try {
      return await body();
    } catch (e) {
      const error = isUnseenError(e)
        ? e
        : new UnseenError('ERR_PROTOCOL_ABORTED', `${op} failed`, { cause: e });
      await this.#fail(error);
      throw error;
    } finally {
      this.#busy = false;
    }
  }

  async #fail(error: UnseenError): Promise<void> {
    this.#failure = error;
    // Tell everyone, unless the failure came from them (an abort we received needs no echo).
    if (error.code === 'ERR_PROTOCOL_ABORTED' && error.details?.from !== undefined) return;
    const abort = encodeAbort(this.#session, this.#step, this.party, error.code, error.message);
    const targets = [
      ...this.#others().map((j) => this.#peer(j)),
      ...(this.#dealer ? [this.#dealer] : []),
    ];
    await Promise.allSettled(targets.map((c) => (c.closed ? undefined : c.send(abort))));
  }
}
