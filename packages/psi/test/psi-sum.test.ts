/**
 * sum mode (intersection-sum with cardinality, Ion et al. 2020, Paillier from
 * @unseen/homomorphic): cardinality and sum equal a plain computation for both suites; the
 * server decrypts one masked sum per session it answered, for its own setup only; a restarted
 * server (exportSecret) keeps serving the setup.
 */
import { isUnseenError } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { type Item, PsiClient, PsiServer, type SuiteName } from '../src/index.js';
import { keyOf, overlapping, testPool } from './helpers.js';

const pool = testPool(2);
// 2048-bit Paillier keeps the tests quick; the default is 3072 (128-bit security).
const BITS = 2048;

function plainSum(
  server: Item[],
  values: bigint[],
  client: Item[],
): { cardinality: number; sum: bigint } {
  const byKey = new Map<string, bigint>();
  server.forEach((x, i) => {
    if (!byKey.has(keyOf(x))) byKey.set(keyOf(x), values[i]!);
  });
  const seen = new Set<string>();
  let cardinality = 0;
  let sum = 0n;
  for (const c of client) {
    const k = keyOf(c);
    if (seen.has(k)) continue;
    seen.add(k);
    const v = byKey.get(k);
    if (v !== undefined) {
      cardinality++;
      sum += v;
    }
  }
  return { cardinality, sum };
}

async function runSum(suite: SuiteName, server: Item[], values: bigint[], client: Item[]) {
  const s = await PsiServer.create({
    items: server,
    values,
    mode: 'sum',
    suite,
    pool,
    paillierBits: BITS,
    maxClientItems: Math.max(1, client.length),
  });
  const c = await PsiClient.create({ items: client, mode: 'sum', suite, pool });
  const setup = await s.setup();
  const pending = await c.finish(setup, await s.respond(await c.request()));
  const result = await c.finishSum(await s.respond(pending.sumQuery));
  expect(result.cardinality).toBe(pending.cardinality);
  return result;
}

const value = (i: number) => BigInt(i) * 1_000_003n + 17n;

describe.each(['x25519', 'ristretto255'] as SuiteName[])(
  '%s sum mode equals a plain sum',
  (suite) => {
    it('empty and one-element sets', async () => {
      expect(await runSum(suite, [], [], ['a'])).toEqual({ cardinality: 0, sum: 0n });
      expect(await runSum(suite, ['a'], [5n], [])).toEqual({ cardinality: 0, sum: 0n });
      expect(await runSum(suite, ['a'], [5n], ['a'])).toEqual({ cardinality: 1, sum: 5n });
    }, 120_000);

    it(`${suite === 'x25519' ? 1000 : 200} x the same with 50% overlap, duplicates and unicode`, async () => {
      const n = suite === 'x25519' ? 1000 : 200;
      const { server, client } = overlapping(n, n, n / 2);
      const s: Item[] = [...server, '北京', server[0]!];
      const v = s.map((_, i) => value(i));
      v[v.length - 1] = v[0]!; // the duplicate carries the same value
      const c: Item[] = [...client, '北京', '北京', client[0]!];
      expect(await runSum(suite, s, v, c)).toEqual(plainSum(s, v, c));
    }, 300_000);
  },
);

describe('sum queries', () => {
  it('one decryption per answered session, for this setup only; restart keeps the setup', async () => {
    const items = ['a', 'b', 'c'];
    const s = await PsiServer.create({
      items,
      values: [1n, 2n, 40n],
      mode: 'sum',
      pool,
      paillierBits: BITS,
    });
    const setup = await s.setup();
    const c = await PsiClient.create({ items: ['c', 'a', 'z'], mode: 'sum', pool });
    const pending = await c.finish(setup, await s.respond(await c.request()));
    const answer = await s.respond(pending.sumQuery);
    const twice = await s.respond(pending.sumQuery).catch((e: unknown) => e);
    expect(isUnseenError(twice, 'ERR_SESSION_MISMATCH')).toBe(true);
    expect(await c.finishSum(answer)).toEqual({ cardinality: 2, sum: 41n });

    const restarted = await PsiServer.create({
      items,
      values: [1n, 2n, 40n],
      mode: 'sum',
      pool,
      secret: s.exportSecret(),
    });
    const c2 = await PsiClient.create({ items: ['b'], mode: 'sum', pool });
    const p2 = await c2.finish(setup, await restarted.respond(await c2.request()));
    expect(await c2.finishSum(await restarted.respond(p2.sumQuery))).toEqual({
      cardinality: 1,
      sum: 2n,
    });

    const stranger = await PsiClient.create({ items: ['b'], mode: 'sum', pool });
    const p3 = await stranger.finish(setup, await restarted.respond(await stranger.request()));
    const other = await PsiServer.create({
      items,
      values: [1n, 2n, 3n],
      mode: 'sum',
      pool,
      paillierBits: BITS,
    });
    expect(
      isUnseenError(
        await other.respond(p3.sumQuery).catch((e: unknown) => e),
        'ERR_PARAMETER_MISMATCH',
      ),
    ).toBe(true);
    expect(
      isUnseenError(await s.respond(p3.sumQuery).catch((e: unknown) => e), 'ERR_SESSION_MISMATCH'),
    ).toBe(true);
  }, 120_000);

  it('refuses values that could wrap and a duplicate with another value', async () => {
    await expect(
      PsiServer.create({ items: ['a', 'a'], values: [1n, 2n], mode: 'sum', paillierBits: BITS }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      PsiServer.create({ items: ['a'], values: [-1n], mode: 'sum', paillierBits: BITS }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      PsiServer.create({ items: ['a'], values: [2n ** 2100n], mode: 'sum', paillierBits: BITS }),
    ).rejects.toMatchObject({ code: 'ERR_OVERFLOW' });
  }, 60_000);
});
