/**
 * What every store promises (store.ts), checked the same way on SQLite and on PostgreSQL:
 * conflicts, filters and orders, compare-and-set, usage that outlives a replaced policy,
 * metering, nonces shared by every handle on one store, and typed errors that leave the store
 * usable.
 */
import { bytesToHex, randomBytes, UnseenError } from '@unseen/core';
import { type ExchangeStore, type Policy, signReport } from '@unseen/exchange';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  assetDefinition,
  type InProcess,
  inProcessExchange,
  reportFor,
} from './helpers/inprocess.js';
import { describeStores } from './helpers/stores.js';

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(UnseenError);
    return (e as UnseenError).code;
  }
}

describeStores('the store contract', (kind) => {
  let p: InProcess;
  let other: ExchangeStore;

  beforeAll(async () => {
    p = await inProcessExchange({ store: kind });
    other = await p.fixture.open(); // a second handle (for PostgreSQL: a second pool)
  });
  afterAll(async () => {
    await other?.close();
    await p?.close();
  });

  const policy = (assetId: string, over: Partial<Policy> = {}) => ({
    assetId,
    consumer: p.ids.consumer.keyId,
    computations: ['aggregate.count' as const],
    minCohort: 1,
    budget: { epsilon: 1, delta: 0 },
    maxEpsilonPerJob: null,
    quota: 10,
    expiresAt: p.ex.now() + 3_600_000,
    ...over,
  });
  const count = (asset: string, epsilon: number) =>
    p.ex.requestJob(p.actors.consumer, {
      computation: 'aggregate.count',
      assets: [asset],
      params: {},
      cohort: 0,
      privacy: epsilon === 0 ? null : { epsilon, delta: 0 },
    });

  it('meta: the first value set stays, whichever handle sets it', async () => {
    expect(await p.store.getMeta('absent')).toBeUndefined();
    expect(await p.store.initMeta('k', 'one')).toBe('one');
    expect(await other.initMeta('k', 'two')).toBe('one');
    expect(await other.getMeta('k')).toBe('one');
  });

  it('parties and assets: duplicates are conflicts; lists are filtered and in key order', async () => {
    expect(await code(p.store.insertParty(p.actors.consumer))).toBe('ERR_CONFLICT');
    const parties = await other.listParties();
    expect(parties.map((x) => x.keyId)).toEqual(parties.map((x) => x.keyId).sort());
    expect(parties.map((x) => x.keyId)).toContain(p.ids.consumer.keyId);

    for (const id of ['b-asset', 'a-asset', 'c-asset'])
      await p.ex.registerAsset(p.actors.provider, assetDefinition(id));
    const a = await p.store.getAsset('a-asset');
    expect(a?.provider).toBe(p.ids.provider.keyId);
    expect(await other.getAsset('a-asset')).toEqual(a);
    expect(await code(p.store.insertAsset(a!))).toBe('ERR_CONFLICT');
    expect(
      (await p.store.listAssets({ ids: ['c-asset', 'a-asset', 'zz'] })).map((x) => x.id),
    ).toEqual(['a-asset', 'c-asset']);
    expect(await p.store.listAssets({ provider: p.ids.consumer.keyId })).toEqual([]);
  });

  it('a replaced or revoked policy hands its spent budget and quota to the next one', async () => {
    await p.ex.setPolicy(p.actors.provider, policy('a-asset'));
    await count('a-asset', 0.4);
    await count('a-asset', 0.4);
    // The provider renews the policy (a later expiry, the same budget): nothing is refunded.
    await p.ex.setPolicy(
      p.actors.provider,
      policy('a-asset', { expiresAt: p.ex.now() + 7_200_000 }),
    );
    const live = (await p.store.listPolicies({ assetIds: ['a-asset'] })).filter(
      (x) => !x.policy.revoked,
    );
    expect(live).toHaveLength(1);
    expect(live[0]!.usage).toEqual({ jobs: 2, epsilonMicros: 800_000, deltaFemtos: 0 });
    expect(await code(count('a-asset', 0.4))).toBe('ERR_BUDGET_EXHAUSTED');
    // Revoked, then set again: still spent.
    await p.store.revokePolicy(live[0]!.policy.id);
    expect(await code(count('a-asset', 0.1))).toBe('ERR_POLICY_DENIED');
    await p.ex.setPolicy(p.actors.provider, policy('a-asset', { quota: 3 }));
    await count('a-asset', 0.1);
    expect(await code(count('a-asset', 0.05))).toBe('ERR_QUOTA_EXCEEDED');
    // All versions, oldest first; only the newest is live; its usage is the whole history's.
    const all = await other.listPolicies({ assetIds: ['a-asset'], consumer: p.ids.consumer.keyId });
    expect(all.map((x) => x.policy.revoked)).toEqual([true, true, false]);
    expect(all[2]!.usage).toEqual({ jobs: 3, epsilonMicros: 900_000, deltaFemtos: 0 });
    expect(await code(p.store.revokePolicy('no-such-policy'))).toBe('ERR_NOT_FOUND');
    // Metering counts the epsilon once, not once per policy version.
    const row = (await other.metering()).find((m) => m.consumer === p.ids.consumer.keyId);
    expect(row?.epsilonSpent).toBeCloseTo(0.9, 9);
    expect(row?.denied).toBeGreaterThanOrEqual(3);
  });

  it('jobs: filters, order, limit, and compare-and-set on the state', async () => {
    await p.ex.setPolicy(p.actors.provider, policy('b-asset', { budget: null, quota: null }));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await count('b-asset', 0)).job.id);
    const mine = await other.listJobs({ party: p.ids.consumer.keyId, limit: 10_000 });
    expect(mine.map((j) => j.admittedAt)).toEqual(
      mine.map((j) => j.admittedAt).sort((x, y) => x - y),
    );
    expect(mine.map((j) => j.id)).toEqual(expect.arrayContaining(ids));
    expect(await other.listJobs({ party: p.ids.consumer2.keyId })).toEqual([]);
    expect(await p.store.listJobs({ party: p.ids.consumer.keyId, limit: 2 })).toHaveLength(2);
    const job = (await p.store.getJob(ids[0]!))!;
    expect(job.state).toBe('admitted');
    expect(await other.updateJob({ ...job, state: 'running' }, ['running'])).toBe(false);
    expect((await p.store.getJob(job.id))!.state).toBe('admitted');
    expect(await other.updateJob({ ...job, state: 'running', relayedBytes: 7 }, ['admitted'])).toBe(
      true,
    );
    expect(await p.store.updateJob({ ...job, state: 'running' }, ['admitted'])).toBe(false);
    const running = await p.store.listJobs({ state: 'running' });
    expect(running.map((j) => j.id)).toEqual([job.id]);
    expect(running[0]!.relayedBytes).toBe(7);
    expect(await p.store.getJob('no-such-job')).toBeUndefined();
  });

  it('compare-and-set on the whole job: a writer holding a stale copy changes nothing', async () => {
    const { job } = await count('b-asset', 0);
    const seen = (await p.store.getJob(job.id))!;
    const first = { ...seen, relayedBytes: 11 };
    expect(await other.updateJob(first, ['admitted'], seen)).toBe(true);
    // Same state, but the job changed since `seen` was read: refused.
    expect(await p.store.updateJob({ ...seen, relayedBytes: 22 }, ['admitted'], seen)).toBe(false);
    expect((await p.store.getJob(job.id))!.relayedBytes).toBe(11);
    expect(await p.store.updateJob({ ...first, relayedBytes: 33 }, ['admitted'], first)).toBe(true);
  });

  it('parties reporting at the same moment all land in the receipt', async () => {
    for (let i = 0; i < 4; i++) {
      const { job } = await count('b-asset', 0);
      const results = await Promise.all([
        p.ex.submitReport(
          p.actors.provider,
          job.id,
          signReport(p.ids.provider, reportFor(job, p.ids.provider, 'provider')),
        ),
        p.ex.submitReport(
          p.actors.consumer,
          job.id,
          signReport(p.ids.consumer, reportFor(job, p.ids.consumer, 'consumer')),
        ),
      ]);
      const entry = results.map((r) => r.entry).find((e) => e !== undefined);
      expect(entry?.receipt.body.reports).toHaveLength(2);
      expect((await p.store.getJob(job.id))!.state).toBe('finished');
    }
  });

  it.runIf(kind === 'postgres')(
    'an admission that waits on a policy being replaced decides on the new policy',
    async () => {
      await p.ex.setPolicy(p.actors.provider, policy('c-asset', { budget: null, quota: null }));
      const old = (await p.store.listPolicies({ assetIds: ['c-asset'] })).find(
        (x) => !x.policy.revoked,
      )!.policy;
      const replacement = { ...old, id: bytesToHex(randomBytes(16)), quota: 99 };
      // Another exchange process replaces the policy and has not committed yet.
      const other = new pg.Client({ connectionString: p.fixture.location });
      await other.connect();
      await other.query('BEGIN');
      await other.query('UPDATE policies SET revoked = TRUE WHERE id = $1', [old.id]);
      await other.query(
        'INSERT INTO policies (id, asset_id, consumer, body) VALUES ($1, $2, $3, $4)',
        [replacement.id, replacement.assetId, replacement.consumer, JSON.stringify(replacement)],
      );
      const admission = count('c-asset', 0); // waits for the row the replacement holds
      await new Promise((r) => setTimeout(r, 300));
      await other.query('COMMIT');
      await other.end();
      const { job } = await admission;
      expect(job.spends.map((x) => x.policyId)).toEqual([replacement.id]);
    },
  );

  it('a nonce is accepted once across handles, and again only after it expired', async () => {
    const now = Date.now();
    expect(await p.store.rememberNonce('k1', 'n1', now + 1_000, now)).toBe(true);
    expect(await other.rememberNonce('k1', 'n1', now + 1_000, now + 10)).toBe(false);
    expect(await p.store.rememberNonce('k1', 'n1', now + 1_000, now + 20)).toBe(false);
    expect(await other.rememberNonce('k2', 'n1', now + 1_000, now)).toBe(true);
    expect(await other.rememberNonce('k1', 'n1', now + 5_000, now + 2_000)).toBe(true);
    expect(await p.store.rememberNonce('k1', 'n1', now + 5_000, now + 2_001)).toBe(false);
    // Offered at once through both handles: exactly one wins.
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? p.store : other).rememberNonce('k3', 'race', now + 9_000, now),
      ),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('text a store cannot hold is a typed error, and the store stays usable', async () => {
    const def = { ...assetDefinition('nul-asset'), title: 'a\u0000b' };
    const err = await code(p.ex.registerAsset(p.actors.provider, def));
    if (err === undefined) expect((await p.store.getAsset('nul-asset'))?.title).toBe('a\u0000b');
    else expect(err).toBe('ERR_INVALID_ARGUMENT');
    expect(await p.store.getAsset('a-asset')).toBeDefined();
  });

  it('a store of another schema version is refused on open, and opens again once restored', async () => {
    await p.fixture.exec("UPDATE meta SET value = '999' WHERE key = 'schema'");
    expect(await code(p.fixture.open())).toBe('ERR_UNSUPPORTED_VERSION');
    await p.fixture.exec("UPDATE meta SET value = '1' WHERE key = 'schema'");
    const reopened = await p.fixture.open();
    expect(await reopened.getAsset('a-asset')).toBeDefined();
    await reopened.close();
  });
});
