/**
 * The party side of the relay: one WebSocket to the exchange per job, and one {@link Channel}
 * per peer on it. `send` signs and numbers each message; `receive` checks the peer's
 * signature and the sequence before handing the payload over, so a protocol runner
 * (`runPsiClient(channel, ...)`) talks to its peer end to end through the blind relay.
 *
 * It runs wherever a WebSocket does: the platform's `WebSocket` (browsers, Deno, Bun, Node 22+),
 * else the `ws` package, loaded on Node 20 through `process.getBuiltinModule` so that no bundle
 * for the browser ever imports it. The upgrade is authenticated by signature fields in the
 * query (a browser cannot set headers) and the relay answers in band: `{"type":"ready"}` once
 * the party has joined, or an `error` notice and a close code.
 * @module
 */
import {
  type Channel,
  type ChannelOptions,
  type ErrorCode,
  hexToBytes,
  isErrorCode,
  QueueChannel,
  UnseenError,
} from '@unseen/core';
import { signRequestQuery } from './auth.js';
import type { Identity, PublicIdentity } from './identity.js';
import {
  decodeRelayFrame,
  encodeRelayFrame,
  RELAY_OVERHEAD,
  verifyRelayFrame,
} from './relay-frame.js';
import { messageBytes, type WebSocketLike } from './ws-channel.js';

/**
 * The part of the WHATWG `WebSocket` the relay client uses: browsers' and Node 22+'s global
 * `WebSocket` and the `ws` package all fit.
 */
export interface RelaySocket extends WebSocketLike {
  /** Bytes given to `send` and not yet put on the network. */
  readonly bufferedAmount: number;
}

/** A `WebSocket` constructor (`globalThis.WebSocket`, or `WebSocket` of the `ws` package). */
export type RelaySocketConstructor = new (url: string) => RelaySocket;

/** The `ws` package's constructor, with its Node-only options. */
type WsConstructor = new (
  url: string,
  protocols: string[],
  options: { maxPayload: number; handshakeTimeout: number },
) => RelaySocket;

const OPEN = 1;
const CONNECTING = 0;
/** Bytes a session lets its socket buffer before `send` waits for them to go out. */
const SEND_HIGH_WATER = 1024 * 1024;

let wsPackage: WsConstructor | undefined;

/**
 * The WebSocket to use: the platform's, else `ws` (Node 20), required through
 * `process.getBuiltinModule('node:module')` so that bundlers never see the import.
 * @throws UnseenError `ERR_UNSUPPORTED` when there is neither
 */
function platformWebSocket():
  | { kind: 'global'; ctor: RelaySocketConstructor }
  | { kind: 'ws'; ctor: WsConstructor } {
  const global = (globalThis as { WebSocket?: RelaySocketConstructor }).WebSocket;
  if (typeof global === 'function') return { kind: 'global', ctor: global };
  if (wsPackage === undefined) {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
      .process;
    const mod = proc?.getBuiltinModule?.('node:module') as
      | { createRequire(from: string): (id: string) => unknown }
      | undefined;
    try {
      wsPackage = (mod?.createRequire(import.meta.url)('ws') as { WebSocket: WsConstructor })
        ?.WebSocket;
    } catch {}
    if (typeof wsPackage !== 'function') {
      wsPackage = undefined;
      throw new UnseenError(
        'ERR_UNSUPPORTED',
        'no WebSocket: the platform has no global WebSocket and the ws package cannot be loaded',
      );
    }
  }
  return { kind: 'ws', ctor: wsPackage };
}

class PeerChannel extends QueueChannel {
  readonly #send: (payload: Uint8Array) => Promise<void>;

  constructor(send: (payload: Uint8Array) => Promise<void>, options: ChannelOptions) {
    super(options);
    this.#send = send;
  }

  push(payload: Uint8Array): void {
    this.deliver(payload);
  }

  end(error?: UnseenError): void {
    this.terminate(error);
  }

  protected transmit(message: Uint8Array): Promise<void> {
    return this.#send(message);
  }

  protected shutdown(): void {}
}

/** Options of {@link connectRelay}. */
export interface RelayConnectOptions extends ChannelOptions {
  /** Base URL of the exchange, e.g. `http://127.0.0.1:7700`. */
  url: string;
  identity: Identity;
  /** The exchange's key id (the audience of the signed upgrade). */
  exchangeKeyId: string;
  jobId: string;
  /** The job's other parties. */
  peers: readonly PublicIdentity[];
  /** How long to wait for the connection and the relay's admission, ms (default 10,000). */
  connectTimeoutMs?: number;
  /** The WebSocket implementation (default: `globalThis.WebSocket`, else the `ws` package). */
  webSocket?: RelaySocketConstructor;
}

/** A relay notice's error, as the relay serialized it (`UnseenError.toJSON`). */
interface ErrorNotice {
  code?: unknown;
  message?: unknown;
  details?: unknown;
}

