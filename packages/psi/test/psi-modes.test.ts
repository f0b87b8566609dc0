/**
 * End-to-end results against a plain Set computation for both suites and every mode: empty and
 * one-element sets, disjoint, identical and half-overlapping sets, unicode, duplicates, strings
 * mixed with bytes, and one 2^16 x 2^16 run on two workers.
 */
import { describe, expect, it } from 'vitest';
import { type Item, PsiClient, type PsiMode, PsiServer, type SuiteName } from '../src/index.js';
import { keyOf, overlapping, plainIntersection, testPool } from './helpers.js';

const pool = testPool(2);

async function run<M extends PsiMode>(
  suite: SuiteName,
  mode: M,
  serverItems: Item[],
  clientItems: Item[],
  extra: { labels?: (string | Uint8Array)[]; values?: bigint[] } = {},
) {
  const server = await PsiServer.create({
    items: serverItems,
    suite,
    mode,
    pool,
    fpr: 1e-9,
    maxClientItems: Math.max(1, clientItems.length),
    ...extra,
  });
  const client = await PsiClient.create({ items: clientItems, suite, mode, pool });
  const setup = await server.setup();
  const response = await server.respond(await client.request());
  return client.finish(setup, response);
}

function labelOf(item: Item): string {
  return `label:${keyOf(item)}:${'x'.repeat(keyOf(item).length % 7)}`;
}

async function checkAllModes(suite: SuiteName, server: Item[], client: Item[]): Promise<void> {
  const expected = plainIntersection(server, client);
  const inter = await run(suite, 'intersection', server, client);
  expect(inter.intersection).toEqual(expected);
  const card = await run(suite, 'cardinality', server, client);
  expect(card.cardinality).toBe(expected.length);
  const labels = await run(suite, 'labels', server, client, { labels: server.map(labelOf) });
  expect(labels.intersection).toEqual(expected);
  expect(labels.labels).toEqual(expected.map(labelOf));
}

const SUITES: SuiteName[] = ['x25519', 'ristretto255'];

describe.each(SUITES)('%s: results equal a plain Set intersection', (suite) => {
  const big = suite === 'x25519' ? 1000 : 100;

  it('empty sets on either side', async () => {
    await checkAllModes(suite, [], []);
    await checkAllModes(suite, ['a', 'b'], []);
    await checkAllModes(suite, [], ['a', 'b']);
  });

  it('one element: shared, and not shared', async () => {
    await checkAllModes(suite, ['only'], ['only']);
    await checkAllModes(suite, ['only'], ['other']);
  });

  it(`disjoint sets of ${big}`, async () => {
    const { server, client } = overlapping(big, big, 0);
    await checkAllModes(suite, server, client);
  }, 120_000);

  it(`identical sets of ${big}`, async () => {
    const { server } = overlapping(big, big, big);
    await checkAllModes(suite, server, [...server].reverse());
  }, 120_000);

  it('1000 x 1000 with 50% overlap', async () => {
    const { server, client } = overlapping(1000, 1000, 500);
    await checkAllModes(suite, server, client);
  }, 300_000);

  it('unicode, duplicates, and strings mixed with their UTF-8 bytes', async () => {
    const enc = new TextEncoder();
    const server: Item[] = [
      'café',
      'cafe\u0301',
      '北京',
      '🙂',
      'naïve',
      '北京',
      enc.encode('bytes-only'),
      new Uint8Array([0xff, 0x00]),
    ];
    const client: Item[] = [
      '北京',
      'cafe\u0301',
      '🙂',
      '🙂',
      enc.encode('naïve'),
      'bytes-only',
      new Uint8Array([0xff]),
      new Uint8Array([0xff, 0x00]),
      'cafe',
    ];
    await checkAllModes(suite, server, client);
    const r = await run(suite, 'intersection', server, client);
    expect(r.intersection.length).toBe(6); // 北京, cafe\u0301, 🙂, naïve (as bytes), bytes-only, ff00
  }, 60_000);
});

describe('labels of any length', () => {
  it('empty, short, long and binary labels come back exactly', async () => {
    const items = ['a', 'b', 'c', 'd'];
    const labels: (string | Uint8Array)[] = [
      '',
      'short',
      'L'.repeat(5000),
      new Uint8Array([0, 1, 2, 255]),
    ];
    const r = await run('x25519', 'labels', items, ['d', 'c', 'b', 'a', 'z'], { labels });
    expect(r.intersection).toEqual(['d', 'c', 'b', 'a']);
    expect(r.labels).toEqual([labels[3], labels[2], labels[1], labels[0]]);
  });

  it('rejects a duplicate item with a different label', async () => {
    await expect(
      PsiServer.create({ items: ['a', 'a'], mode: 'labels', labels: ['1', '2'] }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});

describe('2^16 x 2^16 on two workers', () => {
  it('x25519 intersection with 50% overlap', async () => {
    const n = 2 ** 16;
    const { server, client } = overlapping(n, n, n / 2);
    const expected = plainIntersection(server, client);
    const s = await PsiServer.create({ items: server, pool, fpr: 1e-6 });
    const c = await PsiClient.create({ items: client, pool });
    const setup = await s.setup();
    const response = await s.respond(await c.request());
    const { intersection } = await c.finish(setup, response);
    expect(intersection).toEqual(expected);
    expect(setup.length / n).toBeLessThan(4.7); // psi.js: about 4.7 bytes per element at fpr 1e-6
  }, 600_000);
});

describe('Bloom filter setup', () => {
  it('gives the same answers as the GCS', async () => {
    const { server, client } = overlapping(600, 400, 150);
    const expected = plainIntersection(server, client);
    for (const mode of ['intersection', 'cardinality'] as const) {
      const s = await PsiServer.create({
        items: server,
        mode,
        filter: 'bloom',
        pool,
        maxClientItems: 400,
      });
      const c = await PsiClient.create({ items: client, mode, pool });
      const r = await c.finish(await s.setup(), await s.respond(await c.request()));
      if ('intersection' in r) expect(r.intersection).toEqual(expected);
      else expect(r.cardinality).toBe(expected.length);
    }
  });
});
