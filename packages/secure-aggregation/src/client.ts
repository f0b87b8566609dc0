/**
 * The client of secure aggregation as a sans-I/O state machine: `handle(message)` takes the
 * server's message of the current round and returns the reply to send (or nothing). It follows
 * Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine Learning" (CCS
 * 2017), Figure 4, round by round, restricted to the client's neighbours as in Bell et al., "Secure
 * Single-Server Aggregation with (Poly)Logarithmic Overhead" (CCS 2020). The comments
 * below give the paper's names: c (encryption key pair), s (mask key pair), b (self-mask seed),
 * U1..U5 (the clients alive after each round), seen from this client's group.
 *
 * Parameters: the client accepts the server's setup only within its own configuration: the
 * fields of `expect` exactly, and otherwise the analysis of `analysis.ts` under its threat model
 * (enough neighbours, a threshold at its bound: in the active variant at least the two-thirds
 * bound of Bonawitz et al.). Pinning `threshold` or `neighbours` in `expect` is the client's
 * explicit choice and waives that part of the analysis; `allowUnsafeParameters` waives all of it.
 *
 * Input: given at creation or later with {@link SecAggClient.setInput}, any time before the
 * masked input is due (Round 2), so that the key rounds can overlap the computation of the input.
 *
 * Errors: a message that cannot be decoded, belongs to another session, comes in the wrong round
 * or is addressed to another client raises and changes nothing. A message that decodes but breaks
 * the protocol (a bad signature, a share that fails authentication, a server asking for both
 * secrets of one client, a request that contradicts what the client was told) aborts the client
 * for good: it sends nothing more, as the paper's "abort" steps require.
 * @module
 */
import {
  abool,
  abytes,
  aint,
  concatBytes,
  ed25519Sign,
  ed25519Verify,
  equalBytes,
  isValidX25519PublicKey,
  type Message,
  PRG_SEED_BYTES,
  randomBytes,
  UnseenError,
  X25519_BYTES,
  type X25519KeyPair,
  x25519KeyPair,
} from '@unseen/core';
import { shamir } from '@unseen/secret-sharing';
import { AEAD_NONCE_BYTES, aesGcmDecrypt, aesGcmEncrypt } from './aead.js';
import { assessParams, type ThreatModel, threatModel } from './analysis.js';
import { checkSignatures, checkSurvivors } from './consistency.js';
import {
  advertiseStatement,
  consistencyStatement,
  pairwiseMaskSeed,
  selfMaskCommitment,
  selfMaskSeed,
  shareAad,
  shareKey,
} from './derive.js';
import { insufficient, mismatch, protocolAbort } from './errors.js';
import { NeighbourGraph } from './graph.js';
import {
  agreeMany,
  type ComputeOptions,
  combineMasks,
  computeOptions,
  type MaskTerm,
} from './masks.js';
import { inputWords, type SecAggParams } from './params.js';
import {
  type AdvertisedKeys,
  bit,
  decodeAbort,
  decodeConsistencyRequest,
  decodeKeys,
  decodeSetup,
  decodeShares,
  decodeUnmaskRequest,
  type EncryptedShares,
  encodeAdvertise,
  encodeConsistency,
  encodeMaskedInput,
  encodeShareKeys,
  encodeUnmask,
  envelope,
  KEY_SHARE_BYTES,
  MSG,
  open,
  popcount,
  type RevealedShare,
  SHARE_KIND,
  setupDigest,
} from './wire.js';

/** A client's long-term identity in the active variant, and the PKI it trusts. */
export interface ClientIdentity {
  /** The client's index, bound to its signing key by the PKI. */
  index: number;
  /** Ed25519 secret key (32 bytes) of this client. */
  signingKey: Uint8Array;
  /** Ed25519 verification key of client `index`, or undefined if unknown. */
  verifyKey(index: number): Uint8Array | undefined;
}

