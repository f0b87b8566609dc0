/**
 * Hostile traffic against a real exchange process: thousands of malformed, oversized,
 * unsigned, replayed and wrongly signed requests, and raw garbage on the socket. Every answer
 * is a 4xx with a typed error code; nothing crashes; valid requests keep being served.
 */
import { connect } from 'node:net';
import { ERROR_CODES, randomBytes, utf8ToBytes } from '@unseen/core';
import { AUTH_HEADERS, Identity, signRequest } from '@unseen/exchange';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Network, startNetwork } from './helpers/network.js';

let net: Network;
beforeAll(async () => {
  net = await startNetwork({ rows: 20, exchangeArgs: ['--max-body', '4096'], withProvider: false });
}, 120_000);
afterAll(() => net?.close());

interface Sent {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

const PATHS = [
  '/v1/jobs',
  '/v1/assets',
  '/v1/policies',
  '/v1/parties',
  '/v1/jobs/00112233445566778899aabbccddeeff/reports',
];

function signed(
  id: Identity,
  method: string,
  path: string,
  body: Uint8Array,
): Record<string, string> {
  return {
    ...signRequest(id, { method, path, body, audience: net.exchange.keyId }),
    'content-type': 'application/json',
  };
}

/** A small seeded generator for test data (mulberry32). */
function seeded(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { nextInt: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}
type Rng = ReturnType<typeof seeded>;

/** One hostile request of a random kind. */
function hostile(rng: Rng, i: number): Sent {
  const consumer = net.ids.consumer;
  const path = PATHS[rng.nextInt(0, PATHS.length - 1)]!;
  const json = utf8ToBytes(
    JSON.stringify(fc.sample(fc.jsonValue({ maxDepth: 3 }), { seed: i, numRuns: 1 })[0] ?? null),
  );
  switch (i % 8) {
    case 0: // unsigned
      return {
        kind: 'unsigned',
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        body: json,
      };
    case 1: {
      // wrongly signed: a flipped signature byte
      const h = signed(consumer, 'POST', path, json);
      const sig = h[AUTH_HEADERS.signature]!;
      const at = rng.nextInt(0, sig.length - 1);
      h[AUTH_HEADERS.signature] =
        sig.slice(0, at) + (sig[at] === '0' ? '1' : '0') + sig.slice(at + 1);
      return { kind: 'bad-signature', method: 'POST', path, headers: h, body: json };
    }
    case 2: // signed by a key the exchange does not know
      return {
        kind: 'unknown-key',
        method: 'POST',
        path,
        headers: signed(Identity.generate('consumer', 'stranger'), 'POST', path, json),
        body: json,
      };
    case 3: // oversized
      return {
        kind: 'oversized',
        method: 'POST',
        path,
        headers: signed(consumer, 'POST', path, new Uint8Array(8192)),
        body: new Uint8Array(8192),
      };
    case 4: {
      // malformed: random bytes, signed (so they reach the JSON parser)
      const body = randomBytes(rng.nextInt(1, 300));
      return {
        kind: 'malformed',
        method: 'POST',
        path: '/v1/jobs',
        headers: signed(consumer, 'POST', '/v1/jobs', body),
        body,
      };
    }
    case 5: // well-formed JSON of the wrong shape, signed
      return {
        kind: 'wrong-shape',
        method: 'POST',
        path,
        headers: signed(consumer, 'POST', path, json),
        body: json,
      };
    case 6: {
      // garbage header values
      const h = signed(consumer, 'GET', '/v1/jobs', new Uint8Array(0));
      const k = [AUTH_HEADERS.key, AUTH_HEADERS.nonce, AUTH_HEADERS.timestamp][rng.nextInt(0, 2)]!;
      h[k] = ['', 'x', '-1', '9'.repeat(40), 'ff'.repeat(100)][rng.nextInt(0, 4)]!;
      return { kind: 'bad-header', method: 'GET', path: '/v1/jobs', headers: h };
    }
    default: // stale timestamp
      return {
        kind: 'stale',
        method: 'GET',
        path: '/v1/jobs',
        headers: signRequest(
          consumer,
          {
            method: 'GET',
            path: '/v1/jobs',
            body: new Uint8Array(0),
            audience: net.exchange.keyId,
          },
          Date.now() - 3_600_000,
        ),
      };
  }
}

async function send(s: Sent): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(net.exchange.url + s.path, {
    method: s.method,
    headers: s.headers,
    ...(s.body ? { body: s.body as Uint8Array<ArrayBuffer> } : {}),
  });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = JSON.parse(text)?.error?.code;
  } catch {}
  return { status: res.status, code };
}

