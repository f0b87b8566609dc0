/**
 * Policies enforced by a real exchange process over loopback HTTP, with SQLite on disk: every
 * denial rule, quota and budget exhaustion (atomic under concurrent requests), and parties
 * reaching for what is not theirs. Jobs that are admitted run end to end against a real
 * provider process through the relay.
 */
import { bytesToHex, hexToBytes, isUnseenError, sha256 } from '@unseen/core';
import {
  checkReceipt,
  type JobRequest,
  type PolicyDefinition,
  parsePublicKey,
  runAsConsumer,
} from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Network, startNetwork } from './helpers/network.js';

let net: Network;
beforeAll(async () => {
  net = await startNetwork({ rows: 200 });
}, 120_000);
afterAll(() => net?.close());

const HOUR = 3_600_000;

async function policy(
  o: Partial<PolicyDefinition> = {},
  who: 'consumer' | 'consumer2' = 'consumer',
) {
  return net.clients.provider.setPolicy({
    assetId: 'customers',
    consumer: net.ids[who].keyId,
    computations: ['aggregate.count', 'aggregate.sum'],
    minCohort: 10,
    budget: null,
    maxEpsilonPerJob: null,
    quota: null,
    expiresAt: Date.now() + HOUR,
    ...o,
  });
}

const countJob = (o: Partial<JobRequest> = {}): JobRequest => ({
  computation: 'aggregate.count',
  assets: ['customers'],
  params: {},
  cohort: 0,
  privacy: null,
  ...o,
});

async function denial(
  p: Promise<unknown>,
): Promise<{ code: string; status: unknown; reason: unknown }> {
  try {
    await p;
  } catch (e) {
    if (!isUnseenError(e)) throw e;
    return { code: e.code, status: e.details?.status, reason: e.details?.reason };
  }
  throw new Error('expected a denial');
}

