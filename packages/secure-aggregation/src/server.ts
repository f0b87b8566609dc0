/**
 * The server of secure aggregation as a sans-I/O state machine, following Bonawitz et al. (CCS
 * 2017), Figure 4, the server's side of each round, over the neighbour graph of Bell et al. (CCS
 * 2020). The caller delivers each client's message with `receive(from, bytes)` and
 * closes a round with `advance()` (when every expected client answered, or at a deadline: the
 * clients that did not answer have dropped), which returns the next round's messages, and at the
 * end the sum of the survivors' inputs.
 *
 * Dropouts: a client that stops in any round is survived while every group still has t live
 * holders and the survivors' graph stays connected (SecAgg+: in a disconnected graph the shares
 * of Unmasking would reveal the sum of every component, so the server aborts instead). For a client that dropped after sharing its keys the server reconstructs its mask key
 * s^SK and removes its pairwise masks; for a survivor, its self-mask seed b and removes its self
 * mask; never both for one client (honest clients refuse to reveal both). Below the threshold the
 * round aborts with `ERR_INSUFFICIENT_SHARES` and the server discards what it holds.
 *
 * Bad messages: `receive` validates everything before it stores anything; a malformed, replayed,
 * misrouted or forged message raises a typed error and leaves the server as it was (the sender is
 * then treated as dropped unless it sends a valid message before the round closes).
 * @module
 */
import {
  abytes,
  aint,
  ed25519Verify,
  equalBytes,
  isValidX25519PublicKey,
  newSessionId,
  PRG_SEED_BYTES,
  randomBytes,
  ringAddInto,
  ringZeros,
  SESSION_ID_BYTES,
  UnseenError,
} from '@unseen/core';
import { advertiseStatement, consistencyStatement } from './derive.js';
import { insufficient } from './errors.js';
import { NeighbourGraph } from './graph.js';
import { type ComputeOptions, computeOptions } from './masks.js';
import {
  inputWords,
  type SecAggParams,
  type SecAggParamsInput,
  type SecAggRound,
  secAggParams,
} from './params.js';
import { recoverSum } from './recovery.js';
import {
  type AdvertisedKeys,
  decodeAdvertise,
  decodeConsistency,
  decodeMaskedInput,
  decodeShareKeys,
  decodeUnmask,
  type EncryptedShares,
  encodeAbort,
  encodeConsistencyRequest,
  encodeKeys,
  encodeSetup,
  encodeShares,
  encodeUnmaskRequest,
  envelope,
  MSG,
  makeBitmap,
  open,
  SHARE_KIND,
  setupDigest,
} from './wire.js';

/** Options of {@link SecAggServer.create}. */
export interface SecAggServerOptions extends SecAggParamsInput, ComputeOptions {
  /**
   * Active variant: the Ed25519 verification key of client `index` (the PKI). Required when
   * `active` is true.
   */
  verifyKey?: (index: number) => Uint8Array | undefined;
  /** Session id (16 bytes; default random). */
  session?: Uint8Array;
  /** Seed of the neighbour graph (16 bytes; default random). */
  graphSeed?: Uint8Array;
}

/** What the server learns at the end of a round. */
export interface AggregationResult {
  /** Sum of the survivors' inputs in Z_2^bits (Uint32 words, 64-bit as low/high pairs). */
  sum: Uint32Array;
  /** The clients whose inputs the sum contains (U3), ascending. */
  survivors: number[];
  /**
   * The clients that dropped in each round, ascending: they did not send a valid message for it,
   * or (SecAgg+) their group kept fewer than t members, so the server left them out.
   */
  dropped: Record<SecAggRound, number[]>;
}

/** What {@link SecAggServer.advance} returns. */
export type ServerStep =
  | { round: SecAggRound; messages: Map<number, Uint8Array> }
  | { round: 'done'; result: AggregationResult };

/** Where the server is: the round whose messages it collects, or the end. */
export type ServerStage = 'setup' | SecAggRound | 'done' | 'aborted';

const MESSAGE_OF: Record<SecAggRound, number> = {
  advertiseKeys: MSG.advertise,
  shareKeys: MSG.shareKeys,
  maskedInput: MSG.maskedInput,
  consistencyCheck: MSG.consistency,
  unmask: MSG.unmask,
};

