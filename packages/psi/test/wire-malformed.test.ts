/**
 * Hostile and broken messages: truncated, extended and bit-flipped setups, requests and
 * responses; wrong suite, mode, session or setup; invalid and small-order elements; counts that
 * do not match. Every one raises an UnseenError with a stable code, and never yields a result.
 */
import {
  bytesToHex,
  encodeMessage,
  isUnseenError,
  newSessionId,
  type UnseenError,
} from '@unseen/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PsiClient, PsiServer } from '../src/index.js';
import { decodeChunk, encodeChunk, MSG } from '../src/wire.js';
import { testPool } from './helpers.js';

const pool = testPool(0);

async function failure(p: Promise<unknown>): Promise<UnseenError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isUnseenError(e)).toBe(true);
  return e as UnseenError;
}

let server: PsiServer<'labels'>;
let setup: Uint8Array;
let request: Uint8Array;
let response: Uint8Array;
let client: PsiClient<'labels'>;

const items = ['a', 'b', 'c', 'd', 'e'];

beforeAll(async () => {
  server = await PsiServer.create({
    items,
    mode: 'labels',
    labels: items.map((x) => `L${x}`),
    pool,
    maxClientItems: 8,
  });
  setup = await server.setup();
  client = await PsiClient.create({ items: ['b', 'd', 'z'], mode: 'labels', pool });
  request = await client.request();
  response = await server.respond(request);
});

/** A fresh client in the requested state with the same items (the shared one must stay usable). */
async function clientWith(req: (r: Uint8Array) => void = () => {}): Promise<PsiClient<'labels'>> {
  const c = await PsiClient.create({ items: ['b', 'd', 'z'], mode: 'labels', pool });
  req(await c.request());
  return c;
}

