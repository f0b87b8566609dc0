/**
 * Mounting the fetch handler in Node's `http` module, and a ready server that also carries the
 * relay's WebSocket upgrades and sweeps jobs past their deadlines.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { MemoryReplayGuard, type ReplayGuard } from './auth.js';
import type { Exchange } from './exchange.js';
import { RelayHub } from './relay-server.js';
import { createFetchHandler, type ServiceOptions } from './service.js';

/**
 * Adapts a fetch handler to a Node `(req, res)` listener: builds a `Request` (body streamed),
 * writes the `Response` back.
 * @example
 * ```ts
 * http.createServer(toNodeListener(createFetchHandler(exchange))).listen(7700);
 * ```
 */
export function toNodeListener(
  handler: (req: Request) => Promise<Response>,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const host = req.headers.host ?? 'localhost';
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers.set(k, v);
      else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    }
    const method = req.method ?? 'GET';
    const hasBody = method !== 'GET' && method !== 'HEAD';
    let request: Request;
    try {
      request = new Request(`http://${host}${req.url ?? '/'}`, {
        method,
        headers,
        ...(hasBody
          ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' }
          : {}),
      } as RequestInit);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          error: { code: 'ERR_MALFORMED_MESSAGE', message: 'malformed request line or headers' },
        }),
      );
      return;
    }
    handler(request).then(
      async (response) => {
        const body = new Uint8Array(await response.arrayBuffer());
        const out: Record<string, string> = {};
        response.headers.forEach((v, k) => {
          out[k] = v;
        });
        out['content-length'] = String(body.length);
        const unread = hasBody && !req.readableEnded;
        res.writeHead(response.status, out);
        res.end(body);
        // A refused upload may still be arriving. Read and drop it (up to 64 MiB, 10 s) so that
        // the client reads the answer instead of a reset; past that, cut the connection.
        if (unread) discard(req);
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  };
}

const DISCARD_LIMIT = 64 * 1024 * 1024;

function discard(req: IncomingMessage): void {
  let n = 0;
  const cut = setTimeout(() => req.socket.destroy(), 10_000);
  cut.unref();
  req.on('data', (c: Buffer) => {
    n += c.length;
    if (n > DISCARD_LIMIT) req.socket.destroy();
  });
  req.on('end', () => clearTimeout(cut));
  req.on('error', () => clearTimeout(cut));
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
  const replayGuard: ReplayGuard = options.replayGuard ?? new MemoryReplayGuard();
  const handler = createFetchHandler(exchange, { ...options, replayGuard });
  const relay = new RelayHub(exchange, {
    replayGuard,
    ...(options.maxRelayPayloadBytes === undefined
      ? {}
      : { maxPayloadBytes: options.maxRelayPayloadBytes }),
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