describe('hostile requests', () => {
  it('answers 3,000 hostile requests with typed 4xx errors and keeps serving', async () => {
    const rng = seeded(42);
    const byKind = new Map<string, Map<string, number>>();
    const bad: unknown[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const reqs = Array.from({ length: 50 }, (_, k) => hostile(rng, batch * 50 + k));
      const answers = await Promise.all(reqs.map(send));
      answers.forEach((a, k) => {
        const kind = reqs[k]!.kind;
        const m = byKind.get(kind) ?? new Map<string, number>();
        m.set(`${a.status} ${a.code}`, (m.get(`${a.status} ${a.code}`) ?? 0) + 1);
        byKind.set(kind, m);
        if (
          a.status < 400 ||
          a.status >= 500 ||
          !(ERROR_CODES as readonly string[]).includes(a.code ?? '')
        )
          bad.push({ kind, ...a });
      });
    }
    expect(bad).toEqual([]);
    const only = (kind: string) => [...byKind.get(kind)!.keys()];
    expect(only('unsigned')).toEqual(['401 ERR_UNAUTHORIZED']);
    expect(only('bad-signature')).toEqual(['401 ERR_UNAUTHORIZED']);
    expect(only('unknown-key')).toEqual(['401 ERR_UNAUTHORIZED']);
    expect(only('oversized')).toEqual(['413 ERR_MESSAGE_TOO_LARGE']);
    expect(only('stale')).toEqual(['401 ERR_REPLAY']);
    expect(only('malformed')).toEqual(['400 ERR_MALFORMED_MESSAGE']);
    // Still serving.
    expect((await net.clients.consumer.listJobs()).length).toBe(0);
  }, 180_000);

  it('refuses a replayed request, however often it is replayed', async () => {
    const body = utf8ToBytes('{}');
    const headers = signed(net.ids.consumer, 'POST', '/v1/jobs', body);
    const first = await send({ kind: 'x', method: 'POST', path: '/v1/jobs', headers, body });
    expect(first.status).toBe(400); // processed once: an invalid job request
    const again = await Promise.all(
      Array.from({ length: 50 }, () =>
        send({ kind: 'x', method: 'POST', path: '/v1/jobs', headers, body }),
      ),
    );
    expect(again.every((a) => a.status === 401 && a.code === 'ERR_REPLAY')).toBe(true);
  });

  it('an oversized body is refused from Content-Length without reading it, and by counting without one', async () => {
    const big = new Uint8Array(10 * 1024 * 1024);
    const a = await send({
      kind: 'x',
      method: 'POST',
      path: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(a).toEqual({ status: 413, code: 'ERR_MESSAGE_TOO_LARGE' });
    // Chunked upload: no Content-Length.
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1024));
        c.close();
      },
    });
    const res = await fetch(`${net.exchange.url}/v1/jobs`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('ERR_MESSAGE_TOO_LARGE');
  });

  it('survives raw garbage on the socket', async () => {
    for (let i = 0; i < 50; i++) {
      const reply = await new Promise<string>((resolve) => {
        const s = connect(Number(new URL(net.exchange.url).port), '127.0.0.1');
        let out = '';
        s.on('data', (d) => {
          out += d;
        });
        s.on('close', () => resolve(out));
        s.on('error', () => resolve(out));
        s.write(
          i % 2 === 0
            ? randomBytes(200)
            : Buffer.from(`GET /${'a'.repeat(40_000)} HTTP/1.1\r\nhost: x\r\n\r\n`),
        );
        setTimeout(() => s.end(), 200);
      });
      expect(reply === '' || /^HTTP\/1\.1 4\d\d/.test(reply)).toBe(true);
    }
    const res = await fetch(`${net.exchange.url}/v1/exchange`);
    expect(res.status).toBe(200);
  });

  it('refuses unknown routes and methods with typed errors', async () => {
    expect(await send({ kind: 'x', method: 'GET', path: '/v2/nothing', headers: {} })).toEqual({
      status: 404,
      code: 'ERR_NOT_FOUND',
    });
    expect(
      await send({
        kind: 'x',
        method: 'PATCH',
        path: '/v1/jobs',
        headers: {},
        body: new Uint8Array(1),
      }),
    ).toEqual({ status: 405, code: 'ERR_INVALID_ARGUMENT' });
  });
});
