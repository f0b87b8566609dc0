/**
 * The blind relay: the exchange side of the WebSocket transport. A party of a job connects to
 * `/v1/jobs/:id/relay` with a signed upgrade request (signature headers, or the same four
 * fields in the query for clients that cannot set headers, such as browsers); the relay checks
 * each binary frame (sender is the connection's party, recipient is another party of the job,
 * sequence number is the next one, signature verifies) and forwards it unchanged. It cannot
 * read protocol content beyond its size, and it counts bytes per job for the receipt.
 *
 * Memory is bounded. Every byte the relay holds for a recipient counts against a bound per job
 * and one across all jobs: frames queued for a party not connected yet, and frames sent to a
 * connected party that it has not read yet (they wait in its socket's send buffer). When a
 * party has `highWaterBytes` unread, the relay stops reading from the parties that send to it
 * (TCP backpressure up to their `send`) until it has read half; a party that reads nothing for
 * `stallTimeoutMs` meanwhile, or that is still behind when a frame for it would take the bounds
 * over, is disconnected, and its peers are told why.
 *
 * Text messages from the relay are control notices: `{"type":"ready"}` once the party has
 * joined, `{"type":"closed","party":...,"error"?:...}` when a peer leaves or is disconnected,
 * `{"type":"error","error":...}` before the relay closes a connection (a bad frame, a refused
 * upgrade authenticated in the query, a reader too slow).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { aint, isUnseenError, UnseenError } from '@unseen/core';
import { WebSocket, WebSocketServer } from 'ws';
import { AUTH_HEADERS, type ReplayGuard, verifyRequest } from './auth.js';
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
  /**
   * Undelivered bytes the relay holds for one job (default 64 MiB): frames queued for parties
   * not connected yet, plus frames sent to connected parties and not read by them yet.
   */
  maxQueuedBytes?: number;
  /**
   * Undelivered bytes the relay holds across all jobs (default 256 MiB), counted as for
   * `maxQueuedBytes`: the memory the relay's buffers can take, however many jobs are open.
   */
  maxTotalQueuedBytes?: number;
  /**
   * Unread bytes of one connected party at which it is behind: the relay stops reading from the
   * parties sending to it until it is down to half (default 1 MiB, or half of `maxQueuedBytes`
   * if that is smaller; at most `maxQueuedBytes`).
   */
  highWaterBytes?: number;
  /**
   * How long a party may stay above its high-water mark without reading a frame, ms (default
   * 30,000); then it is disconnected with `ERR_TIMEOUT`.
   */
  stallTimeoutMs?: number;
}

/** One party's WebSocket in a room. */
interface Conn {
  readonly ws: WebSocket;
  readonly party: string;
  readonly room: Room;
  /** Bytes handed to the socket and not yet written out of this process. */
  buffered: number;
  /** Above the high-water mark, not yet back to half of it. */
  congested: boolean;
  /** Congested receivers this connection sent to: its reading is paused while any is left. */
  readonly waitingOn: Set<Conn>;
  /** Senders paused because of this (congested) connection. */
  readonly holding: Set<Conn>;
  stall: ReturnType<typeof setTimeout> | undefined;
  /** Closed: its bytes are no longer counted. */
  gone: boolean;
}

interface Room {
  readonly jobId: string;
  readonly parties: Set<string>;
  readonly sockets: Map<string, Conn>;
  readonly queued: Map<string, Uint8Array[]>;
  queuedBytes: number;
  /** Bytes in the send buffers of this room's connections. */
  bufferedBytes: number;
  readonly lastSeq: Map<string, number>;
  /** The job ended or its last party left: frames still arriving go nowhere. */
  closed: boolean;
}

