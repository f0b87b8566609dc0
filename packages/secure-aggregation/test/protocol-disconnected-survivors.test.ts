/**
 * SecAgg+ leaks the sum of every connected component of the survivors' graph (audit M3): the
 * pairwise masks cancel inside a component, and the shares of Unmasking remove everything else.
 * The server refuses to unmask a disconnected survivors' graph, and in the active variant every
 * client checks the signed survivors itself.
 */
import { decodeMessage, encodeMessage, generateSigningKey, isUnseenError } from '@unseen/core';
import { type ClientIdentity, SecAggClient, SecAggServer } from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { encodeConsistencyRequest, makeBitmap } from '../src/wire.js';
import { Harness } from './helpers.js';

/**
 * n = 12 on a ring with k = 2 and t = 2 (outside the analysis: a test of the mechanism), run up
 * to the masked inputs, the clients at ring positions `drop` dropping before theirs.
 */
async function ring12(drop: number[]): Promise<{ h: Harness; outcome: unknown }> {
  const h = await Harness.create({
    clients: 12,
    length: 3,
    neighbours: 2,
    threshold: 2,
    allowUnsafeParameters: true,
  });
  const ring = h.server.graph.ringOrder();
  await h.round(); // AdvertiseKeys
  await h.round(); // ShareKeys
  const outcome = await h.round(drop.map((p) => ring[p]!)).catch((e) => e); // MaskedInput
  return { h, outcome };
}

describe('a disconnected survivors graph is never unmasked', () => {
  it('server: two survivors cut off by single dropouts (k = 2, t = 2) abort the round', async () => {
    // n = 12 on a ring with k = 2: positions 0 and 1 survive, 2 and 11 drop after sharing their
    // keys, the rest survive. Every secret keeps t = 2 holders (2's shares are with 1 and 3), so
    // the threshold checks pass; but {0, 1} is a component of its own and Unmasking would give
    // the server x_0 + x_1.
    const { h, outcome } = await ring12([2, 11]);
    expect(isUnseenError(outcome)).toBe(true);
    const err = outcome as { code: string; details: Record<string, unknown> };
    expect(err.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(err.details).toMatchObject({ reason: 'disconnected', components: [8, 2] });
    expect(h.server.stage).toBe('aborted');
    // Nobody was asked for a share: the last messages were the Round 2 ones.
    for (const m of h.outgoing.values()) expect(decodeMessage(m).type).toBe(3);
  });

  it('server: the same round with the cut healed (one dropout) completes', async () => {
    const { h, outcome } = await ring12([2]);
    expect((outcome as { round: string }).round).toBe('unmask');
    const step = await h.round();
    expect(step.round).toBe('done');
  });

  it('active client: refuses to sign survivors whose graph is disconnected', async () => {
    // n = 16, k = 4 (ring distance 2): removing positions {4, 5} and {12, 13} splits the ring in
    // two halves of 6. Client at position 0 keeps its whole group, so only connectivity fails.
    const n = 16;
    const ids = Array.from({ length: n }, () => generateSigningKey());
    const verifyKey = (i: number) => ids[i]?.publicKey;
    const server = await SecAggServer.create({
      clients: n,
      neighbours: 4,
      length: 2,
      active: true,
      verifyKey,
      allowUnsafeParameters: true,
    });
    const clients = await Promise.all(
      ids.map((id, i) => {
        const identity: ClientIdentity = { index: i, signingKey: id.secretKey, verifyKey };
        return SecAggClient.create({
          input: new Uint32Array(2),
          identity,
          allowUnsafeParameters: true,
        });
      }),
    );
    let out = server.start();
    for (let round = 0; round < 3; round++) {
      for (const [u, m] of out) {
        const reply = await clients[u]!.handle(m);
        if (reply !== undefined) await server.receive(u, reply);
      }
      const step = await server.advance();
      if (step.round === 'done') throw new Error('unexpected end');
      out = step.messages;
    }
    // `out` now holds the honest consistency requests (everyone survived).
    const ring = server.graph.ringOrder();
    const cut = new Set([4, 5, 12, 13].map((p) => ring[p]!));
    const victim = ring[0]!;
    const honest = decodeMessage(out.get(victim)!);
    const forged = encodeMessage({
      ...honest,
      body: encodeConsistencyRequest({
        to: victim,
        alive: makeBitmap(n, (u) => !cut.has(u)),
      }),
    });
    const err = await clients[victim]!.handle(forged).catch((e) => e);
    expect(err.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(err.details.components).toEqual([6, 6]);
    expect(clients[victim]!.stage).toBe('aborted');
    // The honest (connected) request is signed by another client.
    const other = ring[8]!;
    expect(await clients[other]!.handle(out.get(other)!)).toBeInstanceOf(Uint8Array);
  });
});
