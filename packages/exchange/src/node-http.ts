/**
 * Mounting the fetch handler in Node's `http` module, and a ready server that also carries the
 * relay's WebSocket upgrades and sweeps jobs past their deadlines.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnseenError } from '@unseen/core';
import { type ReplayGuard, StoreReplayGuard } from './auth.js';
import type { Exchange } from './exchange.js';
import { RelayHub } from './relay-server.js';
import { createFetchHandler, requestUrl, type ServiceOptions } from './service.js';

/**
 * Adapts a fetch handler to a Node `(req, res)` listener: builds a `Request` (body streamed),
 * writes the `Response` back.
 *
 * The `Request`'s URL is the request-target on a fixed origin (`http://exchange.invalid`),
 * never the Host header: a request-target that is not a normalized origin-form path
 * (absolute-form `http://h/p`, `*`, `//p`, dot segments, a fragment) is answered 400
 * `ERR_MALFORMED_MESSAGE` before the handler runs.
 *
 * Keep-alive connections stay usable whatever the handler does with the body. A body the
 * handler did not read to the end (a refused upload, a route that takes no body) is drained
 * after the answer, up to 64 MiB and 10 s, and then the connection serves its next request; a
 * body beyond those limits closes the connection. Node parses the next request on a connection
 * only once the current body is consumed, so a body left half-read would wedge the connection
 * and every request a client sends on it afterwards.
 * @example
 * ```ts
 * http.createServer(toNodeListener(createFetchHandler(exchange))).listen(7700);
 * ```
 */
export function toNodeListener(
  handler: (req: Request) => Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    // The URL comes from a fixed origin and the request-target alone: the Host header must not
    // change the path that is routed and whose signature is verified.
    const url = requestUrl(req.url);
    if (url === undefined) {
      answer(req, res, 400, { 'content-type': 'application/json' }, BAD_TARGET);
      return;
    }
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers.set(k, v);
      else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    }
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const body = hasBody ? requestBody(req) : undefined;
    let request: Request;
    try {
      request = new Request(url, {
        method,
        headers,
        ...(body ? { body: body.stream, duplex: 'half' } : {}),
      } as RequestInit);
    } catch {
      body?.detach();
      answer(req, res, 400, { 'content-type': 'application/json' }, MALFORMED);
      return;
    }
    handler(request).then(
      async (response) => {
        const bytes = new Uint8Array(await response.arrayBuffer());
        const out: Record<string, string> = {};
        response.headers.forEach((v, k) => {
          out[k] = v;
        });
        body?.detach();
        answer(req, res, response.status, out, bytes);
      },
      () => {
        body?.detach();
        answer(req, res, 500, {}, new Uint8Array(0));
      },
    );
  };
}

const MALFORMED = new TextEncoder().encode(
  JSON.stringify({
    error: { code: 'ERR_MALFORMED_MESSAGE', message: 'malformed request line or headers' },
  }),
);

const BAD_TARGET = new TextEncoder().encode(
  JSON.stringify({
    error: {
      code: 'ERR_MALFORMED_MESSAGE',
      message: 'request-target must be a normalized path in origin form (/path?query)',
    },
  }),
);

/** Writes the answer, then drains what is left of the request body (see {@link toNodeListener}). */
function answer(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  bytes: Uint8Array,
): void {
  if (res.headersSent || res.destroyed) return;
  // A 204 (a CORS preflight) or 304 has no body and no Content-Length (RFC 9110, 8.6).
  const bodyless = status === 204 || status === 304;
  res.writeHead(
    status,
    bodyless ? headers : { ...headers, 'content-length': String(bytes.length) },
  );
  res.end(bytes);
  if (!req.readableEnded) discard(req);
}

/**
 * The request body as a web stream, pulled from `req` with backpressure. Unlike
 * `Readable.toWeb`, cancelling it (a reader that stops at a size limit) only stops the
 * stream: it neither destroys `req` (which leaves the socket paused for good, with a
 * keep-alive client waiting on it) nor keeps it paused; {@link discard} drains the rest.
 */
function requestBody(req: IncomingMessage): {
  stream: ReadableStream<Uint8Array>;
  detach(): void;
} {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let open = true;
  const onData = (chunk: Buffer): void => {
    controller!.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    if ((controller!.desiredSize ?? 0) <= 0) req.pause();
  };
  const stop = (): void => {
    open = false;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onClose);
    req.pause();
  };
  const onEnd = (): void => {
    if (!open) return;
    stop();
    controller!.close();
  };
  const onClose = (): void => {
    if (!open) return;
    stop();
    controller!.error(new UnseenError('ERR_CHANNEL_CLOSED', 'the client closed the request'));
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        req.pause();
        req.on('data', onData);
        req.on('end', onEnd);
        req.on('close', onClose);
      },
      pull() {
        if (open) req.resume();
      },
      cancel() {
        if (open) stop();
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );
  return {
    stream,
    detach() {
      if (!open) return;
      stop();
      controller!.error(new UnseenError('ERR_INVALID_STATE', 'the request was answered'));
    },
  };
}