function fromNotice(e: ErrorNotice | undefined, prefix: string): UnseenError {
  const code: ErrorCode = isErrorCode(e?.code) ? e.code : 'ERR_PROTOCOL_ABORTED';
  const details =
    typeof e?.details === 'object' && e.details !== null
      ? (e.details as Record<string, unknown>)
      : undefined;
  return new UnseenError(
    code,
    `${prefix}: ${typeof e?.message === 'string' ? e.message : code}`,
    details === undefined ? {} : { details },
  );
}

/** A party's connection to a job relay. */
export class RelaySession {
  readonly #ws: RelaySocket;
  readonly #identity: Identity;
  readonly #jobId: string;
  readonly #channels = new Map<string, PeerChannel>();
  readonly #keys = new Map<string, Uint8Array>();
  readonly #sendSeq = new Map<string, number>();
  readonly #recvSeq = new Map<string, number>();
  readonly #maxPayload: number;
  readonly #sendTimeoutMs: number;
  #joined = false;
  #closed = false;
  /** Why the session ended (undefined: closed normally). */
  #error: UnseenError | undefined;
  /** The relay's `error` notice, kept for the close that follows it. */
  #notice: UnseenError | undefined;
  #onJoin: ((error?: UnseenError) => void) | undefined;
  #bytesSent = 0;
  #bytesReceived = 0;

