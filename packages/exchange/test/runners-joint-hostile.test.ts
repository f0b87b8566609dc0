/**
 * The joint aggregate runner with its parties in one process on memory channels: ring encoding
 * round trips, exact totals by both protocols, and hostile input. A provider that gets garbage,
 * another ticket or a malformed key fails with a typed error and tells the consumer; a consumer
 * that gets garbage, or a total outside what the providers can contribute (a provider that lies
 * about its vector: secure aggregation has no range proofs), fails with a typed error; nothing
 * waits for ever.
 */
import {
  type Channel,
  encodeMessage,
  isUnseenError,
  memoryChannelPair,
  randomBytes,
} from '@unseen/core';
import {
  aggregateRunner,
  contributionBounds,
  fromRing64,
  Identity,
  type JobTicket,
  type LocalAsset,
  parseAggregateParams,
  RUNNER_MSG,
  RUNNER_VERSION,
  receiveRunnerMessage,
  sendRunnerMessage,
  toRing64,
} from '@unseen/exchange';
import { runSecAggClient } from '@unseen/secure-aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const shop = Identity.generate('consumer', 'shop');
const bank = Identity.generate('provider', 'bank');
const insurer = Identity.generate('provider', 'insurer');
const schema = [
  { name: 'id', type: 'string' as const },
  { name: 'amount', type: 'integer' as const },
];
const asset = (id: string, n: number, base: number): LocalAsset & { root: string } => ({
  id,
  schema,
  rows: Array.from({ length: n }, (_, i) => [`${id}-${i}`, base + i]),
  root: '00'.repeat(32),
});
const A = asset('a', 120, 10);
const B = asset('b', 80, 1000);

function ticket(
  params: Record<string, unknown>,
  computation: JobTicket['computation'] = 'aggregate.sum',
): JobTicket {
  return {
    v: 1,
    jobId: '11'.repeat(16),
    exchange: '22'.repeat(16),
    consumer: shop.keyId,
    computation,
    params,
    assets: [
      { id: 'a', provider: bank.keyId, root: A.root, rows: A.rows.length },
      { id: 'b', provider: insurer.keyId, root: B.root, rows: B.rows.length },
    ],
    cohort: 0,
    minCohort: 10,
    privacy: null,
    issuedAt: Date.now(),
    expiresAt: Date.now() + 60_000,
  };
}

/** Every pair of parties on a memory channel pair; `links.get('x>y')` is x's end toward y. */
function mesh(): Map<string, Channel> {
  const parties = [shop.keyId, bank.keyId, insurer.keyId];
  const links = new Map<string, Channel>();
  for (const [i, x] of parties.entries()) {
    for (const y of parties.slice(i + 1)) {
      const [a, b] = memoryChannelPair({ timeoutMs: 5000 });
      links.set(`${x}>${y}`, a);
      links.set(`${y}>${x}`, b);
    }
  }
  return links;
}

function side(t: JobTicket, who: Identity, links: Map<string, Channel>) {
  return {
    ticket: t,
    identity: who,
    peers: [],
    signal: AbortSignal.timeout(10_000),
    progress: () => {},
    channel: (k: string) => links.get(`${who.keyId}>${k}`)!,
  };
}

async function runAll(t: JobTicket) {
  const links = mesh();
  const [, , out] = await Promise.all([
    aggregateRunner.runProvider({ ...side(t, bank, links), assets: [A] }),
    aggregateRunner.runProvider({ ...side(t, insurer, links), assets: [B] }),
    aggregateRunner.runConsumer({ ...side(t, shop, links), input: undefined }),
  ]);
  return out.result as { value: number };
}

const total = [...A.rows, ...B.rows].reduce((s, r) => s + (r[1] as number), 0);

