/**
 * Aggregates over two providers end to end: an exchange process, two provider processes and a
 * consumer in this process, with the providers' vectors combined by secure aggregation or under
 * BFV encryption through the blind relay. The consumer's result is the total (exact, or with
 * each provider's discrete Laplace noise), the receipt carries all three parties' reports, and
 * a provider whose asset is below the minimum cohort stops the job for everyone.
 */

import { join } from 'node:path';
import {
  type AggregateResult,
  type JobRequest,
  type PolicyDefinition,
  runAsConsumer,
  waitForReceipt,
} from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Federation, loansCsv, startFederation } from './helpers/federation.js';
import { runCli } from './helpers/processes.js';

const A = await loansCsv(300, 1, 'a');
const B = await loansCsv(200, 2, 'b');

let fed: Federation;
beforeAll(async () => {
  fed = await startFederation({
    providers: [
      {
        name: 'bank',
        assets: { 'loans-a': A },
        offer: ['aggregate.count', 'aggregate.sum', 'aggregate.mean'],
      },
      {
        name: 'insurer',
        assets: { 'loans-b': B },
        offer: ['aggregate.count', 'aggregate.sum', 'aggregate.mean'],
      },
    ],
  });
}, 120_000);
afterAll(() => fed?.close());

async function policies(extra: Partial<PolicyDefinition> = {}): Promise<void> {
  for (const [i, assetId] of ['loans-a', 'loans-b'].entries()) {
    await fed.clients.providers[i]!.setPolicy({
      assetId,
      consumer: fed.ids.consumer.keyId,
      computations: ['aggregate.count', 'aggregate.sum', 'aggregate.mean'],
      minCohort: 50,
      budget: null,
      maxEpsilonPerJob: null,
      quota: null,
      expiresAt: Date.now() + 3_600_000,
      ...extra,
    });
  }
}

function column(csv: string, name: string): number[] {
  const [head, ...rows] = csv.trim().split('\n');
  const i = head!.split(',').indexOf(name);
  return rows.map((r) => Number(r.split(',')[i]));
}

const incomes = [...column(A, 'income'), ...column(B, 'income')];
const exactSum = incomes.reduce((s, v) => s + Math.min(8000, v), 0);

const job = (
  computation: JobRequest['computation'],
  params: Record<string, unknown>,
  privacy: JobRequest['privacy'] = null,
): JobRequest => ({ computation, assets: ['loans-a', 'loans-b'], params, cohort: 0, privacy });

async function run(request: JobRequest) {
  const view = await fed.clients.consumer.requestJob(request);
  return runAsConsumer({ client: fed.clients.consumer, view, runners: fed.runners });
}