/**
 * The server of one aggregation round.
 * @example
 * ```ts
 * const server = await SecAggServer.create({ clients: 20, length: 1000 });
 * let outgoing = server.start(); // Map: client index -> setup message
 * // deliver outgoing messages, then for each reply: await server.receive(from, bytes);
 * const step = await server.advance(); // next messages, or { round: 'done', result }
 * ```
 */
export class SecAggServer {
  /** The round's parameters. */
  readonly params: SecAggParams;
  /** The session id in every message of the round. */
  readonly session: Uint8Array;
  readonly #graph: NeighbourGraph;
  readonly #graphSeed: Uint8Array;
  readonly #digest: Uint8Array;
  readonly #verifyKey: ((index: number) => Uint8Array | undefined) | undefined;
  readonly #compute: ComputeOptions;
  #stage: ServerStage = 'setup';
  /** Clients the current round expects a message from. */
  #expected = new Set<number>();
  /** Clients whose message of the current round is being validated or was accepted. */
  #claimed = new Set<number>();
  #pending = new Set<Promise<void>>();
  // Per round: who answered (U1..U5 in the paper's names).
  #keys = new Map<number, AdvertisedKeys>();
  #u1 = new Set<number>();
  #shareKeys = new Map<number, { commitment: Uint8Array; entries: EncryptedShares[] }>();
  #u2 = new Set<number>();
  #sum: Uint32Array;
  #u3 = new Set<number>();
  #signatures = new Map<number, Uint8Array>();
  #u4 = new Set<number>();
  /** owner -> (holder -> share) for the secret the server reconstructs of `owner`. */
  #revealed = new Map<number, Map<number, Uint8Array>>();
  #u5 = new Set<number>();
  #dropped: Record<SecAggRound, number[]> = {
    advertiseKeys: [],
    shareKeys: [],
    maskedInput: [],
    consistencyCheck: [],
    unmask: [],
  };

  private constructor(
    params: SecAggParams,
    session: Uint8Array,
    graph: NeighbourGraph,
    graphSeed: Uint8Array,
    options: SecAggServerOptions,
  ) {
    this.params = params;
    this.session = session;
    this.#graph = graph;
    this.#graphSeed = graphSeed;
    this.#digest = setupDigest(session, params, graphSeed);
    this.#verifyKey = options.verifyKey;
    this.#sum = ringZeros(params.bits, params.length);
    this.#compute = computeOptions(options);
  }

  /**
   * @throws UnseenError `ERR_INVALID_ARGUMENT` for invalid parameters (see {@link secAggParams})
   */
  static async create(options: SecAggServerOptions): Promise<SecAggServer> {
    const params = secAggParams(options);
    if (params.active && typeof options.verifyKey !== 'function') {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        "the active variant needs verifyKey(index): the clients' Ed25519 verification keys",
      );
    }
    const session =
      options.session === undefined
        ? newSessionId()
        : abytes(options.session, 'session', SESSION_ID_BYTES).slice();
    const graphSeed =
      options.graphSeed === undefined
        ? randomBytes(PRG_SEED_BYTES)
        : abytes(options.graphSeed, 'graphSeed', PRG_SEED_BYTES).slice();
    const graph = await NeighbourGraph.create(params.clients, params.neighbours, graphSeed);
    return new SecAggServer(params, session, graph, graphSeed, options);
  }

  /** The round whose messages the server collects (or 'setup', 'done', 'aborted'). */
  get stage(): ServerStage {
    return this.#stage;
  }

  /** The neighbour graph of the round. */
  get graph(): NeighbourGraph {
    return this.#graph;
  }

  /** Clients whose message the current round still waits for, ascending. */
  awaiting(): number[] {
    return [...this.#expected].filter((c) => !this.#claimed.has(c)).sort((a, b) => a - b);
  }

  /**
   * Starts the round: the setup message for every client (before Round 0).
   * @throws UnseenError `ERR_INVALID_STATE` when called twice
   */
  start(): Map<number, Uint8Array> {
    if (this.#stage !== 'setup') {
      throw new UnseenError('ERR_INVALID_STATE', 'SecAggServer.start: already started');
    }
    const out = new Map<number, Uint8Array>();
    for (let u = 0; u < this.params.clients; u++) {
      const body = encodeSetup({ to: u, params: this.params, graphSeed: this.#graphSeed });
      out.set(u, envelope(MSG.setup, this.session, body));
    }
    this.#begin('advertiseKeys', range(this.params.clients));
    return out;
  }

  /** A message telling clients the round was aborted. */
  abortMessage(code: string, reason: string): Uint8Array {
    return envelope(MSG.abort, this.session, encodeAbort({ code, reason }));
  }

  #begin(round: SecAggRound, expected: Iterable<number>): void {
    this.#stage = round;
    this.#expected = new Set(expected);
    this.#claimed = new Set();
  }

  /**
   * Validates and records client `from`'s message of the current round.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE`, `ERR_UNEXPECTED_MESSAGE` (wrong round, or a
   *   client not in it), `ERR_SESSION_MISMATCH`, `ERR_REPLAY` (a second message),
   *   `ERR_UNAUTHORIZED` (a body from another client), `ERR_INTEGRITY` (bad signature),
   *   `ERR_INVALID_POINT`, `ERR_INVALID_SHARE`, `ERR_PARAMETER_MISMATCH`, `ERR_INVALID_STATE`
   */
  receive(from: number, bytes: Uint8Array): Promise<void> {
    const task = this.#receive(from, bytes);
    const tracked = task.catch(() => undefined);
    this.#pending.add(tracked);
    void tracked.then(() => this.#pending.delete(tracked));
    return task;
  }

  async #receive(from: number, bytes: Uint8Array): Promise<void> {
    aint(from, 'from', 0, this.params.clients - 1);
    const round = this.#stage;
    if (round === 'setup' || round === 'done' || round === 'aborted') {
      throw new UnseenError('ERR_INVALID_STATE', `SecAggServer: no round is open (${round})`);
    }
    const words = inputWords(this.params);
    const msg = open(bytes, MESSAGE_OF[round], this.session, 4 * words + 1024 + 64 * 1024);
    if (!this.#expected.has(from)) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        `${round}: client ${from} is not part of this round (dropped earlier)`,
        { details: { client: from, round } },
      );
    }
    if (this.#claimed.has(from)) {
      throw new UnseenError('ERR_REPLAY', `${round}: client ${from} already sent its message`, {
        details: { client: from, round },
      });
    }
    this.#claimed.add(from); // claimed while validating, so a concurrent copy is a replay
    try {
      const commit = await this.#validate(round, from, msg.body);
      if (this.#stage !== round) {
        throw new UnseenError('ERR_INVALID_STATE', `${round}: the round closed during validation`);
      }
      commit();
    } catch (e) {
      this.#claimed.delete(from);
      throw e;
    }
  }

  #sender(claimed: number, from: number): void {
    if (claimed !== from) {
      throw new UnseenError(
        'ERR_UNAUTHORIZED',
        `a message of client ${claimed} arrived from client ${from}`,
        { details: { claimed, from } },
      );
    }
  }

  /** Validates a body and returns the (synchronous, infallible) step that records it. */
  async #validate(round: SecAggRound, from: number, body: Uint8Array): Promise<() => void> {
    const { params, session } = this;
    switch (round) {
      case 'advertiseKeys': {
        // Round 0, server: collect (c_u^PK, s_u^PK, sigma_u).
        const keys = decodeAdvertise(body, params);
        this.#sender(keys.index, from);
        if (equalBytes(keys.cPK, keys.sPK)) {
          throw new UnseenError('ERR_INVALID_POINT', `client ${from} advertised two equal keys`);
        }
        // Canonical encodings of points not of small order (clients check agreements too).
        for (const [name, key] of [
          ['c^PK', keys.cPK],
          ['s^PK', keys.sPK],
        ] as const) {
          if (!isValidX25519PublicKey(key)) {
            throw new UnseenError(
              'ERR_INVALID_POINT',
              `client ${from} advertised an invalid ${name}`,
              {
                details: { client: from },
              },
            );
          }
        }
        if (params.active) {
          const vk = this.#verifyKey!(from);
          const statement = advertiseStatement(session, this.#digest, from, keys.cPK, keys.sPK);
          if (vk === undefined || !ed25519Verify(vk, statement, keys.signature!)) {
            throw new UnseenError(
              'ERR_INTEGRITY',
              `client ${from}: the key signature does not verify`,
              {
                details: { client: from },
              },
            );
          }
        }
        return () => this.#keys.set(from, keys);
      }
      case 'shareKeys': {
        // Round 1, server: collect the ciphertexts e_{u,v} for every v of u's group in U1.
        const sk = decodeShareKeys(body, params);
        this.#sender(sk.from, from);
        const want = this.#members(from, this.#u1).filter((v) => v !== from);
        if (sk.entries.length !== want.length || sk.entries.some((e, i) => e.peer !== want[i])) {
          throw new UnseenError(
            'ERR_PARAMETER_MISMATCH',
            `ShareKeys: client ${from} encrypted shares for other clients than its group in U1`,
            { details: { client: from } },
          );
        }
        return () => this.#shareKeys.set(from, { commitment: sk.commitment, entries: sk.entries });
      }
      case 'maskedInput': {
        // Round 2, server: collect y_u (added into the running sum at once).
        const mi = decodeMaskedInput(body, params);
        this.#sender(mi.from, from);
        return () => {
          ringAddInto(params.bits, this.#sum, mi.data);
          this.#u3.add(from);
        };
      }
      case 'consistencyCheck': {
        // Round 3, server: collect sigma'_u on the U3 that u was shown.
        const c = decodeConsistency(body, params);
        this.#sender(c.from, from);
        const vk = this.#verifyKey!(from);
        const statement = consistencyStatement(session, this.#digest, from, this.#survivors());
        if (vk === undefined || !ed25519Verify(vk, statement, c.signature)) {
          throw new UnseenError(
            'ERR_INTEGRITY',
            `client ${from}: the consistency signature does not verify`,
            { details: { client: from } },
          );
        }
        return () => this.#signatures.set(from, c.signature);
      }
      case 'unmask': {
        // Round 4, server: collect the shares of b_v (v in U3) and s_v^SK (v in U2 \ U3).
        const um = decodeUnmask(body, params);
        this.#sender(um.from, from);
        const want = this.#members(from, this.#u2);
        if (um.entries.length !== want.length) {
          throw new UnseenError(
            'ERR_PARAMETER_MISMATCH',
            `Unmasking: client ${from} sent ${um.entries.length} shares, ${want.length} were asked for`,
          );
        }
        um.entries.forEach((e, i) => {
          const owner = want[i]!;
          const kind = this.#u3.has(owner) ? SHARE_KIND.selfMaskSeed : SHARE_KIND.maskKey;
          if (e.owner !== owner || e.kind !== kind) {
            throw new UnseenError(
              'ERR_PARAMETER_MISMATCH',
              `Unmasking: client ${from} sent another share than the one asked for client ${owner}`,
              { details: { client: from, owner } },
            );
          }
          if (e.share[0] !== this.#graph.indexInGroup(owner, from) + 1) {
            throw new UnseenError(
              'ERR_INVALID_SHARE',
              `Unmasking: client ${from}'s share of client ${owner} has the wrong x-coordinate`,
              { details: { client: from, owner } },
            );
          }
        });
        return () => {
          for (const e of um.entries) {
            const m = this.#revealed.get(e.owner) ?? new Map<number, Uint8Array>();
            this.#revealed.set(e.owner, m);
            m.set(from, e.share);
          }
          this.#u5.add(from);
        };
      }
    }
  }

  /** Members of u's group that are in `set`, ascending. */
  #members(u: number, set: ReadonlySet<number>): number[] {
    return Array.from(this.#graph.group(u)).filter((v) => set.has(v));
  }

  /** U3 as a bitmap over all clients (what clients sign in the active variant). */
  #survivors(): Uint8Array {
    return makeBitmap(this.params.clients, (u) => this.#u3.has(u));
  }

  /**
   * Closes the current round: the clients that did not send a valid message dropped. Returns the
   * messages of the next round, or the result after Unmasking.
   * @throws UnseenError `ERR_INSUFFICIENT_SHARES` when fewer than t clients remain where t are
   *   needed (the server aborts and forgets what it holds), `ERR_INTEGRITY` when shares do not
   *   reconstruct a committed secret, `ERR_INVALID_STATE`
   */
  async advance(): Promise<ServerStep> {
    const round = this.#stage;
    if (round === 'setup' || round === 'done' || round === 'aborted') {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        `SecAggServer.advance: no round is open (${round})`,
      );
    }
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    try {
      return await this.#close(round);
    } catch (e) {
      this.#abort();
      throw e;
    }
  }

  #abort(): void {
    this.#stage = 'aborted';
    this.#sum.fill(0);
    for (const m of this.#revealed.values()) for (const s of m.values()) s.fill(0);
    this.#revealed.clear();
  }

  #insufficient(round: SecAggRound, remaining: number, client?: number): UnseenError {
    return insufficient(round, remaining, this.params.threshold, client);
  }

  /**
   * Removes, until none is left, clients of `set` whose group has fewer than t members in `set`:
   * their secrets could not be recovered (Bell et al.'s clients abort in that case).
   */
  #prune(set: Set<number>): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const u of [...set]) {
        if (this.#members(u, set).length < this.params.threshold) {
          set.delete(u);
          changed = true;
        }
      }
    }
  }

  #recordDropped(round: SecAggRound, before: Iterable<number>, after: ReadonlySet<number>): void {
    this.#dropped[round] = [...before].filter((u) => !after.has(u)).sort((a, b) => a - b);
  }

  async #close(round: SecAggRound): Promise<ServerStep> {
    const { params, session } = this;
    const t = params.threshold;
    switch (round) {
      case 'advertiseKeys': {
        // Collect at least t messages (U1), otherwise abort; send each its group's keys.
        const u1 = new Set(this.#keys.keys());
        this.#prune(u1);
        this.#recordDropped(round, range(params.clients), u1);
        if (u1.size < t) throw this.#insufficient(round, u1.size);
        this.#u1 = u1;
        const messages = new Map<number, Uint8Array>();
        for (const u of sorted(u1)) {
          const entries = this.#members(u, u1).map((v) => this.#keys.get(v)!);
          messages.set(
            u,
            envelope(MSG.keys, session, encodeKeys({ to: u, entries }, params.active)),
          );
        }
        this.#begin('shareKeys', u1);
        return { round: 'shareKeys', messages };
      }
      case 'shareKeys': {
        // Collect ciphertexts from at least t clients (U2); send each the ones for it.
        const u2 = new Set(this.#shareKeys.keys());
        this.#prune(u2);
        this.#recordDropped(round, this.#u1, u2);
        if (u2.size < t) throw this.#insufficient(round, u2.size);
        this.#u2 = u2;
        const messages = new Map<number, Uint8Array>();
        for (const u of sorted(u2)) {
          const entries: EncryptedShares[] = [];
          for (const v of this.#members(u, u2)) {
            if (v === u) continue;
            const e = this.#shareKeys.get(v)!.entries.find((x) => x.peer === u)!;
            entries.push({ peer: v, nonce: e.nonce, ciphertext: e.ciphertext });
          }
          messages.set(u, envelope(MSG.shares, session, encodeShares({ to: u, entries })));
        }
        this.#begin('maskedInput', u2);
        return { round: 'maskedInput', messages };
      }
      case 'maskedInput': {
        // Collect y_u from at least t clients (U3). Every secret to be reconstructed needs t
        // holders left in U3.
        const u3 = this.#u3;
        this.#recordDropped(round, this.#u2, u3);
        this.#checkHolders(round, u3);
        this.#checkConnected(u3);
        const messages = new Map<number, Uint8Array>();
        if (params.active) {
          const alive = this.#survivors();
          for (const u of sorted(u3)) {
            const body = encodeConsistencyRequest({ to: u, alive });
            messages.set(u, envelope(MSG.consistencyRequest, session, body));
          }
          this.#begin('consistencyCheck', u3);
          return { round: 'consistencyCheck', messages };
        }
        this.#u4 = new Set(u3);
        for (const u of sorted(u3)) messages.set(u, this.#unmaskRequest(u));
        this.#begin('unmask', u3);
        return { round: 'unmask', messages };
      }
      case 'consistencyCheck': {
        // Collect sigma'_u from at least t clients (U4); send each the signatures it must check.
        const u4 = new Set(this.#signatures.keys());
        this.#recordDropped(round, this.#u3, u4);
        this.#u4 = u4;
        this.#checkHolders(round, u4);
        const messages = new Map<number, Uint8Array>();
        const alive = this.#survivors();
        for (const u of sorted(u4)) messages.set(u, this.#unmaskRequest(u, alive));
        this.#begin('unmask', u4);
        return { round: 'unmask', messages };
      }
      case 'unmask': {
        this.#recordDropped(round, this.#u4, this.#u5);
        return { round: 'done', result: await this.#output() };
      }
    }
  }

  /**
   * Checks that every secret the server will need can still be reconstructed from `holders`:
   * b_u for every u in U3 and s_u^SK for every u in U2 \ U3 with a neighbour in U3.
   */
  #checkHolders(round: SecAggRound, holders: ReadonlySet<number>): void {
    const t = this.params.threshold;
    if (holders.size < t) throw this.#insufficient(round, holders.size);
    for (const u of sorted(this.#u2)) {
      if (!this.#u3.has(u) && this.#members(u, this.#u3).length === 0) continue;
      const left = this.#members(u, holders).length;
      if (left < t) throw this.#insufficient(round, left, u);
    }
  }

  /**
   * Refuses to unmask when the survivors' graph is disconnected: the shares of Unmasking would
   * let the server compute the sum of every component, more than the total it may learn. With
   * parameters from the analysis this happens with probability below 2^-eta (`analysis.ts`).
   * @throws UnseenError `ERR_PROTOCOL_ABORTED` with `{ reason: 'disconnected', components }`
   */
  #checkConnected(survivors: ReadonlySet<number>): void {
    const parts = this.#graph.components((u) => survivors.has(u));
    if (parts.length <= 1) return;
    const sizes = parts.map((p) => p.length);
    throw new UnseenError(
      'ERR_PROTOCOL_ABORTED',
      `secure aggregation aborted in maskedInput: the survivors' graph falls into ${parts.length} components (of ${sizes.join(', ')} clients); unmasking would reveal the sum of each, so the server refuses`,
      { details: { round: 'maskedInput', reason: 'disconnected', components: sizes } },
    );
  }

  /** Round 3 -> 4: what client u is asked to reveal (and, active, the signatures to check). */
  #unmaskRequest(u: number, alive?: Uint8Array): Uint8Array {
    const g = this.#graph.group(u);
    const selfMask = makeBitmap(g.length, (p) => this.#u3.has(g[p]!));
    const maskKey = makeBitmap(g.length, (p) => this.#u2.has(g[p]!) && !this.#u3.has(g[p]!));
    const signatures: { signer: number; signature: Uint8Array }[] = [];
    if (this.params.active) {
      const signers = new Set<number>();
      for (const w of this.#members(u, this.#u2)) {
        for (const h of this.#members(w, this.#u4)) signers.add(h);
      }
      for (const h of sorted(signers)) {
        signatures.push({ signer: h, signature: this.#signatures.get(h)! });
      }
    }
    const body = encodeUnmaskRequest(
      { to: u, selfMask, maskKey, alive: alive ?? new Uint8Array(0), signatures },
      this.params.active,
    );
    return envelope(MSG.unmaskRequest, this.session, body);
  }

  /** Round 4, server (generating the output): see `recovery.ts`. */
  async #output(): Promise<AggregationResult> {
    const { params } = this;
    const sum = await recoverSum(
      {
        bits: params.bits,
        words: inputWords(params),
        threshold: params.threshold,
        session: this.session,
        shared: sorted(this.#u2),
        survived: (u) => this.#u3.has(u),
        neighboursAlive: (u) => this.#members(u, this.#u3).filter((v) => v !== u),
        shares: (u) => [...(this.#revealed.get(u)?.values() ?? [])],
        commitment: (u) => this.#shareKeys.get(u)!.commitment,
        maskPublicKey: (u) => this.#keys.get(u)!.sPK,
        maskedSum: this.#sum,
      },
      this.#compute,
    );
    this.#sum.fill(0);
    this.#stage = 'done';
    return { sum, survivors: sorted(this.#u3), dropped: this.#dropped };
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sorted(set: Iterable<number>): number[] {
  return [...set].sort((a, b) => a - b);
}