const PATH = /^\/v1\/jobs\/([0-9a-f]{32})\/relay$/;
const QUERY_AUTH: ReadonlySet<string> = new Set(Object.values(AUTH_HEADERS));
/** How long a connection being closed may keep unwritten bytes before it is cut. */
const CLOSE_GRACE_MS = 5_000;
/** How long a refused upgrade (authenticated in the query) stays open to deliver the reason. */
const REFUSED_GRACE_MS = 2_000;

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
  readonly #highWater: number;
  readonly #stallMs: number;
  /** Bytes in every room's queues. */
  #queuedTotal = 0;
  /** Bytes in every connection's send buffer. */
  #bufferedTotal = 0;
  readonly #wss: WebSocketServer;
  readonly #rooms = new Map<string, Room>();
  /** Parties disconnected for reading too slowly, per job (until the job ends). */
  readonly #evicted = new Map<string, Set<string>>();
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
    // A party is behind once it holds this much unread; it must be possible within the bound.
    this.#highWater = aint(
      options.highWaterBytes ?? Math.max(1, Math.min(MiB, Math.floor(this.#maxQueued / 2))),
      'highWaterBytes',
      1,
      Math.max(1, this.#maxQueued),
    );
    this.#stallMs = aint(options.stallTimeoutMs ?? 30_000, 'stallTimeoutMs', 1, 2 ** 31 - 1);
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#maxPayload + RELAY_OVERHEAD,
    });
    this.#unsubscribe = exchange.onJobEnd((job) => {
      this.#evicted.delete(job.id);
      this.#closeRoom(job.id, 1000, `job ${job.state}`);
    });
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

  /**
   * Bytes sent to connected parties and not yet written to their sockets (what slow readers
   * hold in this process), across all jobs.
   */
  get bufferedBytes(): number {
    return this.#bufferedTotal;
  }

  /** Connections whose reading is paused because a party they send to is behind. */
  get pausedConnections(): number {
    let n = 0;
    for (const r of this.#rooms.values())
      for (const c of r.sockets.values()) if (c.waitingOn.size > 0) n++;
    return n;
  }

  /**
   * Handles an HTTP upgrade: authenticates, admits the party to the job's room, or refuses.
   * A request authenticated by headers is refused with an HTTP error; one authenticated in
   * the query (a browser's: it cannot read an HTTP refusal) is accepted and then closed with
   * an `error` notice and the close code of the error.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = requestUrl(req.url);
    const inBand = url?.searchParams.has(AUTH_HEADERS.key) === true;
    this.#admit(req, url).then(
      ({ jobId, party, parties }) => {
        this.#wss.handleUpgrade(req, socket, head, (ws) => this.#join(jobId, party, parties, ws));
      },
      (e) => {
        if (!inBand) return refuseUpgrade(socket, e);
        this.#wss.handleUpgrade(req, socket, head, (ws) => {
          ws.on('error', () => ws.terminate());
          this.#refuse(ws, e);
          // A refused client gets a moment to read why, not ws's 30 s of closing handshake.
          const cut = setTimeout(() => ws.terminate(), REFUSED_GRACE_MS);
          cut.unref?.();
          ws.once('close', () => clearTimeout(cut));
        });
      },
    );
  }

  async #admit(
    req: IncomingMessage,
    url: URL | undefined,
  ): Promise<{ jobId: string; party: string; parties: string[] }> {
    if (url === undefined) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        'request-target must be a normalized path in origin form (/path?query)',
      );
    }
    const m = PATH.exec(url.pathname);
    if (m === null) throw new UnseenError('ERR_NOT_FOUND', `no relay at ${url.pathname}`);
    let auth: { get(name: string): string | null };
    if (url.search === '') {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string') headers.set(k, v);
      auth = headers;
    } else {
      // The query carries the signature fields and nothing else; the signature covers the path.
      const keys = [...url.searchParams.keys()];
      if (keys.some((k) => !QUERY_AUTH.has(k)) || new Set(keys).size !== keys.length) {
        throw new UnseenError(
          'ERR_MALFORMED_MESSAGE',
          `the relay's query may only carry ${[...QUERY_AUTH].join(', ')}, once each`,
        );
      }
      auth = url.searchParams;
    }
    const keyId = await verifyRequest(
      {
        method: 'GET',
        path: url.pathname,
        body: new Uint8Array(0),
        headers: auth,
        audience: this.#ex.identity.keyId,
      },
      (k) => this.#ex.publicKeyOf(k),
      this.#guard,
      this.#ex.now(),
    );
    const actor = await this.#ex.party(keyId);
    const job = await this.#ex.joinJob(actor, m[1]!);
    if (this.#evicted.get(job.id)?.has(keyId)) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        'this party was disconnected from the job relay for reading too slowly',
      );
    }
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
        jobId,
        parties: new Set(parties),
        sockets: new Map(),
        queued: new Map(),
        queuedBytes: 0,
        bufferedBytes: 0,
        lastSeq: new Map(),
        closed: false,
      };
      this.#rooms.set(jobId, room);
    }
    ws.on('error', () => ws.terminate());
    if (room.sockets.has(party)) {
      ws.close(4409, 'ERR_CONFLICT');
      return;
    }
    const c: Conn = {
      ws,
      party,
      room,
      buffered: 0,
      congested: false,
      waitingOn: new Set(),
      holding: new Set(),
      stall: undefined,
      gone: false,
    };
    room.sockets.set(party, c);
    sendText(ws, { type: 'ready' });
    const waiting = room.queued.get(party) ?? [];
    room.queued.delete(party);
    for (const f of waiting) {
      room.queuedBytes -= f.length;
      this.#queuedTotal -= f.length;
      this.#deliver(c, f, undefined);
    }
    ws.on('message', (data, isBinary) => {
      if (c.gone || room.closed || room.sockets.get(party) !== c) return;
      if (!isBinary)
        return this.#reject(
          c,
          new UnseenError('ERR_MALFORMED_MESSAGE', 'relay accepts binary frames only'),
        );
      const bytes = messageBytes(data);
      if (bytes !== undefined) this.#relay(c, bytes);
    });
    ws.on('close', () => {
      this.#release(c);
      this.#leave(c);
    });
  }

  #relay(c: Conn, bytes: Uint8Array): void {
    const { room, party } = c;
    try {
      const frame = decodeRelayFrame(bytes, this.#maxPayload);
      if (frame.jobId !== room.jobId || frame.from !== party) {
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
      if (this.#evicted.get(room.jobId)?.has(frame.to)) {
        // The recipient was disconnected (its peers were told): the frame goes nowhere.
        room.lastSeq.set(link, expected);
        return;
      }
      const target = room.sockets.get(frame.to);
      const open = target !== undefined && target.ws.readyState === WebSocket.OPEN;
      const over = this.#overBound(room, bytes.length);
      if (over !== undefined) {
        // A recipient that is behind (over its high-water mark) is the one holding the memory.
        if (open && target.congested) {
          room.lastSeq.set(link, expected);
          this.#evict(
            target,
            new UnseenError(
              'ERR_MESSAGE_TOO_LARGE',
              `party ${target.party} did not read the frames relayed to it, and the ${over.scope === 'job' ? "job's" : "relay's"} bound of ${over.max} undelivered bytes is reached`,
              { details: { reason: 'slow-reader', scope: over.scope, max: over.max } },
            ),
          );
          return;
        }
        throw new UnseenError(
          'ERR_MESSAGE_TOO_LARGE',
          over.scope === 'job'
            ? "the job's undelivered relay bytes would exceed their bound"
            : 'relay buffers are full: the exchange holds its bound of undelivered bytes',
          { details: { scope: over.scope, max: over.max } },
        );
      }
      room.lastSeq.set(link, expected);
      this.#ex.addRelayedBytes(room.jobId, bytes.length);
      if (open) {
        this.#deliver(target, bytes, c);
        return;
      }
      const q = room.queued.get(frame.to) ?? [];
      q.push(bytes.slice());
      room.queued.set(frame.to, q);
      room.queuedBytes += bytes.length;
      this.#queuedTotal += bytes.length;
    } catch (e) {
      this.#reject(c, e);
    }
  }

  /**
   * The bound that `n` more undelivered bytes would exceed: the job's (queued and buffered
   * bytes of its room) or the relay's (all rooms). Checked before the frame counts (sequence
   * number, metering), so that a refused frame changes nothing.
   */
  #overBound(room: Room, n: number): { scope: 'job' | 'relay'; max: number } | undefined {
    if (room.queuedBytes + room.bufferedBytes + n > this.#maxQueued)
      return { scope: 'job', max: this.#maxQueued };
    if (this.#queuedTotal + this.#bufferedTotal + n > this.#maxTotalQueued)
      return { scope: 'relay', max: this.#maxTotalQueued };
    return undefined;
  }

  /**
   * Sends a frame to a connected party and counts it until the socket has written it. A
   * party that goes over the high-water mark pauses the reading of `from`.
   */
  #deliver(to: Conn, bytes: Uint8Array, from: Conn | undefined): void {
    const n = bytes.length;
    to.buffered += n;
    to.room.bufferedBytes += n;
    this.#bufferedTotal += n;
    to.ws.send(bytes, () => this.#written(to, n));
    if (to.buffered < this.#highWater) return;
    if (!to.congested) {
      to.congested = true;
      this.#armStall(to);
    }
    if (from !== undefined && !from.gone && !to.holding.has(from)) {
      to.holding.add(from);
      from.waitingOn.add(to);
      from.ws.pause();
    }
  }

  /** A send completed (or failed: the socket is closing): the bytes leave this process. */
  #written(c: Conn, n: number): void {
    if (c.gone) return;
    c.buffered -= n;
    c.room.bufferedBytes -= n;
    this.#bufferedTotal -= n;
    if (!c.congested) return;
    if (c.buffered <= this.#highWater / 2) this.#relieve(c);
    else this.#armStall(c); // it reads: the stall clock starts again
  }

  #armStall(c: Conn): void {
    clearTimeout(c.stall);
    c.stall = setTimeout(() => {
      c.stall = undefined;
      if (c.gone || !c.congested) return;
      this.#evict(
        c,
        new UnseenError(
          'ERR_TIMEOUT',
          `party ${c.party} read nothing for ${this.#stallMs} ms while ${c.buffered} bytes waited for it`,
          {
            details: { reason: 'slow-reader', timeoutMs: this.#stallMs, bufferedBytes: c.buffered },
          },
        ),
      );
    }, this.#stallMs);
    c.stall.unref?.();
  }

  /** A congested party is back under half its high-water mark: resume its senders. */
  #relieve(c: Conn): void {
    c.congested = false;
    clearTimeout(c.stall);
    c.stall = undefined;
    for (const s of c.holding) {
      s.waitingOn.delete(c);
      if (s.waitingOn.size === 0 && !s.gone) s.ws.resume();
    }
    c.holding.clear();
  }

  /** The connection closed: its unwritten bytes no longer count, and nobody waits on it. */
  #release(c: Conn): void {
    if (c.gone) return;
    this.#relieve(c);
    c.gone = true;
    c.room.bufferedBytes -= c.buffered;
    this.#bufferedTotal -= c.buffered;
    c.buffered = 0;
    for (const t of c.waitingOn) t.holding.delete(c);
    c.waitingOn.clear();
  }

  /** Takes a party out of its room and tells the others (with the reason, if any). */
  #leave(c: Conn, error?: UnseenError): void {
    const r = c.room;
    if (r.sockets.get(c.party) !== c) return;
    r.sockets.delete(c.party);
    for (const other of r.sockets.values()) {
      sendText(other.ws, {
        type: 'closed',
        party: c.party,
        ...(error === undefined ? {} : { error: error.toJSON() }),
      });
    }
    if (r.sockets.size === 0 && this.#rooms.get(r.jobId) === r) {
      this.#rooms.delete(r.jobId);
      this.#releaseQueues(r);
    }
  }

  /**
   * Disconnects a party that reads too slowly: its peers learn why, the frames sent to it
   * from now on go nowhere, it may not rejoin the job, and its senders resume.
   */
  #evict(c: Conn, error: UnseenError): void {
    if (c.gone || c.room.sockets.get(c.party) !== c) return;
    let set = this.#evicted.get(c.room.jobId);
    if (set === undefined) {
      set = new Set();
      this.#evicted.set(c.room.jobId, set);
    }
    set.add(c.party);
    this.#relieve(c);
    this.#leave(c, error);
    sendText(c.ws, { type: 'error', error: error.toJSON() });
    this.#disconnect(c, closeCodeOf(error), error.code);
  }

  /** Closes a room: drops its queued frames, and ignores frames that still arrive. */
  #releaseQueues(room: Room): void {
    room.closed = true;
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

  #reject(c: Conn, e: unknown): void {
    this.#refuse(c.ws, e);
    this.#disconnect(c);
  }

  #refuse(ws: WebSocket, e: unknown): void {
    const err = isUnseenError(e) ? e : new UnseenError('ERR_INTERNAL', 'relay failure');
    sendText(ws, { type: 'error', error: err.toJSON() });
    ws.close(closeCodeOf(err), err.code);
  }

  /**
   * Closes a connection: reading resumes so that the closing handshake can complete, and a
   * socket that still holds unwritten bytes (a party that does not read) is cut after a grace
   * period, which lets a party that was only slow read the reason.
   */
  #disconnect(c: Conn, code?: number, reason?: string, graceMs = CLOSE_GRACE_MS): void {
    c.ws.resume();
    if (code !== undefined) c.ws.close(code, reason);
    if (c.buffered === 0) return;
    const cut = setTimeout(() => c.ws.terminate(), graceMs);
    cut.unref?.();
    c.ws.once('close', () => clearTimeout(cut));
  }

  #closeRoom(jobId: string, code: number, reason: string, graceMs?: number): void {
    const room = this.#rooms.get(jobId);
    if (room === undefined) return;
    this.#rooms.delete(jobId);
    this.#releaseQueues(room);
    for (const c of room.sockets.values()) this.#disconnect(c, code, reason, graceMs);
  }

  /** Closes every connection and stops listening to the exchange. */
  close(): void {
    this.#unsubscribe();
    for (const id of [...this.#rooms.keys()])
      this.#closeRoom(id, 1001, 'exchange shutting down', 0);
    this.#evicted.clear();
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