describe('policy enforcement over HTTP', () => {
  it('runs an admitted job end to end and returns a receipt signed by all parties', async () => {
    await policy();
    const view = await net.clients.consumer.requestJob(countJob());
    const { result, receipt } = await runAsConsumer({
      client: net.clients.consumer,
      view,
      runners: net.runners,
    });
    expect(result).toMatchObject({
      computation: 'aggregate.count',
      value: 200,
      noise: { mechanism: 'none' },
    });
    const r = receipt.receipt.body;
    expect(r.status).toBe('finished');
    expect(r.reports.map((x) => x.body.party).sort()).toEqual(
      [net.ids.consumer.keyId, net.ids.provider.keyId].sort(),
    );
    expect(r.bytes.relayed).toBeGreaterThan(0);
    expect(r.resultHash).toMatch(/^[0-9a-f]{64}$/);
    const parties = await net.clients.operator.listParties();
    const keys = new Map(parties.map((p) => [p.keyId, parsePublicKey(p.publicKey)]));
    expect(
      checkReceipt(receipt.receipt, hexToBytes(net.clients.consumer.exchange.publicKey), (k) =>
        keys.get(k),
      ),
    ).toEqual([]);
    // The provider holds the same commitment it registered.
    const asset = await net.clients.provider.getAsset('customers');
    expect(r.assets[0]!.root).toBe(asset.commitment.root);
    void bytesToHex(sha256(new Uint8Array()));
  });

  it('denies each rule before any provider is involved, with code, status and reason', async () => {
    await policy({
      computations: ['aggregate.count', 'psi.cardinality'],
      minCohort: 50,
      budget: { epsilon: 1, delta: 0 },
      maxEpsilonPerJob: 0.5,
    });
    const c = net.clients.consumer;
    expect(await denial(c.requestJob(countJob({ assets: ['no-such-asset'] })))).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'no-policy',
    });
    expect(
      await denial(
        c.requestJob(
          countJob({
            computation: 'aggregate.sum',
            params: { column: 'income', lower: 0, upper: 1 },
            privacy: { epsilon: 0.1, delta: 0 },
          }),
        ),
      ),
    ).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'computation-not-allowed',
    });
    const train = {
      features: [{ column: 'age', lower: 0, upper: 100 }],
      label: { column: 'age' },
      rounds: 1,
      noiseMultiplier: 0,
    };
    expect(
      await denial(c.requestJob(countJob({ computation: 'federated.train', params: train }))),
    ).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'not-offered',
    });
    expect(
      await denial(
        c.requestJob(
          countJob({
            computation: 'psi.cardinality',
            params: { column: 'id' },
            cohort: 49,
            privacy: { epsilon: 0.1, delta: 0 },
          }),
        ),
      ),
    ).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'cohort-below-minimum',
    });
    expect(await denial(c.requestJob(countJob()))).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'privacy-required',
    });
    expect(await denial(c.requestJob(countJob({ privacy: { epsilon: 0.6, delta: 0 } })))).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'epsilon-above-job-maximum',
    });
    // Expired: a policy that lapses 300 ms after it was set.
    await policy({ expiresAt: Date.now() + 300 });
    await new Promise((r) => setTimeout(r, 400));
    expect(await denial(c.requestJob(countJob()))).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'expired',
    });
    // Revoked.
    const p = await policy();
    await net.clients.provider.revokePolicy(p.id);
    expect(await denial(c.requestJob(countJob()))).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'no-policy',
    });
    // Invalid parameters never reach admission.
    await policy({ computations: ['aggregate.sum'] });
    expect(
      await denial(
        c.requestJob(
          countJob({
            computation: 'aggregate.sum',
            params: { column: 'income', lower: 5, upper: 1 },
          }),
        ),
      ),
    ).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      status: 400,
    });
    // Denials are metered.
    const [row] = await c.metering();
    expect(row!.denied).toBeGreaterThanOrEqual(8);
  });

  it('a quota admits exactly what is left of it under 24 concurrent requests; the rest get 429', async () => {
    // Jobs run under earlier policies of this pair count against the quota too.
    const used = (await net.clients.consumer.listPolicies()).find((p) => !p.policy.revoked)!.usage
      .jobs;
    await policy({ quota: used + 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 24 }, () => net.clients.consumer.requestJob(countJob())),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(ok).toHaveLength(5);
    expect(refused.every((e) => e.code === 'ERR_QUOTA_EXCEEDED' && e.details.status === 429)).toBe(
      true,
    );
    const [live] = (await net.clients.consumer.listPolicies()).filter((p) => !p.policy.revoked);
    expect(live!.usage.jobs).toBe(used + 5);
  });

  it('a privacy budget is spent atomically: 1.0 admits three jobs of 0.3 out of 20 concurrent ones', async () => {
    await policy({ budget: { epsilon: 1, delta: 0 } });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        net.clients.consumer.requestJob(countJob({ privacy: { epsilon: 0.3, delta: 0 } })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(
      refused.every((e) => e.code === 'ERR_BUDGET_EXHAUSTED' && e.details.status === 403),
    ).toBe(true);
    const [live] = (await net.clients.consumer.listPolicies()).filter((p) => !p.policy.revoked);
    expect(live!.usage.epsilonMicros).toBe(900_000);
  });

  it('a DP job spends its epsilon and releases a noisy count', async () => {
    await policy({ budget: { epsilon: 2, delta: 0 } });
    const view = await net.clients.consumer.requestJob(
      countJob({ privacy: { epsilon: 1, delta: 0 } }),
    );
    const { result, receipt } = await runAsConsumer({
      client: net.clients.consumer,
      view,
      runners: net.runners,
    });
    expect(result).toMatchObject({ noise: { mechanism: 'discrete-laplace', epsilon: 1 } });
    expect(Math.abs((result as { value: number }).value - 200)).toBeLessThan(40); // P[|Lap(1)| >= 40] < 1e-17
    expect(receipt.receipt.body.privacy).toEqual({ epsilon: 1, delta: 0 });
  });

  it('the provider refuses to release below the minimum cohort, and the receipt says so', async () => {
    await policy({ minCohort: 1000 });
    const view = await net.clients.consumer.requestJob(countJob());
    const err = await runAsConsumer({
      client: net.clients.consumer,
      view,
      runners: net.runners,
    }).catch((e) => e);
    expect(err.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(err.details.providerCode).toBe('ERR_POLICY_DENIED');
    const entry = await net.clients.consumer.getReceipt(view.job.id).catch(async () => {
      await new Promise((r) => setTimeout(r, 500));
      return net.clients.consumer.getReceipt(view.job.id);
    });
    expect(entry.receipt.body.status).toBe('failed');
  });

  it('a consumer cannot read another consumer’s jobs or receipts, nor use an asset without a policy', async () => {
    await policy();
    const view = await net.clients.consumer.requestJob(countJob());
    await runAsConsumer({ client: net.clients.consumer, view, runners: net.runners });
    const other = net.clients.consumer2;
    expect(await denial(other.getReceipt(view.job.id))).toMatchObject({
      code: 'ERR_NOT_FOUND',
      status: 404,
    });
    expect(await denial(other.getJob(view.job.id))).toMatchObject({
      code: 'ERR_NOT_FOUND',
      status: 404,
    });
    expect(await other.listReceipts()).toEqual([]);
    expect(await other.listJobs()).toEqual([]);
    expect(await other.listAssets()).toEqual([]);
    expect(await denial(other.getAsset('customers'))).toMatchObject({
      code: 'ERR_NOT_FOUND',
      status: 404,
    });
    expect(await denial(other.requestJob(countJob()))).toEqual({
      code: 'ERR_POLICY_DENIED',
      status: 403,
      reason: 'no-policy',
    });
    // Roles: a consumer may not read the ledger or register parties; a provider may not request jobs.
    expect(await denial(other.ledger())).toMatchObject({ code: 'ERR_UNAUTHORIZED', status: 403 });
    expect(await denial(other.registerParty(net.ids.consumer.public))).toMatchObject({
      code: 'ERR_UNAUTHORIZED',
      status: 403,
    });
    expect(await denial(net.clients.provider.requestJob(countJob()))).toMatchObject({
      code: 'ERR_UNAUTHORIZED',
      status: 403,
    });
    // A consumer cannot set a policy for itself; a provider cannot set one on another's asset.
    expect(
      await denial(
        other.setPolicy({
          assetId: 'customers',
          consumer: net.ids.consumer2.keyId,
          computations: ['aggregate.count'],
          minCohort: 1,
          budget: null,
          maxEpsilonPerJob: null,
          quota: null,
          expiresAt: Date.now() + HOUR,
        }),
      ),
    ).toMatchObject({
      code: 'ERR_UNAUTHORIZED',
      status: 403,
    });
    // Another consumer cannot report on, or join the relay of, someone else's job.
    const fresh = await net.clients.consumer.requestJob(countJob());
    expect(
      await denial(other.report(fresh.job.id, { body: {}, signature: '' } as never)),
    ).toMatchObject({ code: 'ERR_NOT_FOUND', status: 404 });
    expect(await denial(other.relay(fresh))).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });
});
