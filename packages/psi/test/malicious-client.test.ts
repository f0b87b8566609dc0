/**
 * What a malicious client can do, as the README states it (these tests show the attacks work, so
 * the README's limits are real, not hypothetical):
 *
 * - cardinality mode: blinding each element with its own scalar lets the client unblind each
 *   shuffled response element with each inverse and learn which elements matched;
 * - sum mode: the server decrypts any ciphertext sent as a sum query, and "one query per session"
 *   limits nothing because the client picks session ids: one session per setup entry reveals
 *   every value of the server.
 *
 * And what it cannot do: filter false positives never reach a labels or sum result (AES-GCM and
 * the 64-bit check verify every match), shown with a setup sized so that a third of all lookups
 * hit the filter.
 */
import { newSessionId } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { ELEMENT_BYTES, hashToGroup, multiply, newBlindingPair, prfTags } from '../src/group.js';
import { PsiClient, PsiServer } from '../src/index.js';
import { pack } from '../src/items.js';
import { decodeSetup, indexSetup } from '../src/setup.js';
import { decodeChunk, decodeSumAnswer, encodeChunk, encodeSumQuery, MSG } from '../src/wire.js';
import { randomStrings, testPool } from './helpers.js';

const pool = testPool(2);
const enc = new TextEncoder();

describe('a malicious client', () => {
  it('cardinality mode: one blinding scalar per element reveals the intersection', async () => {
    const serverItems = ['a', 'b', 'c', 'd', 'e', 'f'];
    const mine = ['x', 'c', 'y', 'f', 'z'];
    const server = await PsiServer.create({ items: serverItems, mode: 'cardinality', pool });
    const setup = decodeSetup(await server.setup());
    const pairs = mine.map(() => newBlindingPair('x25519'));
    const elements = new Uint8Array(mine.length * ELEMENT_BYTES);
    for (let i = 0; i < mine.length; i++) {
      const { data, offsets } = pack([enc.encode(mine[i]!)]);
      elements.set(await hashToGroup('x25519', data, offsets, pairs[i]!.blind), i * ELEMENT_BYTES);
    }
    const session = newSessionId();
    const request = encodeChunk(MSG.request, {
      session,
      suite: 'x25519',
      mode: 'cardinality',
      total: mine.length,
      index: 0,
      count: 1,
      first: 0,
      elements,
    });
    const response = decodeChunk(MSG.response, await server.respond(request), session);
    const index = indexSetup(setup);
    const learned: string[] = [];
    for (let i = 0; i < mine.length; i++) {
      // unblind every (shuffled) response element with element i's inverse
      const tags = prfTags(
        'x25519',
        await multiply('x25519', pairs[i]!.unblind, response.elements),
      );
      for (let j = 0; j < mine.length; j++) {
        if (index.lookup(tags, j).length > 0) learned.push(mine[i]!);
      }
    }
    expect(learned).toEqual(['c', 'f']);
  }, 60_000);

  it('sum mode: fresh sessions and chosen ciphertexts reveal every server value', async () => {
    const items = randomStrings(6, 'v');
    const values = [11n, 220n, 3_300n, 44_000n, 550_000n, 6_600_000n];
    const server = await PsiServer.create({
      items,
      mode: 'sum',
      values,
      paillierBits: 2048,
      pool,
    });
    const setup = decodeSetup(await server.setup());
    const size = setup.ciphertextBytes!;
    const learned: bigint[] = [];
    for (let j = 0; j < setup.entries; j++) {
      // a new session (the client picks its id), answered like any other...
      const client = await PsiClient.create({ items: ['anything'], mode: 'sum', pool });
      await server.respond(await client.request());
      // ...then a "sum" query that is one setup entry, not a masked sum
      const query = encodeSumQuery(
        client.session,
        setup.setupId,
        setup.ciphertexts!.subarray(j * size, (j + 1) * size),
      );
      const answer = decodeSumAnswer(await server.respond(query), client.session);
      learned.push(BigInt(`0x${Buffer.from(answer).toString('hex')}`));
    }
    expect(learned.sort((a, b) => (a < b ? -1 : 1))).toEqual(values);
  }, 120_000);
});

describe('labels and sum verify every filter match', () => {
  // fpr 0.5 for clients of one element: the GCS range is 3, so a one-element client that the
  // server does not know hits the filter with probability about 1/3.
  const serverItems = randomStrings(40, 's');
  const options = { items: serverItems, fpr: 0.5, maxClientItems: 1, pool } as const;

  async function outsiders<M extends 'intersection' | 'labels' | 'sum'>(
    server: PsiServer<M>,
    mode: M,
    clients: number,
  ): Promise<number> {
    let reported = 0;
    for (let i = 0; i < clients; i++) {
      const client = await PsiClient.create({ items: randomStrings(1, 'k'), mode, pool });
      const out = await client.finish(
        await server.setup(),
        await server.respond(await client.request()),
      );
      if (mode === 'sum') {
        const done = await client.finishSum(
          await server.respond((out as { sumQuery: Uint8Array }).sumQuery),
        );
        reported += done.cardinality + (done.sum === 0n ? 0 : 1);
      } else {
        reported += (out as { intersection: unknown[] }).intersection.length;
      }
    }
    return reported;
  }

  it('the filter alone reports about a third of outsiders; labels and sum report none', async () => {
    const plain = await PsiServer.create({ ...options, mode: 'intersection' });
    expect(decodeSetup(await plain.setup()).gcsRange).toBe(3);
    expect(await outsiders(plain, 'intersection', 60)).toBeGreaterThanOrEqual(4); // mean about 17
    const labels = await PsiServer.create({
      ...options,
      mode: 'labels',
      labels: serverItems.map((x) => `label of ${x}`),
    });
    expect(decodeSetup(await labels.setup()).gcsRange).toBe(3);
    expect(await outsiders(labels, 'labels', 60)).toBe(0);
    const sum = await PsiServer.create({
      ...options,
      mode: 'sum',
      values: serverItems.map((_, i) => i + 1),
      paillierBits: 2048,
    });
    expect(await outsiders(sum, 'sum', 30)).toBe(0);
    // members are still found, with their label and value
    const member = serverItems[7]!;
    const c = await PsiClient.create({ items: [member], mode: 'labels', pool });
    const found = await c.finish(await labels.setup(), await labels.respond(await c.request()));
    expect(found).toEqual({ intersection: [member], labels: [`label of ${member}`] });
    const d = await PsiClient.create({ items: [member], mode: 'sum', pool });
    const pending = await d.finish(await sum.setup(), await sum.respond(await d.request()));
    expect(await d.finishSum(await sum.respond(pending.sumQuery))).toEqual({
      cardinality: 1,
      sum: 8n,
    });
  }, 240_000);
});
