/**
 * The blind relay: the exchange side of the WebSocket transport. A party of a job connects to
 * `/v1/jobs/:id/relay` with a signed upgrade request; the relay checks each binary frame
 * (sender is the connection's party, recipient is another party of the job, sequence number
 * is the next one, signature verifies) and forwards it unchanged. It cannot read protocol
 * content beyond its size, and it counts bytes per job for the receipt. A frame for a party
 * not yet connected waits in a queue bounded per job and across the relay. Text messages from
 * the relay are control notices: `{"type":"closed","party":...}` when a peer leaves,
 * `{"type":"error",...}` before the relay closes a connection for a bad frame.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { aint, isUnseenError, UnseenError } from '@unseen/core';
import { WebSocket, WebSocketServer } from 'ws';
import { type ReplayGuard, verifyRequest } from './auth.js';
import type { Exchange } from './exchange.js';
import { statusOf } from './http.js';
import { decodeRelayFrame, RELAY_OVERHEAD, verifyRelayFrame } from './relay-frame.js';
import { requestUrl } from './service.js';
import { messageBytes } from './ws-channel.js';

/** Options of {@link RelayHub}. */
export interface RelayOptions {
  replayGuard: ReplayGuard;
  /** Largest payload of one frame (default 64 MiB). */
  maxPayloadBytes?: number;
  /** Bytes held for the recipients of one job that have not connected yet (default 64 MiB). */
  maxQueuedBytes?: number;
  /**
   * Bytes held for recipients not connected yet across all jobs (default 256 MiB): the memory
   * the relay's queues can take, however many jobs are open.
   */
  maxTotalQueuedBytes?: number;
}

interface Room {
  parties: Set<string>;
  sockets: Map<string, WebSocket>;
  queued: Map<string, Uint8Array[]>;
  queuedBytes: number;
  lastSeq: Map<string, number>;
}

const PATH = /^\/v1\/jobs\/([0-9a-f]{32})\/relay$/;

/** WebSocket close codes the relay uses: 4000 + the HTTP status of the error. */
export function closeCodeOf(e: unknown): number {
  return 4000 + statusOf(e);
}

/** The relay of one exchange process. Attach it to a Node http server's `upgrade` event. */
export class RelayHub {
  readonly #ex: Exchange;
  readonly #guard: ReplayGuard;
  readonly #maxPayload: number;
  readonly #maxQueued: number;
  readonly #maxTotalQueued: number;
  /** Bytes in every room's queues. */
  #queuedTotal = 0;
  readonly #wss: WebSocketServer;
  readonly #rooms = new Map<string, Room>();
  readonly #unsubscribe: () => void;

