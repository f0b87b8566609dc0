/**
 * PSI jobs end to end: a consumer in this process and a provider process running @unseen/psi
 * through the exchange's relay, admitted by policy and receipted.
 */

import { type JobRequest, runAsConsumer } from '@unseen/exchange';
import { runPsiClient } from '@unseen/psi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Network, startNetwork } from './helpers/network.js';

let net: Network;
beforeAll(async () => {
  net = await startNetwork({ rows: 300 });
  await net.clients.provider.setPolicy({
    assetId: 'customers',
    consumer: net.ids.consumer.keyId,
    computations: ['psi.cardinality', 'psi.intersection', 'psi.sum'],
    minCohort: 10,
    budget: null,
    maxEpsilonPerJob: null,
    quota: null,
    expiresAt: Date.now() + 3_600_000,
  });
}, 120_000);
afterAll(() => net?.close());

// 12 of the provider's customers (c0..c11, ages 20..31) and 8 strangers.
const mine = [
  ...Array.from({ length: 12 }, (_, i) => `c${i}`),
  ...Array.from({ length: 8 }, (_, i) => `x${i}`),
];
const psiJob = (
  computation: JobRequest['computation'],
  params: Record<string, unknown> = { column: 'id' },
): JobRequest => ({
  computation,
  assets: ['customers'],
  params,
  cohort: mine.length,
  privacy: null,
});

describe('PSI jobs through the exchange', () => {
  it('cardinality, intersection and sum give the right answers and receipts', async () => {
    const run = async (job: JobRequest) => {
      const view = await net.clients.consumer.requestJob(job);
      return runAsConsumer({
        client: net.clients.consumer,
        view,
        runners: net.runners,
        input: mine,
      });
    };
    const card = await run(psiJob('psi.cardinality'));
    expect(card.result).toEqual({ computation: 'psi.cardinality', cardinality: 12 });
    expect(card.receipt.receipt.body.status).toBe('finished');
    const inter = await run(psiJob('psi.intersection'));
    expect((inter.result as { intersection: string[] }).intersection).toEqual(mine.slice(0, 12));
    const sum = await run(psiJob('psi.sum', { column: 'id', valueColumn: 'age' }));
    expect(sum.result).toEqual({
      computation: 'psi.sum',
      cardinality: 12,
      sum: String(12 * 20 + (11 * 12) / 2),
    });
    expect(sum.receipt.receipt.body.bytes.relayed).toBeGreaterThan(0);
  }, 120_000);

  it('the provider refuses a consumer set that is not the admitted cohort, before answering', async () => {
    const view = await net.clients.consumer.requestJob(psiJob('psi.cardinality'));
    const session = await net.clients.consumer.relay(view);
    const err = await runPsiClient(session.channel(net.ids.provider.keyId), {
      items: ['c1', 'c2', 'c3'],
      mode: 'cardinality',
      timeoutMs: 20_000,
    }).catch((e) => e);
    session.close();
    // The consumer's run fails with the provider's reason; no answer came back.
    expect(err.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(err.details).toEqual({ peerCode: 'ERR_POLICY_DENIED' });
    // The provider's failure report ends the job with a failed receipt.
    let entry = await net.clients.consumer.getReceipt(view.job.id).catch(() => undefined);
    for (let i = 0; entry === undefined && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 100));
      entry = await net.clients.consumer.getReceipt(view.job.id).catch(() => undefined);
    }
    expect(entry?.receipt.body.status).toBe('failed');
    const provider = entry!.receipt.body.reports.find((r) => r.body.role === 'provider')!;
    expect(provider.body.error).toBe('ERR_POLICY_DENIED');
  }, 60_000);

  it('a declared cohort below the policy minimum is denied at admission', async () => {
    await expect(
      net.clients.consumer.requestJob({ ...psiJob('psi.cardinality'), cohort: 5 }),
    ).rejects.toMatchObject({
      code: 'ERR_POLICY_DENIED',
      details: { reason: 'cohort-below-minimum', status: 403 },
    });
  });
});
