/**
 * Keep-alive connections after refused and unread request bodies, on raw sockets against a real
 * exchange process. Node parses the next request on a connection only once the current body is
 * consumed: a body the service refuses (too large, wrong route) must be drained after the answer
 * or the connection closed, never left half-read, or every later request a client sends on that
 * connection waits forever. These tests send the next request on the same socket.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Network, startNetwork } from './helpers/network.js';

let net: Network;
beforeAll(async () => {
  net = await startNetwork({ rows: 20, exchangeArgs: ['--max-body', '4096'], withProvider: false });
}, 120_000);
afterAll(() => net?.close());

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw HTTP/1.1 connection that reads answers one by one (Content-Length bodies). */
class RawConnection {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #closed = false;
  #wake: (() => void) | undefined;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#wake?.();
    });
    this.socket.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    this.socket.on('error', () => {});
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.write(data, (e) => (e ? reject(e) : resolve())),
    );
  }

  /** The next answer, or null if the connection closes first; fails after `timeoutMs`. */
  async answer(timeoutMs = 5000): Promise<Answer | null> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [line, ...fields] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const f of fields) {
          const i = f.indexOf(':');
          headers[f.slice(0, i).toLowerCase()] = f.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.#buffer.length >= end + 4 + length) {
          const body = this.#buffer.subarray(end + 4, end + 4 + length).toString('utf8');
          this.#buffer = this.#buffer.subarray(end + 4 + length);
          return { status: Number(line!.split(' ')[1]), headers, body };
        }
      }
      if (this.#closed) return null;
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no answer within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const port = () => Number(new URL(net.exchange.url).port);
const GET_INFO = 'GET /v1/exchange HTTP/1.1\r\nhost: x\r\n\r\n';
const code = (a: Answer | null) => (a === null ? null : JSON.parse(a.body).error?.code);

/** 1 KiB chunks of chunked transfer encoding. */
function chunks(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `400\r\n${'x'.repeat(1024)}\r\n`;
  return s;
}

describe('keep-alive connections after refused bodies', () => {
  it('a chunked upload refused at the size limit, with more arriving after the refusal, leaves the connection serving', async () => {
    const c = new RawConnection(port());
    try {
      await c.write(
        `POST /v1/jobs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n${chunks(6)}`,
      );
      const refused = await c.answer();
      expect(refused?.status).toBe(413);
      expect(code(refused)).toBe('ERR_MESSAGE_TOO_LARGE');
      // The rest of the body arrives after the answer, then the next request.
      await c.write(`${chunks(20)}0\r\n\r\n`);
      await c.write(GET_INFO);
      const next = await c.answer();
      expect(next?.status).toBe(200);
      expect(JSON.parse(next!.body).keyId).toBe(net.exchange.keyId);
    } finally {
      c.close();
    }
  });

  it('a declared oversized body is refused from its header and drained: the next request on the connection is answered', async () => {
    const c = new RawConnection(port());
    try {
      const size = 1024 * 1024;
      await c.write(
        `POST /v1/assets HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
      );
      const refused = await c.answer();
      expect(refused?.status).toBe(413);
      for (let i = 0; i < 16; i++) await c.write(new Uint8Array(size / 16));
      await c.write(GET_INFO);
      const next = await c.answer();
      expect(next?.status).toBe(200);
    } finally {
      c.close();
    }
  });

  it('a body on a route that takes none (405, 404, unsigned, a GET) is drained, and the connection keeps serving', async () => {
    const c = new RawConnection(port());
    try {
      const requests = [
        ['PATCH /v1/jobs', 405, 'ERR_INVALID_ARGUMENT'],
        ['POST /v2/nothing', 404, 'ERR_NOT_FOUND'],
        ['POST /v1/jobs', 401, 'ERR_UNAUTHORIZED'],
        ['GET /v1/jobs', 401, 'ERR_UNAUTHORIZED'], // a GET with a body: Node drops it
      ] as const;
      for (const [line, status, err] of requests) {
        await c.write(`${line} HTTP/1.1\r\nhost: x\r\ncontent-length: 3000\r\n\r\n`);
        await c.write('y'.repeat(3000));
        const a = await c.answer();
        expect([a?.status, code(a)]).toEqual([status, err]);
        await c.write(GET_INFO);
        expect((await c.answer())?.status).toBe(200);
      }
      expect(c.closed).toBe(false);
    } finally {
      c.close();
    }
  });

  it('the same sequence through fetch (undici keep-alive pool) is answered, request after request', async () => {
    for (let round = 0; round < 20; round++) {
      const stream = new ReadableStream<Uint8Array>({
        async start(ctl) {
          for (let i = 0; i < 6; i++) ctl.enqueue(new Uint8Array(1024));
          await new Promise((r) => setTimeout(r, 5));
          for (let i = 0; i < 6; i++) ctl.enqueue(new Uint8Array(1024));
          ctl.close();
        },
      });
      const refused = await fetch(`${net.exchange.url}/v1/jobs`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
        signal: AbortSignal.timeout(5000),
      } as RequestInit);
      expect(refused.status).toBe(413);
      await refused.arrayBuffer();
      const next = await fetch(`${net.exchange.url}/v2/nothing`, {
        signal: AbortSignal.timeout(5000),
      });
      expect(next.status).toBe(404);
      await next.arrayBuffer();
    }
  });
});