const DISCARD_LIMIT = 64 * 1024 * 1024;
const DISCARD_TIMEOUT_MS = 10_000;

/**
 * Reads and drops the rest of a body the handler left, so that the client reads the answer
 * instead of a reset and the connection serves its next request. A body above 64 MiB, or
 * still arriving after 10 s, closes the connection.
 */
function discard(req: IncomingMessage): void {
  let n = 0;
  const cut = (): void => {
    req.off('data', onData);
    req.socket?.destroy();
  };
  const timer = setTimeout(cut, DISCARD_TIMEOUT_MS);
  timer.unref();
  const onData = (c: Buffer): void => {
    n += c.length;
    if (n > DISCARD_LIMIT) {
      clearTimeout(timer);
      cut();
    }
  };
  const done = (): void => clearTimeout(timer);
  req.on('data', onData);
  req.once('end', done);
  req.once('close', done);
  req.once('error', done);
  req.resume();
}

/** Options of {@link startExchangeServer}. */
export interface ExchangeServerOptions extends ServiceOptions {
  exchange: Exchange;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** How often to fail jobs past their deadline, ms (default 1,000). */
  sweepIntervalMs?: number;
  /** Largest relay frame payload (default 64 MiB). */
  maxRelayPayloadBytes?: number;
  /**
   * Undelivered relay bytes held for one job (default 64 MiB): queued for parties not connected
   * yet, and sent to connected parties that have not read them yet.
   */
  maxRelayQueuedBytes?: number;
  /** Undelivered relay bytes held across all jobs, counted likewise (default 256 MiB). */
  maxRelayTotalQueuedBytes?: number;
  /**
   * Unread bytes of one relay connection above which the relay stops reading from the parties
   * sending to it, until it has read half (default 1 MiB, or half of `maxRelayQueuedBytes` if
   * that is smaller).
   */
  relayHighWaterBytes?: number;
  /**
   * How long a relay connection may stay above its high-water mark without reading, ms
   * (default 30,000); then it is disconnected with `ERR_TIMEOUT`.
   */
  relayStallTimeoutMs?: number;
}

/** A running exchange server. */
export interface ExchangeServer {
  server: Server;
  relay: RelayHub;
  /** Base URL, e.g. `http://127.0.0.1:7700`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts the HTTP API and the WebSocket relay on one port.
 * @example
 * ```ts
 * const { url, close } = await startExchangeServer({ exchange, port: 7700 });
 * ```
 */
export async function startExchangeServer(options: ExchangeServerOptions): Promise<ExchangeServer> {
  const { exchange } = options;
  const replayGuard: ReplayGuard = options.replayGuard ?? new StoreReplayGuard(exchange.store);
  const handler = createFetchHandler(exchange, { ...options, replayGuard });
  const relay = new RelayHub(exchange, {
    replayGuard,
    ...(options.maxRelayPayloadBytes === undefined
      ? {}
      : { maxPayloadBytes: options.maxRelayPayloadBytes }),
    ...(options.maxRelayQueuedBytes === undefined
      ? {}
      : { maxQueuedBytes: options.maxRelayQueuedBytes }),
    ...(options.maxRelayTotalQueuedBytes === undefined
      ? {}
      : { maxTotalQueuedBytes: options.maxRelayTotalQueuedBytes }),
    ...(options.relayHighWaterBytes === undefined
      ? {}
      : { highWaterBytes: options.relayHighWaterBytes }),
    ...(options.relayStallTimeoutMs === undefined
      ? {}
      : { stallTimeoutMs: options.relayStallTimeoutMs }),
  });
  const server = createServer(
    { requestTimeout: 60_000, headersTimeout: 40_000, maxHeaderSize: 16 * 1024 },
    toNodeListener(handler),
  );
  // Idle keep-alive connections live 30 s. Clients (undici) close theirs a second before the
  // hint; a long idle time makes the close race (a reused connection reset) rare.
  server.keepAliveTimeout = 30_000;
  server.on('upgrade', (req, socket, head) => relay.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    exchange
      .sweep()
      .catch((e) => console.error('unseen exchange: sweep failed', e))
      .finally(() => {
        sweeping = false;
      });
  }, options.sweepIntervalMs ?? 1000);
  timer.unref();
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    relay,
    url: `http://${host}:${addr.port}`,
    close: async () => {
      clearInterval(timer);
      relay.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