/** Options of {@link SecAggClient.create}. */
export interface SecAggClientOptions extends ComputeOptions {
  /**
   * The input: `length` elements of Z_2^bits as Uint32 words (a 64-bit element is two words, low
   * then high), e.g. from `encodeFixedPoint` or {@link encodeUpdate}. Copied at creation. May be
   * left out and given later with {@link SecAggClient.setInput}.
   */
  input?: Uint32Array;
  /**
   * Parameters this client insists on; a setup that differs is refused with
   * `ERR_PARAMETER_MISMATCH`. Beyond these, the setup must satisfy the structural bounds and
   * the analysis under `threat`; a pinned `threshold` or `neighbours` is this client's explicit
   * choice and is accepted even below the analysis' bound for it.
   */
  expect?: Partial<SecAggParams>;
  /**
   * The adversary this client wants the round's parameters to resist (default
   * `DEFAULT_THREAT_MODEL`: 5% colluding clients, 10% dropouts, security 2^-40).
   */
  threat?: Partial<ThreatModel>;
  /**
   * Accept any setup within the structural bounds, even outside the analysis (tests and
   * experiments only: the server may learn partial sums). Default false.
   */
  allowUnsafeParameters?: boolean;
  /**
   * The graph seed this client insists on (16 bytes), e.g. from a public randomness beacon, so
   * that a malicious server cannot choose the SecAgg+ graph. Default: any seed.
   */
  graphSeed?: Uint8Array;
  /**
   * The active variant: this client's signing key and the PKI. A client with an identity refuses
   * a setup without signatures, and one without an identity refuses an active setup.
   */
  identity?: ClientIdentity;
}

/** Where a client is in the protocol. */
export type ClientStage =
  | 'setup'
  | 'advertiseKeys'
  | 'shareKeys'
  | 'maskedInput'
  | 'consistencyCheck'
  | 'done'
  | 'aborted';

const EXPECTED: Record<ClientStage, readonly number[]> = {
  setup: [MSG.setup],
  advertiseKeys: [MSG.keys],
  shareKeys: [MSG.shares],
  maskedInput: [MSG.consistencyRequest, MSG.unmaskRequest],
  consistencyCheck: [MSG.unmaskRequest],
  done: [],
  aborted: [],
};

/** Largest server message a client accepts: 64 MiB (signed views of a very large round). */
const MAX_SERVER_MESSAGE = 64 * 1024 * 1024;

/** The shares this client holds of a group member's secrets. */
interface HeldShares {
  maskKey: Uint8Array;
  selfMaskSeed: Uint8Array;
}

interface Setup {
  params: SecAggParams;
  me: number;
  session: Uint8Array;
  digest: Uint8Array;
  graph: NeighbourGraph;
  group: Uint32Array;
}

/**
 * One client of one aggregation round.
 * @example
 * ```ts
 * const client = await SecAggClient.create({ input: encodeUpdate(update, encoding).data });
 * // for every message from the server:
 * const reply = await client.handle(message);
 * if (reply !== undefined) await channel.send(reply);
 * ```
 */
export class SecAggClient {
  #input: Uint32Array | undefined;
  readonly #expect: Partial<SecAggParams>;
  readonly #threat: ThreatModel;
  readonly #allowUnsafe: boolean;
  readonly #graphSeed: Uint8Array | undefined;
  readonly #identity: ClientIdentity | undefined;
  readonly #compute: ComputeOptions;
  #stage: ClientStage = 'setup';
  #busy = false;
  #setup: Setup | undefined;
  #c: X25519KeyPair | undefined;
  #s: X25519KeyPair | undefined;
  #b: Uint8Array | undefined;
  /** U1 from this client's view: group members' advertised keys. */
  #keys = new Map<number, AdvertisedKeys>();
  /** Keys that decrypt the shares each peer sends this client. */
  #receiveKeys = new Map<number, Uint8Array>();
  #ownShares: HeldShares | undefined;
  /** Shares of group members' secrets held by this client (U2 from its view, itself included). */
  #held = new Map<number, HeldShares>();
  /** Active variant: the survivors bitmap (over all clients) this client signed. */
  #signedAlive: Uint8Array | undefined;