describe('aggregates over two providers', () => {
  it('`unseen consumer run aggregate` over both assets, with --protocol, prints the total and its receipt', async () => {
    await policies();
    const out = await runCli([
      'consumer',
      'run',
      'aggregate',
      '--url',
      fed.exchange.url,
      '--key',
      join(fed.dir, 'shop.key.json'),
      '--asset',
      'loans-a',
      '--asset',
      'loans-b',
      '--op',
      'sum',
      '--column',
      'income',
      '--lower',
      '0',
      '--upper',
      '8000',
      '--decimals',
      '0',
      '--protocol',
      'homomorphic',
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as {
      result: AggregateResult;
      receipt: { receipt: { body: { status: string } } };
    };
    expect(printed.result).toMatchObject({
      value: exactSum,
      protocol: 'homomorphic',
      providers: 2,
    });
    expect(printed.receipt.receipt.body.status).toBe('finished');
  }, 60_000);

  it('secure aggregation: exact count, sum and mean equal the plain computation; the receipt has three signed reports', async () => {
    await policies();
    const count = await run(job('aggregate.count', {}));
    expect(count.result).toEqual({
      computation: 'aggregate.count',
      value: 500,
      noise: { mechanism: 'none' },
      protocol: 'secure-aggregation',
      providers: 2,
    });
    const r = count.receipt.receipt.body;
    expect(r.status).toBe('finished');
    expect(r.providers).toHaveLength(2);
    expect(r.reports.map((s) => s.body.role).sort()).toEqual(['consumer', 'provider', 'provider']);
    expect(r.bytes.relayed).toBeGreaterThan(0);
    const params = { column: 'income', lower: 0, upper: 8000, decimals: 0 };
    const sum = await run(job('aggregate.sum', params));
    expect((sum.result as AggregateResult).value).toBe(exactSum);
    const mean = await run(job('aggregate.mean', params));
    expect((mean.result as AggregateResult).value).toBeCloseTo(exactSum / 500, 9);
  }, 60_000);

  it('homomorphic (BFV): the first provider adds ciphertexts, the consumer decrypts only the total', async () => {
    await policies();
    const params = {
      column: 'income',
      lower: 0,
      upper: 8000,
      decimals: 2,
      protocol: 'homomorphic',
    };
    const sum = await run(job('aggregate.sum', params));
    expect(sum.result).toMatchObject({ value: exactSum, protocol: 'homomorphic', providers: 2 });
    const count = await run(job('aggregate.count', { protocol: 'homomorphic' }));
    expect((count.result as AggregateResult).value).toBe(500);
    expect(sum.receipt.receipt.body.params).toMatchObject({ protocol: 'homomorphic' });
  }, 60_000);

  it('with a budget, each provider adds noise for the job’s epsilon and each asset’s budget is charged once', async () => {
    await policies({ budget: { epsilon: 3, delta: 0 }, maxEpsilonPerJob: 1 });
    const params = { column: 'income', lower: 0, upper: 8000, decimals: 0 };
    const sum = await run(job('aggregate.sum', params, { epsilon: 1, delta: 0 }));
    const res = sum.result as AggregateResult;
    expect(res.noise).toEqual({ mechanism: 'discrete-laplace', epsilon: 1 });
    // Two Lap_Z(8000) noises: |total noise| > 8000 * 40 has probability below 1e-15.
    expect(Math.abs(res.value - exactSum)).toBeLessThan(8000 * 40);
    expect(sum.receipt.receipt.body.privacy).toEqual({ epsilon: 1, delta: 0 });
    const count = await run(
      job('aggregate.count', { protocol: 'homomorphic' }, { epsilon: 1, delta: 0 }),
    );
    expect(Math.abs((count.result as AggregateResult).value - 500)).toBeLessThan(80);
    const used = await fed.clients.consumer.listPolicies();
    const live = used.filter((p) => !p.policy.revoked);
    expect(live.map((p) => p.usage.epsilonMicros)).toEqual([2_000_000, 2_000_000]);
    // A third job of epsilon 1 still fits, a fourth does not.
    await run(job('aggregate.count', {}, { epsilon: 1, delta: 0 }));
    await expect(
      fed.clients.consumer.requestJob(job('aggregate.count', {}, { epsilon: 1, delta: 0 })),
    ).rejects.toMatchObject({ code: 'ERR_BUDGET_EXHAUSTED' });
  }, 60_000);

  it('a provider whose asset is below the minimum cohort stops the job before any protocol runs', async () => {
    await policies({ minCohort: 250 }); // loans-b has 200 rows
    const view = await fed.clients.consumer.requestJob(job('aggregate.count', {}));
    const err = await runAsConsumer({
      client: fed.clients.consumer,
      view,
      runners: fed.runners,
    }).catch((e) => e);
    expect(err.code).toBe('ERR_PROTOCOL_ABORTED');
    expect(err.details.providerCode).toBe('ERR_POLICY_DENIED');
    const receipt = (await waitForReceipt(fed.clients.consumer, view.job.id, 20_000)).receipt.body;
    expect(receipt.status).toBe('failed');
    // The refusing provider's and the consumer's reports are in it. The other provider's is when
    // it learned of the abort within the exchange's 5 s grace after the first failure: usually,
    // but not always on a loaded machine (it may hear of it only at its own timeout).
    const reports = receipt.reports.map((r) => r.body);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.find((r) => r.role === 'consumer')?.status).toBe('failed');
    expect(reports.some((r) => r.role === 'provider' && r.error === 'ERR_POLICY_DENIED')).toBe(
      true,
    );
  }, 60_000);
});
