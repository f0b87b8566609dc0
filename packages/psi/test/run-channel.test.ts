/**
 * The protocol over Channels: runPsiServer / runPsiClient on a memory pair and on real TCP
 * sockets (core's streamChannel), multi-chunk requests, the server's setup reused by several
 * clients and by a restarted server (exportSecret), errors reported to the peer, and deadlines.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { isUnseenError, memoryChannelPair, streamChannel } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { PsiClient, PsiServer, runPsiClient, runPsiServer } from '../src/index.js';
import { type Chunk, decodeChunk, encodeChunk, MSG } from '../src/wire.js';
import { overlapping, plainIntersection, testPool } from './helpers.js';

const pool = testPool(2);

describe('runPsiServer / runPsiClient', () => {
  it('intersection over a memory channel, in several chunks, with progress', async () => {
    const { server, client } = overlapping(900, 700, 300);
    const s = await PsiServer.create({ items: server, pool, maxClientItems: 1000 });
    const [a, b] = memoryChannelPair();
    const phases = new Set<string>();
    const [served, result] = await Promise.all([
      runPsiServer(a, { server: s }),
      runPsiClient(b, {
        items: client,
        pool,
        chunkItems: 256,
        onProgress: (p) => phases.add(p.phase),
      }),
    ]);
    expect(result.intersection).toEqual(plainIntersection(server, client));
    expect(served.clientItems).toBe(700);
    expect(result.bytesSent).toBeGreaterThan(700 * 32);
    expect([...phases]).toEqual(['setup', 'request', 'response', 'finish']);
  });

  it('cardinality in several chunks is shuffled across chunks', async () => {
    const { server, client } = overlapping(500, 600, 250);
    const s = await PsiServer.create({
      items: server,
      mode: 'cardinality',
      pool,
      maxClientItems: 600,
    });
    const [a, b] = memoryChannelPair();
    const [, result] = await Promise.all([
      runPsiServer(a, { server: s }),
      runPsiClient(b, { items: client, mode: 'cardinality', pool, chunkItems: 100 }),
    ]);
    expect(result.cardinality).toBe(250);
  });

  it('over TCP between a listening server and a connecting client', async () => {
    const { server, client } = overlapping(400, 300, 120);
    const s = await PsiServer.create({
      items: server,
      mode: 'labels',
      labels: server.map((x) => `risk:${x}`),
      pool,
      maxClientItems: 300,
    });
    const listener = createServer();
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const port = (listener.address() as { port: number }).port;
    const served = (async () => {
      const [socket] = (await once(listener, 'connection')) as [Socket];
      return runPsiServer(streamChannel(socket), { server: s });
    })();
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const channel = streamChannel(socket);
    const result = await runPsiClient(channel, { items: client, mode: 'labels', pool });
    await served;
    channel.close();
    listener.close();
    const expected = plainIntersection(server, client);
    expect(result.intersection).toEqual(expected);
    expect(result.labels).toEqual(expected.map((x) => `risk:${x}`));
  });

  it('one setup serves many clients, also after a restart from exportSecret()', async () => {
    const items = ['a', 'b', 'c', 'd'];
    const first = await PsiServer.create({ items, pool });
    const setup = await first.setup();
    const restarted = await PsiServer.create({ items, pool, secret: first.exportSecret() });
    for (const [srv, mine, want] of [
      [first, ['a', 'x'], ['a']],
      [restarted, ['d', 'c', 'y'], ['d', 'c']],
    ] as const) {
      const c = await PsiClient.create({ items: [...mine], pool });
      expect((await c.finish(setup, await srv.respond(await c.request()))).intersection).toEqual(
        want,
      );
    }
  });

  it('a client whose set exceeds the setup stops at the setup and tells the server', async () => {
    const s = await PsiServer.create({ items: ['a'], pool, maxClientItems: 2 });
    const [a, b] = memoryChannelPair();
    const [served, client] = await Promise.allSettled([
      runPsiServer(a, { server: s }),
      runPsiClient(b, { items: ['a', 'b', 'c'], pool, timeoutMs: 20_000 }),
    ]);
    expect(
      client.status === 'rejected' && isUnseenError(client.reason, 'ERR_PARAMETER_MISMATCH'),
    ).toBe(true);
    expect(
      served.status === 'rejected' && isUnseenError(served.reason, 'ERR_PROTOCOL_ABORTED'),
    ).toBe(true);
  });

  it('the server reports a malformed request to the client instead of hanging', async () => {
    const s = await PsiServer.create({ items: ['a'], pool });
    const [a, b] = memoryChannelPair();
    const served = runPsiServer(a, { server: s }).catch((e: unknown) => e);
    await b.receive(); // the setup
    const c = await PsiClient.create({ items: ['a'], pool });
    const request = await c.request();
    await b.send(request.slice(0, request.length - 5));
    const reply = await b.receive({ timeoutMs: 5000 });
    const e = await c.finish(await s.setup(), reply).catch((err: unknown) => err);
    expect(isUnseenError(e, 'ERR_PROTOCOL_ABORTED')).toBe(true);
    expect((e as { details: { peerCode: string } }).details.peerCode).toBe('ERR_MALFORMED_MESSAGE');
    expect(isUnseenError(await served, 'ERR_MALFORMED_MESSAGE')).toBe(true);
  });

  it('a silent peer ends in ERR_TIMEOUT', async () => {
    const [, b] = memoryChannelPair();
    await expect(runPsiClient(b, { items: ['a'], pool, timeoutMs: 50 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
  });
});

describe('what the client learns in cardinality mode', () => {
  it('the response is a uniformly shuffled copy: same elements as in intersection mode, positions unlinked', async () => {
    const items = Array.from({ length: 64 }, (_, i) => `e${i}`);
    const card = await PsiServer.create({ items, mode: 'cardinality', pool });
    const same = await PsiServer.create({
      items,
      mode: 'intersection',
      pool,
      secret: card.exportSecret(),
    });
    const cc = await PsiClient.create({ items, mode: 'cardinality', pool });
    const request = decodeChunk(MSG.request, await cc.request());
    const shuffledOut = decodeChunk(
      MSG.response,
      await card.respond(reencode(request, 'cardinality')),
    );
    const ordered = decodeChunk(
      MSG.response,
      await same.respond(reencode(request, 'intersection')),
    );
    const split = (b: Uint8Array) =>
      Array.from({ length: b.length / 32 }, (_, i) =>
        Buffer.from(b.subarray(32 * i, 32 * i + 32)).toString('hex'),
      );
    const a = split(shuffledOut.elements);
    const o = split(ordered.elements);
    expect([...a].sort()).toEqual([...o].sort());
    const fixed = a.filter((x, i) => x === o[i]).length;
    expect(fixed).toBeLessThan(10); // a uniform permutation of 64 has about one fixed point
  });
});

function reencode(c: Chunk, mode: 'cardinality' | 'intersection'): Uint8Array {
  return encodeChunk(MSG.request, { ...c, mode });
}