describe('joint aggregate runner', () => {
  it('Z_2^64 ring words round-trip every signed 64-bit integer', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 8 }),
        (v) => {
          expect(fromRing64(toRing64(v))).toEqual(v);
        },
      ),
    );
  });

  it('both protocols give the exact total of both providers', async () => {
    for (const protocol of ['secure-aggregation', 'homomorphic']) {
      const params = { column: 'amount', lower: 0, upper: 5000, decimals: 0, protocol };
      expect((await runAll(ticket(params))).value).toBe(total);
    }
    const mean = await runAll(
      ticket({ column: 'amount', lower: 0, upper: 5000, decimals: 0 }, 'aggregate.mean'),
    );
    expect(mean.value).toBeCloseTo(total / 200, 9);
  }, 30_000);

  it('a provider refuses garbage, another ticket and a bad key with a typed error, and tells the consumer', async () => {
    const t = ticket({
      column: 'amount',
      lower: 0,
      upper: 5000,
      decimals: 0,
      protocol: 'homomorphic',
    });
    // Garbage instead of START.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (junk) => {
        const [toProvider, fromConsumer] = memoryChannelPair({ timeoutMs: 2000 });
        const run = aggregateRunner.runProvider({
          ...side(t, bank, new Map([[`${bank.keyId}>${shop.keyId}`, fromConsumer]])),
          assets: [A],
        });
        await toProvider.send(junk);
        const e = await run.catch((x) => x);
        expect(isUnseenError(e)).toBe(true);
      }),
      { numRuns: 50 },
    );
    // Another ticket's hash: ERR_PARAMETER_MISMATCH, and the consumer hears it.
    const [c, p] = memoryChannelPair({ timeoutMs: 2000 });
    const run = aggregateRunner.runProvider({
      ...side(t, bank, new Map([[`${bank.keyId}>${shop.keyId}`, p]])),
      assets: [A],
    });
    await sendRunnerMessage(c, t.jobId, RUNNER_MSG.START, randomBytes(32));
    await expect(run).rejects.toMatchObject({ code: 'ERR_PARAMETER_MISMATCH' });
    await expect(
      receiveRunnerMessage({ ticket: t, signal: AbortSignal.timeout(2000) }, c, [], 'provider'),
    ).rejects.toMatchObject({
      code: 'ERR_PROTOCOL_ABORTED',
      details: { providerCode: 'ERR_PARAMETER_MISMATCH' },
    });
    // A GO with a key that is not BFV parameters.
    const links = mesh();
    const provider = aggregateRunner.runProvider({ ...side(t, bank, links), assets: [A] });
    const toBank = links.get(`${shop.keyId}>${bank.keyId}`)!;
    const { ticketHash } = await import('@unseen/exchange');
    const { hexToBytes } = await import('@unseen/core');
    await sendRunnerMessage(toBank, t.jobId, RUNNER_MSG.START, hexToBytes(ticketHash(t)));
    await receiveRunnerMessage(
      { ticket: t, signal: AbortSignal.timeout(2000) },
      toBank,
      [RUNNER_MSG.READY],
      'provider',
      0,
    );
    await sendRunnerMessage(toBank, t.jobId, RUNNER_MSG.GO, randomBytes(64));
    const e = await provider.catch((x) => x);
    expect(isUnseenError(e)).toBe(true);
  }, 60_000);

  it('the consumer refuses garbage and a total no honest providers could make', async () => {
    const params = { column: 'amount', lower: 0, upper: 5000, decimals: 0 };
    const t = ticket(params);
    // Garbage instead of READY.
    const links = mesh();
    const consumer = aggregateRunner.runConsumer({ ...side(t, shop, links), input: undefined });
    const bankEnd = links.get(`${bank.keyId}>${shop.keyId}`)!;
    await bankEnd.receive();
    await bankEnd.send(
      encodeMessage({
        version: RUNNER_VERSION,
        type: 99,
        session: new Uint8Array(16),
        body: new Uint8Array(3),
      }),
    );
    await expect(consumer).rejects.toSatisfy(isUnseenError);
    // A provider that contributes far more than its rows allow (secure aggregation cannot see it).
    const links2 = mesh();
    const run = aggregateRunner.runConsumer({ ...side(t, shop, links2), input: undefined });
    const liar = (async () => {
      const ch = links2.get(`${bank.keyId}>${shop.keyId}`)!;
      await ch.receive(); // START
      await sendRunnerMessage(ch, t.jobId, RUNNER_MSG.READY);
      await ch.receive(); // GO
      const bound = contributionBounds(
        t,
        parseAggregateParams(t.computation, params),
        A.rows.length,
      );
      await runSecAggClient(ch, { input: toRing64([bound[0]! * 4n]), expect: { bits: 64 } });
    })();
    const honest = aggregateRunner.runProvider({ ...side(t, insurer, links2), assets: [B] });
    await Promise.all([liar, honest]);
    await expect(run).rejects.toMatchObject({ code: 'ERR_MALFORMED_MESSAGE' });
  }, 60_000);
});
