/**
 * Client set-size limits per answer (`minClientItems` / `maxClientItems` of `respond`,
 * `respondChunks` and `runPsiServer`): a request outside them is refused with
 * `ERR_POLICY_DENIED` from its declared total, before any element is evaluated, and the client
 * is told. And an error the server reports before it has seen the client's session (the
 * all-zero session) reaches the client as the server's error, not as a session mismatch.
 */
import { memoryChannelPair } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { PsiClient, PsiServer, runPsiClient, runPsiServer } from '../src/index.js';
import { overlapping, testPool } from './helpers.js';

const pool = testPool(2);

describe('client set-size limits', () => {
  it('respond accepts a set within the limits and refuses one outside, before evaluating it', async () => {
    const { server, client } = overlapping(300, 40, 10);
    const s = await PsiServer.create({
      items: server,
      mode: 'cardinality',
      pool,
      maxClientItems: 100,
    });
    const c = await PsiClient.create({ items: client, mode: 'cardinality', pool });
    const request = await c.request();
    const ok = await s.respond(request, { minClientItems: 40, maxClientItems: 40 });
    expect((await c.finish(await s.setup(), ok)).cardinality).toBe(10);
    for (const limits of [
      { minClientItems: 41 },
      { maxClientItems: 39 },
      { minClientItems: 50, maxClientItems: 60 },
    ]) {
      const err = await s.respond(request, limits).catch((e) => e);
      expect(err.code).toBe('ERR_POLICY_DENIED');
      expect(err.details).toMatchObject({ reason: 'client-items-out-of-range', total: 40 });
    }
    // The setup's own bound still applies, with its own code.
    await expect(s.respond(request, { maxClientItems: 10 ** 6 })).resolves.toBeInstanceOf(
      Uint8Array,
    );
    const big = await PsiClient.create({
      items: overlapping(10, 101, 0).client,
      mode: 'cardinality',
      pool,
    });
    await expect(s.respond(await big.request())).rejects.toMatchObject({
      code: 'ERR_PARAMETER_MISMATCH',
    });
    await expect(s.respond(request, { minClientItems: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('runPsiServer refuses a chunked request outside the limits and the client learns why', async () => {
    const { server, client } = overlapping(300, 60, 20);
    const s = await PsiServer.create({
      items: server,
      mode: 'cardinality',
      pool,
      maxClientItems: 100,
    });
    const [a, b] = memoryChannelPair({ timeoutMs: 5000 });
    const [served, got] = await Promise.allSettled([
      runPsiServer(a, { server: s, minClientItems: 80 }),
      runPsiClient(b, { items: client, mode: 'cardinality', pool, chunkItems: 16 }),
    ]);
    expect((served as PromiseRejectedResult).reason.code).toBe('ERR_POLICY_DENIED');
    const e = (got as PromiseRejectedResult).reason;
    expect(e.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(e.details).toEqual({ peerCode: 'ERR_POLICY_DENIED' });
    // Exactly the announced size passes.
    const [c2, d2] = memoryChannelPair({ timeoutMs: 5000 });
    const [, ok] = await Promise.all([
      runPsiServer(c2, { server: s, minClientItems: 60, maxClientItems: 60 }),
      runPsiClient(d2, { items: client, mode: 'cardinality', pool, chunkItems: 16 }),
    ]);
    expect(ok.cardinality).toBe(20);
  });

  it('an error reported before the server saw the session reaches the client as the server’s error', async () => {
    const { server, client } = overlapping(50, 10, 5);
    const s = await PsiServer.create({ items: server, pool });
    const [a, b] = memoryChannelPair({ timeoutMs: 5000 });
    // The server gives up waiting for the request at once: its report has the zero session.
    const served = runPsiServer(a, { server: s, timeoutMs: 1 });
    const c = await PsiClient.create({ items: client, pool });
    await c.request(); // sent, but the server had already given up
    const setup = await b.receive();
    expect(() => c.checkSetup(setup)).not.toThrow();
    await expect(served).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const report = await b.receive();
    expect(Array.from(report.subarray(2, 18))).toEqual(new Array(16).fill(0));
    await expect(c.finish(setup, [report])).rejects.toMatchObject({
      code: 'ERR_PROTOCOL_ABORTED',
      details: { peerCode: 'ERR_TIMEOUT' },
    });
  });
});