describe('fuzzed messages give typed errors, never a result', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('extend' as const),
      extra: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    }),
    fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      bit: fc.integer({ min: 0, max: 7 }),
    }),
  );
  function mutate(
    bytes: Uint8Array,
    m:
      | { kind: 'truncate'; at: number }
      | { kind: 'extend'; extra: Uint8Array }
      | { kind: 'flip'; at: number; bit: number },
  ): Uint8Array {
    if (m.kind === 'truncate') return bytes.slice(0, m.at % bytes.length);
    if (m.kind === 'extend') {
      const out = new Uint8Array(bytes.length + m.extra.length);
      out.set(bytes);
      out.set(m.extra, bytes.length);
      return out;
    }
    const out = bytes.slice();
    out[m.at % out.length]! ^= 1 << m.bit;
    return out;
  }

  it('requests: the server rejects or (for flipped element bits) answers; never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const bad = mutate(request, m);
        try {
          await server.respond(bad);
        } catch (e) {
          expect(isUnseenError(e)).toBe(true);
        }
      }),
      { numRuns: 120 },
    );
  });

  it('responses: the client raises, or (a flip in an element) does not report that element', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const c = await clientWith();
        const bad = mutate(response, m);
        try {
          const r = await c.finish(setup, bad);
          // only a flipped element bit can survive decoding; then that element cannot match
          expect(m.kind).toBe('flip');
          expect(r.intersection.length).toBeLessThanOrEqual(2);
        } catch (e) {
          expect(isUnseenError(e)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('setups: the client raises, or a flip costs at most the labels it touched', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const c = await clientWith();
        const bad = mutate(setup, m);
        try {
          const r = await c.finish(bad, response);
          expect(m.kind).toBe('flip');
          // a changed label ciphertext fails its AES-GCM tag: the element is dropped, never mislabeled
          r.labels.forEach((l, i) => {
            expect(l).toBe(`L${r.intersection[i]}`);
          });
        } catch (e) {
          expect(isUnseenError(e)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('specific mismatches', () => {
  it('wrong session: a response for another client', async () => {
    const other = await clientWith();
    const e = await failure(other.finish(setup, response));
    expect(e.code).toBe('ERR_SESSION_MISMATCH');
  });

  it('wrong suite and wrong mode', async () => {
    const rist = await PsiClient.create({
      items: ['b'],
      mode: 'labels',
      suite: 'ristretto255',
      pool,
    });
    expect((await failure(server.respond(await rist.request()))).code).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    const card = await PsiClient.create({ items: ['b'], mode: 'cardinality', pool });
    expect((await failure(server.respond(await card.request()))).code).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    expect((await failure(card.finish(setup, response))).code).toBe('ERR_PARAMETER_MISMATCH');
  });

  it('a response from another setup (another server key)', async () => {
    const other = await PsiServer.create({
      items,
      mode: 'labels',
      labels: items,
      pool,
      maxClientItems: 8,
    });
    const e = await failure(client.finish(await other.setup(), response));
    expect(e.code).toBe('ERR_PARAMETER_MISMATCH');
    expect((await client.finish(setup, response)).intersection).toEqual(['b', 'd']);
  });

  it('a request larger than the setup allows', async () => {
    const many = await PsiClient.create({
      items: Array.from({ length: 9 }, (_, i) => `x${i}`),
      mode: 'labels',
      pool,
    });
    expect((await failure(server.respond(await many.request()))).code).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
  });

  it('small-order and non-canonical elements in a request or a response', async () => {
    const chunk = decodeChunk(MSG.request, request);
    for (const bad of [
      new Uint8Array(32),
      Uint8Array.from({ length: 32 }, () => 0xff),
      Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 1 : 0)),
    ]) {
      const elements = chunk.elements.slice();
      elements.set(bad, 32);
      const e = await failure(server.respond(encodeChunk(MSG.request, { ...chunk, elements })));
      expect(e.code).toBe('ERR_INVALID_POINT');
      const r = decodeChunk(MSG.response, response);
      const rElements = r.elements.slice();
      rElements.set(bad, 64);
      const c = await clientWith();
      const forged = encodeChunk(MSG.response, { ...r, session: c.session, elements: rElements });
      expect((await failure(c.finish(setup, forged))).code).toBe('ERR_INVALID_POINT');
    }
  });

  it('counts that do not match: fewer or more elements than requested', async () => {
    const r = decodeChunk(MSG.response, response);
    const c = await clientWith();
    const fewer = encodeChunk(MSG.response, {
      ...r,
      session: c.session,
      total: 2,
      elements: r.elements.slice(0, 64),
    });
    expect((await failure(c.finish(setup, fewer))).code).toBe('ERR_MALFORMED_MESSAGE');
    const more = encodeChunk(MSG.response, {
      ...r,
      session: c.session,
      total: 4,
      elements: new Uint8Array([...r.elements, ...r.elements.slice(0, 32)]),
    });
    expect((await failure(c.finish(setup, more))).code).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('a setup sent as a response, and an unknown version', async () => {
    const c = await clientWith();
    expect((await failure(c.finish(setup, setup))).code).toBe('ERR_UNEXPECTED_MESSAGE');
    const v2 = response.slice();
    v2[0] = 2;
    expect((await failure(c.finish(setup, v2))).code).toBe('ERR_UNSUPPORTED_VERSION');
  });

  it('a failed finish leaves the client usable; a finished client refuses more', async () => {
    const c = await PsiClient.create({ items: ['b', 'd', 'z'], mode: 'labels', pool });
    const r = decodeChunk(MSG.response, await server.respond(await c.request()));
    const good = encodeChunk(MSG.response, r);
    await failure(c.finish(setup, good.slice(0, good.length - 1)));
    const result = await c.finish(setup, good);
    expect(result.intersection).toEqual(['b', 'd']);
    expect(result.labels).toEqual(['Lb', 'Ld']);
    expect((await failure(c.finish(setup, good))).code).toBe('ERR_INVALID_STATE');
  });

  it('a multi-chunk request needs respondChunks; chunks out of order are refused', async () => {
    const c = await PsiClient.create({ items: ['a', 'b', 'c'], mode: 'labels', pool });
    const chunks: Uint8Array[] = [];
    for await (const ch of c.requestChunks(1)) chunks.push(ch);
    expect((await failure(server.respond(chunks[0]!))).code).toBe('ERR_UNEXPECTED_MESSAGE');
    const gen = server.respondChunks([chunks[1]!, chunks[0]!, chunks[2]!]);
    expect((await failure(gen.next())).code).toBe('ERR_MALFORMED_MESSAGE');
    const out: Uint8Array[] = [];
    for await (const r of server.respondChunks(chunks)) out.push(r);
    const res = await c.finish(setup, out);
    expect(res.intersection).toEqual(['a', 'b', 'c']);
  });

  it('garbage of every length is refused', async () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(() => decodeChunk(MSG.request, bytes)).toThrow();
      }),
    );
    const msg = encodeMessage({
      version: 1,
      type: MSG.request,
      session: newSessionId(),
      body: new Uint8Array(10),
    });
    expect((await failure(server.respond(msg))).code).toMatch(/^ERR_/);
    expect(bytesToHex(setup.subarray(0, 2))).toBe('0110');
  });
});