  /** @internal use {@link connectRelay} */
  constructor(ws: RelaySocket, options: RelayConnectOptions) {
    this.#ws = ws;
    this.#identity = options.identity;
    this.#jobId = options.jobId;
    this.#maxPayload = options.maxMessageBytes ?? 64 * 1024 * 1024;
    this.#sendTimeoutMs = options.timeoutMs ?? 30_000;
    for (const p of options.peers) {
      if (p.keyId === options.identity.keyId) continue;
      this.#keys.set(p.keyId, hexToBytes(p.publicKey));
      this.#channels.set(
        p.keyId,
        new PeerChannel((m) => this.#sendTo(p.keyId, m), {
          ...options,
          maxMessageBytes: this.#maxPayload,
        }),
      );
    }
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (event) => {
      const bytes = messageBytes(event.data);
      if (bytes !== undefined) this.#receive(bytes);
      else if (typeof event.data === 'string') this.#control(event.data);
    });
    ws.addEventListener('close', (event) => this.#closedBy(event.code, event.reason));
    // An `error` event is always followed by `close`, which carries what is known.
    ws.addEventListener('error', () => {});
  }

  /** Bytes of frames sent and received (payload plus framing and signatures). */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  get bytesReceived(): number {
    return this.#bytesReceived;
  }

  /** The channel to peer `keyId`. @throws UnseenError `ERR_INVALID_ARGUMENT` if not a peer */
  channel(keyId: string): Channel {
    const c = this.#channels.get(keyId);
    if (c === undefined)
      throw new UnseenError('ERR_INVALID_ARGUMENT', `${keyId} is not a peer in this job`);
    return c;
  }

  /**
   * Resolves once the relay has admitted this party.
   * @internal used by {@link connectRelay}
   */
  joined(timeoutMs: number): Promise<void> {
    if (this.#joined) return Promise.resolve();
    if (this.#closed) return Promise.reject(this.#error ?? closedError());
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#shut(
          new UnseenError(
            'ERR_TIMEOUT',
            `the relay did not admit this party within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#onJoin = (error) => {
        clearTimeout(timer);
        this.#onJoin = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
    });
  }

  async #sendTo(peer: string, payload: Uint8Array): Promise<void> {
    if (payload.length > this.#maxPayload) {
      throw new UnseenError(
        'ERR_MESSAGE_TOO_LARGE',
        `message of ${payload.length} bytes exceeds ${this.#maxPayload}`,
      );
    }
    if (this.#closed || this.#ws.readyState !== OPEN) throw this.#error ?? closedError();
    const seq = (this.#sendSeq.get(peer) ?? 0) + 1;
    this.#sendSeq.set(peer, seq);
    const frame = encodeRelayFrame(this.#identity, this.#jobId, peer, seq, payload);
    this.#bytesSent += frame.length;
    this.#ws.send(frame);
    if (this.#ws.bufferedAmount > SEND_HIGH_WATER) await this.#drain();
  }

  /**
   * Waits until the socket has put its buffer out to the high-water mark: the relay stops
   * reading from a sender whose peer is behind, so this is where that backpressure arrives.
   * @throws UnseenError `ERR_TIMEOUT` (the session is then closed), or the session's error
   */
  async #drain(): Promise<void> {
    const deadline = Date.now() + this.#sendTimeoutMs;
    let wait = 2;
    while (this.#ws.bufferedAmount > SEND_HIGH_WATER) {
      if (this.#closed) throw this.#error ?? closedError();
      if (Date.now() >= deadline) {
        const err = new UnseenError(
          'ERR_TIMEOUT',
          `relay send: ${this.#ws.bufferedAmount} bytes still unsent after ${this.#sendTimeoutMs} ms`,
          { details: { timeoutMs: this.#sendTimeoutMs } },
        );
        this.#shut(err);
        throw err;
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 50);
    }
  }

  #receive(bytes: Uint8Array): void {
    this.#bytesReceived += bytes.length;
    try {
      if (!this.#joined)
        throw new UnseenError('ERR_UNEXPECTED_MESSAGE', 'relay frame before the relay admitted us');
      const f = decodeRelayFrame(bytes, this.#maxPayload);
      const key = this.#keys.get(f.from);
      if (f.jobId !== this.#jobId || f.to !== this.#identity.keyId || key === undefined) {
        throw new UnseenError(
          'ERR_INTEGRITY',
          'relay frame is not addressed to this party in this job',
        );
      }
      const expected = (this.#recvSeq.get(f.from) ?? 0) + 1;
      if (f.seq !== expected)
        throw new UnseenError('ERR_INTEGRITY', `relay frame seq ${f.seq}, expected ${expected}`);
      if (!verifyRelayFrame(f, key))
        throw new UnseenError('ERR_INTEGRITY', 'relay frame signature does not verify');
      this.#recvSeq.set(f.from, expected);
      this.#channels.get(f.from)!.push(f.payload.slice());
    } catch (e) {
      // A frame that fails end-to-end checks means the relay or a peer misbehaves: stop.
      this.#shut(
        e instanceof UnseenError ? e : new UnseenError('ERR_MALFORMED_MESSAGE', 'bad relay frame'),
      );
    }
  }

  #control(text: string): void {
    let msg: { type?: unknown; party?: unknown; error?: ErrorNotice };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === 'ready' && !this.#closed) {
      this.#joined = true;
      this.#onJoin?.();
    } else if (msg.type === 'closed' && typeof msg.party === 'string') {
      // A peer left, or the relay disconnected it (with the reason: a reader too slow, ...).
      const error =
        msg.error === undefined
          ? new UnseenError('ERR_CHANNEL_CLOSED', 'the peer left the relay')
          : fromNotice(msg.error, `the relay disconnected peer ${msg.party}`);
      this.#channels.get(msg.party)?.end(error);
    } else if (msg.type === 'error') {
      this.#notice = fromNotice(
        msg.error,
        this.#joined ? 'the relay closed the connection' : 'the relay refused this party',
      );
    }
  }

  #closedBy(code: number, reason: string): void {
    if (this.#closed) return;
    let err: UnseenError | undefined;
    const status = code >= 4000 && code < 5000 ? code - 4000 : undefined;
    if (this.#notice !== undefined) {
      err = new UnseenError(this.#notice.code, this.#notice.message, {
        details: { ...this.#notice.details, wsCode: code, ...(status ? { status } : {}) },
      });
    } else if (status !== undefined && isErrorCode(reason)) {
      err = new UnseenError(reason, `the relay closed the connection (${code}: ${reason})`, {
        details: { wsCode: code, status },
      });
    } else if (code !== 1000 || !this.#joined) {
      err = new UnseenError(
        'ERR_CHANNEL_CLOSED',
        `relay ${this.#joined ? 'closed' : 'connection failed'} (${code}${reason ? `: ${reason}` : ''})`,
        { details: { wsCode: code } },
      );
    }
    this.#shut(err);
  }

  #shut(error?: UnseenError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    for (const c of this.#channels.values()) c.end(error);
    this.#onJoin?.(error ?? closedError());
    const state = this.#ws.readyState;
    if (state === OPEN || state === CONNECTING) this.#ws.close(1000);
  }

  /** Closes the connection and every channel. */
  close(): void {
    this.#shut();
  }
}

function closedError(): UnseenError {
  return new UnseenError('ERR_CHANNEL_CLOSED', 'the relay session is closed');
}

/**
 * Connects to a job's relay.
 * @throws UnseenError with the code the exchange answered (`ERR_UNAUTHORIZED`,
 *   `ERR_NOT_FOUND`, `ERR_INVALID_STATE`, ...; `details.status` its HTTP status),
 *   `ERR_TIMEOUT`, `ERR_CHANNEL_CLOSED` (no connection), `ERR_UNSUPPORTED` (no WebSocket)
 * @example
 * ```ts
 * const session = await connectRelay({ url, identity: shop, exchangeKeyId, jobId, peers: [bank.public] });
 * await session.channel(bank.keyId).send(new Uint8Array([1, 2, 3]));
 * ```
 */
export async function connectRelay(options: RelayConnectOptions): Promise<RelaySession> {
  const base = new URL(options.url);
  const path = `/v1/jobs/${options.jobId}/relay`;
  const query = signRequestQuery(options.identity, {
    method: 'GET',
    path,
    body: new Uint8Array(0),
    audience: options.exchangeKeyId,
  });
  const url = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${path}?${query}`;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const maxPayload = (options.maxMessageBytes ?? 64 * 1024 * 1024) + RELAY_OVERHEAD;
  const impl =
    options.webSocket === undefined
      ? platformWebSocket()
      : { kind: 'global' as const, ctor: options.webSocket };
  let ws: RelaySocket;
  try {
    ws =
      impl.kind === 'ws'
        ? new impl.ctor(url, [], { maxPayload, handshakeTimeout: timeoutMs })
        : new impl.ctor(url);
  } catch (cause) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `cannot open a WebSocket to ${base.host}`, {
      cause,
    });
  }
  const session = new RelaySession(ws, options);
  await session.joined(timeoutMs);
  return session;
}
