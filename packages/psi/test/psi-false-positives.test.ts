/**
 * End to end, at the default fpr 1e-9 (for clients of up to 1,000 elements): sessions of 1,000
 * client elements against small server lists (3 to 14 elements, where a Bloom filter is a few
 * hundred bits and the old double hashing matched about one query in 100 to 1,000) and a larger
 * one report no false match, with either filter. 28,000 lookups in all: with the stated bound the
 * chance of any false match is below 3e-5; with double hashing dozens were expected.
 */
import { describe, expect, it } from 'vitest';
import { PsiClient, PsiServer } from '../src/index.js';
import type { FilterKind } from '../src/setup.js';
import { randomStrings, testPool } from './helpers.js';

const pool = testPool(2);

describe.each(['bloom', 'gcs'] as FilterKind[])('%s setups at fpr 1e-9', (filter) => {
  it('no false matches over 14 sessions of 1,000 disjoint elements', async () => {
    let falseMatches = 0;
    let trueMatches = 0;
    for (const size of [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 200, 2000]) {
      const items = randomStrings(size, `server-${filter}-${size}`);
      const server = await PsiServer.create({
        items,
        filter,
        fpr: 1e-9,
        maxClientItems: 1000,
        pool,
      });
      const setup = await server.setup();
      const mine = [...randomStrings(999, `client-${filter}-${size}`), items[0]!];
      const client = await PsiClient.create({ items: mine, pool });
      const { intersection } = await client.finish(
        setup,
        await server.respond(await client.request()),
      );
      for (const x of intersection) {
        if (x === items[0]) trueMatches++;
        else falseMatches++;
      }
    }
    expect(trueMatches).toBe(14); // no false negatives
    expect(falseMatches).toBe(0);
  }, 300_000);
});