  private constructor(options: SecAggClientOptions, threat: ThreatModel) {
    this.#input = options.input?.slice();
    this.#expect = { ...(options.expect ?? {}) };
    this.#threat = threat;
    this.#allowUnsafe = options.allowUnsafeParameters === true;
    this.#graphSeed = options.graphSeed?.slice();
    this.#identity = options.identity;
    this.#compute = computeOptions(options);
  }

  /**
   * @throws UnseenError `ERR_INVALID_ARGUMENT` for a bad input, identity, threat model or seed
   */
  static async create(options: SecAggClientOptions): Promise<SecAggClient> {
    if (typeof options !== 'object' || options === null) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'SecAggClient.create: expected options');
    }
    if (options.input !== undefined && !(options.input instanceof Uint32Array)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'input: expected a Uint32Array of ring words');
    }
    const threat = threatModel(options.threat ?? {});
    if (options.allowUnsafeParameters !== undefined) {
      abool(options.allowUnsafeParameters, 'allowUnsafeParameters');
    }
    if (options.graphSeed !== undefined) abytes(options.graphSeed, 'graphSeed', PRG_SEED_BYTES);
    const id = options.identity;
    if (id !== undefined) {
      aint(id.index, 'identity.index', 0);
      abytes(id.signingKey, 'identity.signingKey', 32);
      if (typeof id.verifyKey !== 'function') {
        throw new UnseenError('ERR_INVALID_ARGUMENT', 'identity.verifyKey: expected a function');
      }
    }
    return new SecAggClient(options, threat);
  }

  /**
   * Gives the input when it was not given at creation: any time before the server's Round 2
   * message (the masked input is computed when that message is handled).
   * @throws UnseenError `ERR_INVALID_ARGUMENT` (not a Uint32Array, or a length that does not fit
   *   the round's parameters when they are known), `ERR_INVALID_STATE` (an input was already given,
   *   or the masked input was already sent, or the client ended)
   */
  setInput(input: Uint32Array): void {
    if (this.#input !== undefined) {
      throw new UnseenError('ERR_INVALID_STATE', 'SecAggClient.setInput: the input is already set');
    }
    if (!['setup', 'advertiseKeys', 'shareKeys'].includes(this.#stage)) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        `SecAggClient.setInput: too late, the client is ${this.#stage}`,
      );
    }
    if (!(input instanceof Uint32Array)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'input: expected a Uint32Array of ring words');
    }
    const params = this.#setup?.params;
    if (params !== undefined && input.length !== inputWords(params)) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `input: ${params.length} elements of ${params.bits} bits need ${inputWords(params)} words, got ${input.length}`,
      );
    }
    this.#input = input.slice();
  }

  /** True while the client has no input yet (see {@link SecAggClient.setInput}). */
  get needsInput(): boolean {
    return this.#input === undefined && this.#stage !== 'done' && this.#stage !== 'aborted';
  }

  /** The current stage: which server message the client waits for. */
  get stage(): ClientStage {
    return this.#stage;
  }

  /** This client's index (known after the setup message). */
  get index(): number | undefined {
    return this.#setup?.me;
  }

  /** The parameters of the round (known after the setup message). */
  get params(): SecAggParams | undefined {
    return this.#setup?.params;
  }

  /** True once the client sent its last message. */
  get done(): boolean {
    return this.#stage === 'done';
  }

  /**
   * Processes one server message and returns the reply, if any.
   * @throws UnseenError decoding errors (`ERR_MALFORMED_MESSAGE`, `ERR_UNEXPECTED_MESSAGE`,
   *   `ERR_SESSION_MISMATCH`, `ERR_UNSUPPORTED_VERSION`, `ERR_MESSAGE_TOO_LARGE`) leave the client
   *   as it was; protocol violations (`ERR_PROTOCOL_ABORTED`, `ERR_INTEGRITY`, `ERR_INVALID_SHARE`,
   *   `ERR_INVALID_POINT`, `ERR_PARAMETER_MISMATCH`, `ERR_INSUFFICIENT_SHARES`) abort it;
   *   `ERR_INVALID_STATE` after the end or during another call
   */
  async handle(bytes: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.#busy) {
      throw new UnseenError('ERR_INVALID_STATE', 'SecAggClient.handle: a message is being handled');
    }
    if (this.#stage === 'done' || this.#stage === 'aborted') {
      throw new UnseenError('ERR_INVALID_STATE', `SecAggClient: the client is ${this.#stage}`);
    }
    const msg = open(
      bytes,
      [...EXPECTED[this.#stage], MSG.abort],
      this.#setup?.session,
      MAX_SERVER_MESSAGE,
    );
    if (msg.type === MSG.abort) {
      const { code, reason } = decodeAbort(msg.body);
      this.#abort();
      throw new UnseenError('ERR_PROTOCOL_ABORTED', `the server aborted the round: ${reason}`, {
        details: { serverCode: code, reason },
      });
    }
    this.#busy = true;
    try {
      switch (this.#stage) {
        case 'setup':
          return await this.#onSetup(msg);
        case 'advertiseKeys':
          return await this.#onKeys(msg);
        case 'shareKeys':
          return await this.#onShares(msg);
        default:
          return msg.type === MSG.consistencyRequest
            ? this.#onConsistencyRequest(msg)
            : await this.#onUnmaskRequest(msg);
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Runs a protocol step; any failure aborts the client (the paper's "otherwise abort"). */
  async #step<T>(fn: () => Promise<T> | T): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      this.#abort();
      throw e;
    }
  }

  #abort(): void {
    this.#stage = 'aborted';
    this.#erase();
  }

  #erase(): void {
    this.#c?.secretKey.fill(0);
    this.#s?.secretKey.fill(0);
    this.#b?.fill(0);
    for (const k of this.#receiveKeys.values()) k.fill(0);
    for (const h of this.#held.values()) {
      h.maskKey.fill(0);
      h.selfMaskSeed.fill(0);
    }
    this.#input?.fill(0);
    this.#receiveKeys.clear();
    this.#held.clear();
  }

  #checkAddressed(to: number, setup: Setup): void {
    if (to !== setup.me) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        `message addressed to client ${to}, this is client ${setup.me}`,
        { details: { to, me: setup.me } },
      );
    }
  }

  /**
   * Refuses parameters outside this client's configuration: the analysis under its threat model,
   * except for what its `expect` pins explicitly or `allowUnsafeParameters` allows.
   */
  #checkPolicy(params: SecAggParams): void {
    if (this.#allowUnsafe) return;
    const verdict = assessParams(params, this.#threat);
    const problems: string[] = [];
    if (this.#expect.neighbours === undefined && verdict.neighboursProblem !== undefined) {
      problems.push(verdict.neighboursProblem);
    }
    if (this.#expect.threshold === undefined && verdict.thresholdProblem !== undefined) {
      problems.push(verdict.thresholdProblem);
    }
    if (problems.length > 0) {
      throw mismatch(
        `setup: parameters outside this client's security analysis: ${problems.join('; ')}`,
        { minThreshold: verdict.analysis.minThreshold, problems },
      );
    }
  }

  // ---- setup and Round 0 (AdvertiseKeys) ------------------------------------------------

  async #onSetup(msg: Message): Promise<Uint8Array> {
    const { to, params, graphSeed } = decodeSetup(msg.body);
    return this.#step(async () => {
      for (const [key, want] of Object.entries(this.#expect)) {
        const got = params[key as keyof SecAggParams];
        if (want !== undefined && got !== want) {
          throw mismatch(`setup: ${key} is ${String(got)}, this client expects ${String(want)}`, {
            field: key,
          });
        }
      }
      this.#checkPolicy(params);
      if (this.#graphSeed !== undefined && !equalBytes(graphSeed, this.#graphSeed)) {
        throw mismatch('setup: the graph seed is not the one this client expects', {
          field: 'graphSeed',
        });
      }
      if (this.#input !== undefined && this.#input.length !== inputWords(params)) {
        throw mismatch(
          `setup: ${params.length} elements of ${params.bits} bits need ${inputWords(params)} words, the input has ${this.#input.length}`,
        );
      }
      const id = this.#identity;
      if (params.active && id === undefined) {
        throw mismatch('setup: the active variant needs a signing identity');
      }
      if (!params.active && id !== undefined) {
        throw mismatch('setup: this client has a signing identity and requires the active variant');
      }
      if (id !== undefined && id.index !== to) {
        throw mismatch(`setup: assigned index ${to}, the identity is client ${id.index}`);
      }
      const graph = await NeighbourGraph.create(params.clients, params.neighbours, graphSeed);
      const session = msg.session.slice();
      const setup: Setup = {
        params,
        me: to,
        session,
        digest: setupDigest(session, params, graphSeed),
        graph,
        group: graph.group(to),
      };
      // Round 0: (c_u^PK, c_u^SK), (s_u^PK, s_u^SK) <- KA.gen; sigma_u <- SIG.sign(d_u^SK, c || s).
      const c = await x25519KeyPair();
      const s = await x25519KeyPair();
      const keys: AdvertisedKeys = { index: to, cPK: c.publicKey, sPK: s.publicKey };
      if (params.active) {
        keys.signature = ed25519Sign(
          id!.signingKey,
          advertiseStatement(session, setup.digest, to, c.publicKey, s.publicKey),
        );
      }
      this.#setup = setup;
      this.#c = c;
      this.#s = s;
      this.#stage = 'advertiseKeys';
      return envelope(MSG.advertise, session, encodeAdvertise(keys, params.active));
    });
  }

  // ---- Round 1 (ShareKeys) --------------------------------------------------------------

  async #onKeys(msg: Message): Promise<Uint8Array> {
    const setup = this.#setup!;
    const { params, me, session, group, graph } = setup;
    const body = decodeKeys(msg.body, params);
    this.#checkAddressed(body.to, setup);
    return this.#step(async () => {
      // Assert |U1| >= t, that every key is different, and that every signature verifies.
      if (body.entries.length < params.threshold) {
        throw insufficient('shareKeys', body.entries.length, params.threshold, me);
      }
      const seen = new Set<string>();
      let mine: AdvertisedKeys | undefined;
      for (const e of body.entries) {
        if (graph.indexInGroup(me, e.index) < 0) {
          throw protocolAbort(`keys of client ${e.index}, which is not in this client's group`, {
            client: e.index,
          });
        }
        for (const k of [e.cPK, e.sPK]) {
          if (!isValidX25519PublicKey(k)) {
            throw new UnseenError(
              'ERR_INVALID_POINT',
              `ShareKeys: client ${e.index} advertised an invalid public key`,
              { details: { client: e.index } },
            );
          }
          const hex = Array.from(k, (x) => x.toString(16).padStart(2, '0')).join('');
          if (seen.has(hex)) throw protocolAbort('two advertised public keys are equal');
          seen.add(hex);
        }
        if (e.index === me) mine = e;
        else if (params.active) {
          const vk = this.#identity!.verifyKey(e.index);
          const ok =
            vk !== undefined &&
            ed25519Verify(
              vk,
              advertiseStatement(session, setup.digest, e.index, e.cPK, e.sPK),
              e.signature!,
            );
          if (!ok) {
            throw new UnseenError(
              'ERR_INTEGRITY',
              `ShareKeys: the signature on client ${e.index}'s keys does not verify`,
              { details: { client: e.index } },
            );
          }
        }
      }
      if (
        mine === undefined ||
        !equalBytes(mine.cPK, this.#c!.publicKey) ||
        !equalBytes(mine.sPK, this.#s!.publicKey)
      ) {
        throw protocolAbort("the key list does not carry this client's own keys unchanged");
      }
      const peers = body.entries.filter((e) => e.index !== me);
      // b_u <- F; t-out-of-|group| shares of s_u^SK and of b_u; share i goes to group[i].
      const b = randomBytes(16);
      const sShares = shamir.split(this.#s!.secretKey, {
        shares: group.length,
        threshold: params.threshold,
      });
      const bShares = shamir.split(b, { shares: group.length, threshold: params.threshold });
      // e_{u,v} <- AE.enc(KA.agree(c_u^SK, c_v^PK), u || v || s_{u,v}^SK || b_{u,v}); the
      // indices u, v travel in the associated data.
      const agreed = await agreeMany(
        this.#c!.secretKey,
        concatBytes(...peers.map((p) => p.cPK)),
        this.#compute,
      );
      const entries: EncryptedShares[] = [];
      const receiveKeys = new Map<number, Uint8Array>();
      for (let i = 0; i < peers.length; i++) {
        const v = peers[i]!.index;
        const shared = agreed.subarray(X25519_BYTES * i, X25519_BYTES * (i + 1));
        const pos = graph.indexInGroup(me, v);
        const nonce = randomBytes(AEAD_NONCE_BYTES);
        const plaintext = concatBytes(sShares[pos]!, bShares[pos]!);
        const ciphertext = await aesGcmEncrypt(
          shareKey(shared, session, me, v),
          nonce,
          plaintext,
          shareAad(session, me, v),
        );
        plaintext.fill(0);
        entries.push({ peer: v, nonce, ciphertext });
        receiveKeys.set(v, shareKey(shared, session, v, me));
      }
      agreed.fill(0);
      const own = graph.indexInGroup(me, me);
      this.#ownShares = { maskKey: sShares[own]!, selfMaskSeed: bShares[own]! };
      for (let i = 0; i < group.length; i++) {
        if (i !== own) {
          sShares[i]!.fill(0);
          bShares[i]!.fill(0);
        }
      }
      this.#keys = new Map(body.entries.map((e) => [e.index, e]));
      this.#receiveKeys = receiveKeys;
      this.#b = b;
      this.#stage = 'shareKeys';
      const commitment = selfMaskCommitment(b, session, me);
      return envelope(MSG.shareKeys, session, encodeShareKeys({ from: me, commitment, entries }));
    });
  }

  // ---- Round 2 (MaskedInputCollection) --------------------------------------------------

  async #onShares(msg: Message): Promise<Uint8Array> {
    const setup = this.#setup!;
    const { params, me, session, graph } = setup;
    const body = decodeShares(msg.body, params);
    this.#checkAddressed(body.to, setup);
    const input = this.#input;
    if (input === undefined) {
      // Nothing changed: the caller gives the input and hands the same message again.
      throw new UnseenError(
        'ERR_INVALID_STATE',
        'SecAggClient: the masked input is due but no input was given: call setInput(), then handle this message again',
      );
    }
    return this.#step(async () => {
      // U2 (this group) = the senders of the ciphertexts, and this client; |U2| >= t.
      if (body.entries.length + 1 < params.threshold) {
        throw insufficient('maskedInput', body.entries.length + 1, params.threshold, me);
      }
      // Decrypt now rather than in Unmasking (the paper decrypts there): a bad ciphertext then
      // aborts before this client reveals its masked input.
      const held = new Map<number, HeldShares>();
      held.set(me, this.#ownShares!);
      for (const e of body.entries) {
        const key = this.#receiveKeys.get(e.peer);
        if (key === undefined || e.peer === me) {
          throw protocolAbort(
            `shares from client ${e.peer}, which did not share keys with this client`,
            {
              client: e.peer,
            },
          );
        }
        const plaintext = await aesGcmDecrypt(
          key,
          e.nonce,
          e.ciphertext,
          shareAad(session, e.peer, me),
        );
        const x = graph.indexInGroup(e.peer, me) + 1;
        if (plaintext[0] !== x || plaintext[KEY_SHARE_BYTES] !== x) {
          throw new UnseenError(
            'ERR_INVALID_SHARE',
            `client ${e.peer} sent shares for another holder (x = ${plaintext[0]}, expected ${x})`,
            { details: { client: e.peer } },
          );
        }
        held.set(e.peer, {
          maskKey: plaintext.slice(0, KEY_SHARE_BYTES),
          selfMaskSeed: plaintext.slice(KEY_SHARE_BYTES),
        });
        plaintext.fill(0);
      }
      // p_{u,v} = Delta_{u,v} * PRG(s_{u,v}), Delta = +1 when u > v and -1 when u < v;
      // y_u = x_u + PRG(b_u) + sum_{v in U2} p_{u,v}  (mod 2^bits).
      const peers = body.entries.map((e) => e.peer);
      const agreed = await agreeMany(
        this.#s!.secretKey,
        concatBytes(...peers.map((v) => this.#keys.get(v)!.sPK)),
        this.#compute,
      );
      const terms: MaskTerm[] = [{ seed: selfMaskSeed(this.#b!, session, me), sign: 1 }];
      peers.forEach((v, i) => {
        const shared = agreed.subarray(X25519_BYTES * i, X25519_BYTES * (i + 1));
        terms.push({ seed: pairwiseMaskSeed(shared, session, me, v), sign: me > v ? 1 : -1 });
      });
      agreed.fill(0);
      const masked = await combineMasks(
        params.bits,
        inputWords(params),
        terms,
        input,
        this.#compute,
      );
      for (const t of terms) t.seed.fill(0);
      this.#held = held;
      for (const k of this.#receiveKeys.values()) k.fill(0);
      this.#receiveKeys.clear();
      // The secrets are shared and the input is masked: erase them.
      this.#s!.secretKey.fill(0);
      this.#c!.secretKey.fill(0);
      this.#b!.fill(0);
      input.fill(0);
      this.#stage = 'maskedInput';
      return envelope(MSG.maskedInput, session, encodeMaskedInput({ from: me, data: masked }));
    });
  }

  // ---- Round 3 (ConsistencyCheck, active variant) ---------------------------------------

  async #onConsistencyRequest(msg: Message): Promise<Uint8Array> {
    const setup = this.#setup!;
    const { params, me, session } = setup;
    if (!params.active) {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        'consistency check outside the active variant',
      );
    }
    const body = decodeConsistencyRequest(msg.body, params);
    this.#checkAddressed(body.to, setup);
    return this.#step(() => {
      // U3 must contain this client, be within U2 on its group, leave t of its group, and form a
      // connected graph (otherwise unmasking reveals the sum of each component).
      checkSurvivors(this.#survivorsCheck(), body.alive);
      // sigma'_u <- SIG.sign(d_u^SK, U3)
      const signature = ed25519Sign(
        this.#identity!.signingKey,
        consistencyStatement(session, setup.digest, me, body.alive),
      );
      this.#signedAlive = body.alive;
      this.#stage = 'consistencyCheck';
      return envelope(MSG.consistency, session, encodeConsistency({ from: me, signature }));
    });
  }

  #survivorsCheck() {
    const { params, me, graph } = this.#setup!;
    return { me, threshold: params.threshold, graph, held: new Set(this.#held.keys()) };
  }

  /** Checks a survivors bitmap over this client's group: within U2, itself in, at least t. */
  #checkGroupSurvivors(alive: Uint8Array): void {
    const { params, me, group } = this.#setup!;
    for (let p = 0; p < group.length; p++) {
      if (bit(alive, p) && !this.#held.has(group[p]!)) {
        throw protocolAbort(`client ${group[p]} is reported alive but never shared keys`, {
          client: group[p],
        });
      }
    }
    if (!bit(alive, group.indexOf(me))) {
      throw protocolAbort('this client sent its masked input but is reported dropped');
    }
    const count = popcount(alive);
    if (count < params.threshold) throw insufficient('unmask', count, params.threshold, me);
  }

  // ---- Round 4 (Unmasking) --------------------------------------------------------------

  async #onUnmaskRequest(msg: Message): Promise<Uint8Array> {
    const setup = this.#setup!;
    const { params, me, session, group } = setup;
    if (params.active && this.#stage !== 'consistencyCheck') {
      throw new UnseenError(
        'ERR_UNEXPECTED_MESSAGE',
        'the active variant runs the consistency check before unmasking',
      );
    }
    const body = decodeUnmaskRequest(msg.body, params);
    this.#checkAddressed(body.to, setup);
    return this.#step(() => {
      // Never reveal both secrets of one client: the share of b_v lets the server remove v's
      // self mask, the share of s_v^SK its pairwise masks; with both it would see x_v.
      for (let p = 0; p < group.length; p++) {
        if (bit(body.selfMask, p) && bit(body.maskKey, p)) {
          throw protocolAbort(
            `the server asked for both the self-mask seed and the mask key of client ${group[p]}`,
            { client: group[p] },
          );
        }
      }
      if (bit(body.maskKey, group.indexOf(me))) {
        throw protocolAbort('the server asked for the mask key of this client, which is alive');
      }
      for (let p = 0; p < group.length; p++) {
        const asked = bit(body.selfMask, p) || bit(body.maskKey, p);
        if (asked !== this.#held.has(group[p]!)) {
          throw mismatch(
            `Unmasking: the request ${asked ? 'asks for' : 'omits'} client ${group[p]}, which ${asked ? 'did not share' : 'shared'} keys with this client`,
            { client: group[p] },
          );
        }
      }
      if (params.active) {
        // The survivors must be the ones this client signed, the request must follow them, and
        // t signers of each member's group must have signed them too.
        const signed = this.#signedAlive!;
        if (!equalBytes(body.alive, signed)) {
          throw protocolAbort('the unmasking request contradicts the survivors this client signed');
        }
        for (let p = 0; p < group.length; p++) {
          if (bit(body.selfMask, p) !== bit(signed, group[p]!)) {
            throw protocolAbort(
              `the unmasking request treats client ${group[p]} otherwise than the survivors this client signed`,
              { client: group[p] },
            );
          }
        }
        checkSignatures(
          {
            ...this.#survivorsCheck(),
            session,
            digest: setup.digest,
            verifyKey: (i) => this.#identity!.verifyKey(i),
          },
          signed,
          body.signatures,
        );
      }
      this.#checkGroupSurvivors(body.selfMask);
      // Send s_{v,u}^SK for v in U2 \ U3 and b_{v,u} for v in U3.
      const entries: RevealedShare[] = [];
      for (let p = 0; p < group.length; p++) {
        const owner = group[p]!;
        const h = this.#held.get(owner);
        if (h === undefined) continue;
        entries.push(
          bit(body.selfMask, p)
            ? { owner, kind: SHARE_KIND.selfMaskSeed, share: h.selfMaskSeed.slice() }
            : { owner, kind: SHARE_KIND.maskKey, share: h.maskKey.slice() },
        );
      }
      const reply = envelope(MSG.unmask, session, encodeUnmask({ from: me, entries }));
      for (const e of entries) e.share.fill(0);
      this.#stage = 'done';
      this.#erase();
      return reply;
    });
  }
}