  constructor(exchange: Exchange, options: RelayOptions) {
    this.#ex = exchange;
    this.#guard = options.replayGuard;
    const MiB = 1024 * 1024;
    this.#maxPayload = aint(options.maxPayloadBytes ?? 64 * MiB, 'maxPayloadBytes', 1024, 2 ** 31);
    this.#maxQueued = aint(options.maxQueuedBytes ?? 64 * MiB, 'maxQueuedBytes', 0, 2 ** 40);
    this.#maxTotalQueued = aint(
      options.maxTotalQueuedBytes ?? 256 * MiB,
      'maxTotalQueuedBytes',
      0,
      2 ** 40,
    );
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#maxPayload + RELAY_OVERHEAD,
    });
    this.#unsubscribe = exchange.onJobEnd((job) =>
      this.#closeRoom(job.id, 1000, `job ${job.state}`),
    );
  }

  /** Number of open relay connections. */
  get connections(): number {
    let n = 0;
    for (const r of this.#rooms.values()) n += r.sockets.size;
    return n;
  }

  /** Bytes queued for parties not connected yet, across all jobs. */
  get queuedBytes(): number {
    return this.#queuedTotal;
  }

  /** Handles an HTTP upgrade: authenticates, admits the party to the job's room, or refuses. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#admit(req).then(
      ({ jobId, party, parties }) => {
        this.#wss.handleUpgrade(req, socket, head, (ws) => this.#join(jobId, party, parties, ws));
      },
      (e) => refuseUpgrade(socket, e),
    );
  }

  async #admit(req: IncomingMessage): Promise<{ jobId: string; party: string; parties: string[] }> {
    const url = requestUrl(req.url);
    if (url === undefined) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        'request-target must be a normalized path in origin form (/path?query)',
      );
    }
    const m = PATH.exec(url.pathname);
    if (m === null) throw new UnseenError('ERR_NOT_FOUND', `no relay at ${url.pathname}`);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const keyId = await verifyRequest(
      {
        method: 'GET',
        path: url.pathname + url.search,
        body: new Uint8Array(0),
        headers,
        audience: this.#ex.identity.keyId,
      },
      (k) => this.#ex.publicKeyOf(k),
      this.#guard,
      this.#ex.now(),
    );
    const actor = await this.#ex.party(keyId);
    const job = await this.#ex.joinJob(actor, m[1]!);
    const room = this.#rooms.get(job.id);
    if (room?.sockets.has(keyId))
      throw new UnseenError('ERR_CONFLICT', 'this party is already connected to the job relay');
    const parties = [job.consumer, ...job.providers];
    await this.#loadKeys(parties);
    return { jobId: job.id, party: keyId, parties };
  }

  #join(jobId: string, party: string, parties: string[], ws: WebSocket): void {
    let room = this.#rooms.get(jobId);
    if (room === undefined) {
      room = {
        parties: new Set(parties),
        sockets: new Map(),
        queued: new Map(),
        queuedBytes: 0,
        lastSeq: new Map(),
      };
      this.#rooms.set(jobId, room);
    }
    if (room.sockets.has(party)) {
      ws.close(4409, 'already connected');
      return;
    }
    room.sockets.set(party, ws);
    const waiting = room.queued.get(party) ?? [];
    room.queued.delete(party);
    for (const f of waiting) {
      room.queuedBytes -= f.length;
      this.#queuedTotal -= f.length;
      ws.send(f);
    }
    const r = room;
    ws.on('message', (data, isBinary) => {
      if (!isBinary)
        return this.#reject(
          ws,
          new UnseenError('ERR_MALFORMED_MESSAGE', 'relay accepts binary frames only'),
        );
      const bytes = messageBytes(data);
      if (bytes !== undefined) this.#relay(jobId, r, party, ws, bytes);
    });
    ws.on('close', () => {
      if (r.sockets.get(party) !== ws) return;
      r.sockets.delete(party);
      for (const other of r.sockets.values()) sendText(other, { type: 'closed', party });
      if (r.sockets.size === 0 && this.#rooms.get(jobId) === r) {
        this.#rooms.delete(jobId);
        this.#release(r);
      }
    });
    ws.on('error', () => ws.terminate());
  }

  #relay(jobId: string, room: Room, party: string, ws: WebSocket, bytes: Uint8Array): void {
    try {
      const frame = decodeRelayFrame(bytes, this.#maxPayload);
      if (frame.jobId !== jobId || frame.from !== party) {
        throw new UnseenError(
          'ERR_UNAUTHORIZED',
          'relay frame: sender or job does not match this connection',
        );
      }
      if (!room.parties.has(frame.to) || frame.to === party) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          'relay frame: recipient is not another party of this job',
        );
      }
      const link = `${frame.from}>${frame.to}`;
      const expected = (room.lastSeq.get(link) ?? 0) + 1;
      if (frame.seq !== expected) {
        throw new UnseenError('ERR_REPLAY', `relay frame: seq ${frame.seq}, expected ${expected}`);
      }
      const key = this.#keyOf(party);
      if (key === undefined || !verifyRelayFrame(frame, key)) {
        throw new UnseenError('ERR_UNAUTHORIZED', 'relay frame: signature does not verify');
      }
      const target = room.sockets.get(frame.to);
      const open = target !== undefined && target.readyState === WebSocket.OPEN;
      if (!open) this.#checkQueue(room, bytes.length);
      room.lastSeq.set(link, expected);
      this.#ex.addRelayedBytes(jobId, bytes.length);
      if (open) {
        target.send(bytes);
        return;
      }
      const q = room.queued.get(frame.to) ?? [];
      q.push(bytes.slice());
      room.queued.set(frame.to, q);
      room.queuedBytes += bytes.length;
      this.#queuedTotal += bytes.length;
    } catch (e) {
      this.#reject(ws, e);
    }
  }

  /**
   * Refuses to queue a frame of `n` bytes that would take the job's queues above the per-job
   * bound, or the queues of all jobs above the relay's bound. Checked before the frame counts
   * (sequence number, metering), so that a refused frame changes nothing.
   * @throws UnseenError `ERR_MESSAGE_TOO_LARGE` (details `{ scope: 'job' | 'relay', max }`)
   */
  #checkQueue(room: Room, n: number): void {
    if (room.queuedBytes + n > this.#maxQueued) {
      throw new UnseenError('ERR_MESSAGE_TOO_LARGE', 'relay queue for an absent party is full', {
        details: { scope: 'job', max: this.#maxQueued },
      });
    }
    if (this.#queuedTotal + n > this.#maxTotalQueued) {
      throw new UnseenError(
        'ERR_MESSAGE_TOO_LARGE',
        'relay queues are full: the exchange holds its bound of undelivered bytes',
        { details: { scope: 'relay', max: this.#maxTotalQueued } },
      );
    }
  }

  /** Drops a closed room's queued frames. */
  #release(room: Room): void {
    this.#queuedTotal -= room.queuedBytes;
    room.queuedBytes = 0;
    room.queued.clear();
  }

  readonly #keys = new Map<string, Uint8Array>();
  #keyOf(keyId: string): Uint8Array | undefined {
    return this.#keys.get(keyId);
  }

  /** Caches the public keys of a job's parties (called before frames can arrive). */
  async #loadKeys(parties: readonly string[]): Promise<void> {
    for (const k of parties) {
      if (!this.#keys.has(k)) {
        const pk = await this.#ex.publicKeyOf(k);
        if (pk) this.#keys.set(k, pk);
      }
    }
  }

  #reject(ws: WebSocket, e: unknown): void {
    const err = isUnseenError(e) ? e : new UnseenError('ERR_INTERNAL', 'relay failure');
    sendText(ws, { type: 'error', error: err.toJSON() });
    ws.close(closeCodeOf(err), err.code);
  }

  #closeRoom(jobId: string, code: number, reason: string): void {
    const room = this.#rooms.get(jobId);
    if (room === undefined) return;
    this.#rooms.delete(jobId);
    this.#release(room);
    for (const ws of room.sockets.values()) ws.close(code, reason);
  }

  /** Closes every connection and stops listening to the exchange. */
  close(): void {
    this.#unsubscribe();
    for (const id of [...this.#rooms.keys()]) this.#closeRoom(id, 1001, 'exchange shutting down');
    this.#wss.close();
  }
}

function sendText(ws: WebSocket, message: unknown): void {
  if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function refuseUpgrade(socket: Duplex, e: unknown): void {
  const status = statusOf(e);
  const body = JSON.stringify({
    error: isUnseenError(e) ? e.toJSON() : { code: 'ERR_INTERNAL', message: 'internal error' },
  });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Refused'}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
