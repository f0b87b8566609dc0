/**
 * The party side of the relay: one WebSocket to the exchange per job, and one {@link Channel}
 * per peer on it. `send` signs and numbers each message; `receive` checks the peer's
 * signature and the sequence before handing the payload over, so a protocol runner
 * (`runPsiClient(channel, ...)`) talks to its peer end to end through the blind relay.
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
import { WebSocket } from 'ws';
import { signRequest } from './auth.js';
import type { Identity, PublicIdentity } from './identity.js';
import {
  decodeRelayFrame,
  encodeRelayFrame,
  RELAY_OVERHEAD,
  verifyRelayFrame,
} from './relay-frame.js';
import { messageBytes } from './ws-channel.js';

class PeerChannel extends QueueChannel {
  readonly #send: (payload: Uint8Array) => Promise<void>;
  readonly #close: () => void;

  constructor(
    send: (payload: Uint8Array) => Promise<void>,
    close: () => void,
    options: ChannelOptions,
  ) {
    super(options);
    this.#send = send;
    this.#close = close;
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

  protected shutdown(): void {
    this.#close();
  }
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
  /** How long to wait for the connection, ms (default 10,000). */
  connectTimeoutMs?: number;
}

/** A party's connection to a job relay. */
export class RelaySession {
  readonly #ws: WebSocket;
  readonly #identity: Identity;
  readonly #jobId: string;
  readonly #channels = new Map<string, PeerChannel>();
  readonly #keys = new Map<string, Uint8Array>();
  readonly #sendSeq = new Map<string, number>();
  readonly #recvSeq = new Map<string, number>();
  readonly #maxPayload: number;
  #closed = false;
  #bytesSent = 0;
  #bytesReceived = 0;

  /** @internal use {@link connectRelay} */
  constructor(ws: WebSocket, options: RelayConnectOptions) {
    this.#ws = ws;
    this.#identity = options.identity;
    this.#jobId = options.jobId;
    this.#maxPayload = options.maxMessageBytes ?? 64 * 1024 * 1024;
    for (const p of options.peers) {
      if (p.keyId === options.identity.keyId) continue;
      this.#keys.set(p.keyId, hexToBytes(p.publicKey));
      this.#channels.set(
        p.keyId,
        new PeerChannel(
          (m) => this.#sendTo(p.keyId, m),
          () => {},
          { ...options, maxMessageBytes: this.#maxPayload },
        ),
      );
    }
    ws.binaryType = 'arraybuffer';
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return this.#control(String(data));
      const bytes = messageBytes(data);
      if (bytes !== undefined) this.#receive(bytes);
    });
    ws.on('close', (code, reason) => {
      const why = reason.toString();
      const err =
        code === 1000
          ? undefined
          : new UnseenError(
              'ERR_CHANNEL_CLOSED',
              `relay closed (${code}${why ? `: ${why}` : ''})`,
              { details: { wsCode: code } },
            );
      this.#shut(err);
    });
    ws.on('error', () =>
      this.#shut(new UnseenError('ERR_CHANNEL_CLOSED', 'relay connection error')),
    );
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

  async #sendTo(peer: string, payload: Uint8Array): Promise<void> {
    if (payload.length > this.#maxPayload) {
      throw new UnseenError(
        'ERR_MESSAGE_TOO_LARGE',
        `message of ${payload.length} bytes exceeds ${this.#maxPayload}`,
      );
    }
    const seq = (this.#sendSeq.get(peer) ?? 0) + 1;
    this.#sendSeq.set(peer, seq);
    const frame = encodeRelayFrame(this.#identity, this.#jobId, peer, seq, payload);
    this.#bytesSent += frame.length;
    await new Promise<void>((resolve, reject) => {
      this.#ws.send(frame, (error) =>
        error
          ? reject(new UnseenError('ERR_CHANNEL_CLOSED', `relay send failed: ${error.message}`))
          : resolve(),
      );
    });
  }

  #receive(bytes: Uint8Array): void {
    this.#bytesReceived += bytes.length;
    try {
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
    let msg: { type?: unknown; party?: unknown; error?: { code?: unknown; message?: unknown } };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === 'closed' && typeof msg.party === 'string') {
      this.#channels
        .get(msg.party)
        ?.end(new UnseenError('ERR_CHANNEL_CLOSED', 'the peer left the relay'));
    } else if (msg.type === 'error') {
      const code = typeof msg.error?.code === 'string' ? msg.error.code : 'ERR_PROTOCOL_ABORTED';
      this.#shut(
        new UnseenError(
          'ERR_PROTOCOL_ABORTED',
          `relay refused a frame: ${code}: ${String(msg.error?.message)}`,
        ),
      );
    }
  }

  #shut(error?: UnseenError): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#channels.values()) c.end(error);
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING)
      this.#ws.close(1000);
  }

  /** Closes the connection and every channel. */
  close(): void {
    this.#shut();
  }
}

/**
 * Connects to a job's relay.
 * @throws UnseenError with the code the exchange answered (`ERR_UNAUTHORIZED`,
 *   `ERR_NOT_FOUND`, `ERR_INVALID_STATE`, ...), or `ERR_TIMEOUT`
 */
export function connectRelay(options: RelayConnectOptions): Promise<RelaySession> {
  const base = new URL(options.url);
  const path = `/v1/jobs/${options.jobId}/relay`;
  const headers = signRequest(options.identity, {
    method: 'GET',
    path,
    body: new Uint8Array(0),
    audience: options.exchangeKeyId,
  });
  const wsUrl = `${base.protocol === 'https:' ? 'wss:' : 'ws:'}//${base.host}${path}`;
  const maxPayload = (options.maxMessageBytes ?? 64 * 1024 * 1024) + RELAY_OVERHEAD;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, {
      headers,
      maxPayload,
      handshakeTimeout: options.connectTimeoutMs ?? 10_000,
    });
    const fail = (e: UnseenError) => {
      ws.removeAllListeners();
      ws.on('error', () => {});
      ws.terminate();
      reject(e);
    };
    ws.once('open', () => {
      ws.removeAllListeners();
      resolve(new RelaySession(ws, options));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => {
        let code: ErrorCode = 'ERR_PROTOCOL_ABORTED';
        let message = `relay refused with HTTP ${res.statusCode}`;
        try {
          const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
          if (isErrorCode(body.error?.code)) code = body.error.code;
          if (body.error?.message) message = body.error.message;
        } catch {}
        fail(new UnseenError(code, message, { details: { status: res.statusCode } }));
      });
    });
    ws.once('error', (e) =>
      fail(
        new UnseenError(
          /timeout/i.test(e.message) ? 'ERR_TIMEOUT' : 'ERR_CHANNEL_CLOSED',
          `relay connection failed: ${e.message}`,
        ),
      ),
    );
  });
}
