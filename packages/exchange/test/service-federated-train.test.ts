/**
 * federated.train end to end: an exchange process and two provider processes holding loan
 * records; the consumer (this process) coordinates FedAvg rounds with secure aggregation over
 * the relay while the providers train with DP-SGD. Checks the model, the per-round metering and
 * the privacy in the receipt, admission against the RDP accounting, that providers refuse a
 * consumer that asks for more rounds than admitted or for updates in the clear, and that no
 * provider releases an update from fewer records per local step than the minimum cohort (the
 * noiseless single-record reconstruction of the audit).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUnseenError, randomBytes, type UnseenError } from '@unseen/core';
import {
  type ConsumerRunContext,
  checkFederatedCohort,
  deltaUnits,
  type FederatedResult,
  federatedBatchSize,
  federatedModel,
  federatedPrivacy,
  federatedRunner,
  type JobRequest,
  type JobRunner,
  parseFederatedParams,
  RUNNER_MSG,
  RunnerRegistry,
  runAsConsumer,
  sendRunnerMessage,
  startProviders,
  ticketProviders,
  waitForReceipt,
} from '@unseen/exchange';
import {
  createDataset,
  evaluateModel,
  FedAvgServer,
  plainAggregator,
  Rng,
  runFedAvgServer,
  secureAggregator,
} from '@unseen/federated';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Federation, loansCsv, startFederation } from './helpers/federation.js';
import { runCli } from './helpers/processes.js';

let fed: Federation;
beforeAll(async () => {
  fed = await startFederation({
    providers: [
      {
        name: 'bank',
        assets: { 'loans-a': await loansCsv(400, 11, 'a') },
        offer: ['federated.train'],
      },
      {
        name: 'lender',
        assets: { 'loans-b': await loansCsv(300, 12, 'b') },
        offer: ['federated.train'],
      },
    ],
  });
  await policies();
}, 120_000);

/**
 * Policies on both assets with room for the next test's jobs: spent budget carries over to a
 * policy set again, so each budget is what was spent plus epsilon 20 and delta 1e-4.
 */
async function policies(): Promise<void> {
  const live = (await fed.clients.consumer.listPolicies()).filter((p) => !p.policy.revoked);
  for (const [i, assetId] of ['loans-a', 'loans-b'].entries()) {
    const usage = live.find((p) => p.policy.assetId === assetId)?.usage;
    await fed.clients.providers[i]!.setPolicy({
      assetId,
      consumer: fed.ids.consumer.keyId,
      computations: ['federated.train'],
      // 0.1 * 300 records per local step on the smaller asset: the most the jobs below allow.
      minCohort: 30,
      budget: {
        epsilon: (usage?.epsilonMicros ?? 0) / 1e6 + 20,
        delta: (usage?.deltaFemtos ?? 0) / 1e15 + 1e-4,
      },
      maxEpsilonPerJob: 10,
      quota: null,
      expiresAt: Date.now() + 3_600_000,
    });
  }
}
afterAll(() => fed?.close());

const params = {
  features: [
    { column: 'age', lower: 18, upper: 70 },
    { column: 'income', lower: 0, upper: 10_000 },
    { column: 'debt', lower: 0, upper: 15_000 },
  ],
  label: { column: 'defaulted', classes: 2 },
  rounds: 3,
  localSteps: 15,
  samplingRate: 0.1,
  learningRate: 2,
  clipNorm: 1,
  noiseMultiplier: 1,
  seed: 7,
};
const DELTA = 1e-5;

function trainJob(privacy: JobRequest['privacy']): JobRequest {
  return {
    computation: 'federated.train',
    assets: ['loans-a', 'loans-b'],
    params,
    cohort: 0,
    privacy,
  };
}

/** Held-out records of the same distribution, as the consumer's own validation set. */
async function holdout() {
  const lines = (await loansCsv(1000, 99, 'h')).trim().split('\n').slice(1);
  const p = parseFederatedParams(params);
  const x: number[] = [];
  const y: number[] = [];
  for (const line of lines) {
    const [, age, income, debt, label] = line.split(',').map(Number) as number[];
    [age, income, debt].forEach((v, k) => {
      const f = p.features[k]!;
      x.push((Math.min(f.upper, Math.max(f.lower, v!)) - f.lower) / (f.upper - f.lower));
    });
    y.push(label!);
  }
  return createDataset(Float32Array.from(x), y, 3, 2);
}

describe('federated.train through the exchange', () => {
  it('trains over two providers with DP-SGD and secure aggregation; the receipt meters each round and states the RDP epsilon', async () => {
    const spend = federatedPrivacy(params, DELTA);
    expect(spend.epsilon).toBeGreaterThan(0.1);
    expect(spend.epsilon).toBeLessThan(10);
    const view = await fed.clients.consumer.requestJob(
      trainJob({ epsilon: spend.epsilon, delta: DELTA }),
    );
    const { result, receipt } = await runAsConsumer({
      client: fed.clients.consumer,
      view,
      runners: fed.runners,
    });
    const r = result as FederatedResult;
    expect(r.rounds.map((x) => [x.round, x.contributors, x.totalWeight])).toEqual([
      [1, 2, 700],
      [2, 2, 700],
      [3, 2, 700],
    ]);
    const model = federatedModel(parseFederatedParams(params));
    const weights = r.weights.map((w) => Float32Array.from(w));
    const accuracy = evaluateModel(model, weights, await holdout()).accuracy;
    const initial = evaluateModel(
      model,
      await model.init(await Rng.seeded(7)),
      await holdout(),
    ).accuracy;
    expect(accuracy).toBeGreaterThan(0.65);
    expect(accuracy).toBeGreaterThan(initial);
    const body = receipt.receipt.body;
    expect(body.status).toBe('finished');
    expect(body.privacy).toEqual({ epsilon: spend.epsilon, delta: DELTA });
    expect(body.rounds?.map((u) => [u.round, u.contributors])).toEqual([
      [1, 2],
      [2, 2],
      [3, 2],
    ]);
    expect(body.rounds!.every((u) => u.bytes > 0)).toBe(true);
    expect(body.privacySpent?.accountant).toBe('rdp');
    expect(body.privacySpent!.epsilon).toBeLessThanOrEqual(spend.epsilon);
    expect(body.privacySpent!.epsilon).toBeGreaterThan(spend.epsilon - 1e-5);
    const statements = body.reports.filter((s) => s.body.role === 'provider');
    expect(statements.map((s) => s.body.privacy?.steps)).toEqual([45, 45]);
  }, 120_000);

  it('`unseen consumer run train` requests the RDP epsilon at the delta left in the policies and writes the model', async () => {
    await policies();
    // Spent budget outlives a policy set again: what is left of the delta, in units of 1e-15.
    const left = Math.min(
      ...(await fed.clients.consumer.listPolicies())
        .filter((p) => !p.policy.revoked && p.policy.budget !== null)
        .map((p) => deltaUnits(p.policy.budget!.delta, 'down') - p.usage.deltaFemtos),
    );
    expect(left).toBeGreaterThan(0);
    const delta = left / 1e15;
    const out = await runCli([
      'consumer',
      'run',
      'train',
      '--url',
      fed.exchange.url,
      '--key',
      join(fed.dir, 'shop.key.json'),
      '--asset',
      'loans-a',
      '--asset',
      'loans-b',
      '--features',
      'age:18:70,income:0:10000,debt:0:15000',
      '--label',
      'defaulted:2',
      '--rounds',
      '2',
      '--local-steps',
      '10',
      '--sampling-rate',
      '0.1',
      '--lr',
      '2',
      '--clip',
      '1',
      '--noise',
      '1',
      '--out',
      join(fed.dir, 'model.json'),
      '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as {
      receipt: { receipt: { body: { privacy: unknown; rounds: unknown[] } } };
    };
    const expected = federatedPrivacy({ ...params, rounds: 2, localSteps: 10 }, delta);
    // No --delta: the delta left in the policies' budgets.
    expect(printed.receipt.receipt.body.privacy).toEqual({ epsilon: expected.epsilon, delta });
    expect(printed.receipt.receipt.body.rounds).toHaveLength(2);
    const model = JSON.parse(readFileSync(join(fed.dir, 'model.json'), 'utf8')) as FederatedResult;
    expect(model.weights.map((w) => w.length)).toEqual([6, 2]);
  }, 120_000);

  it('admission refuses a job whose epsilon does not cover the DP-SGD accounting', async () => {
    const need = federatedPrivacy(params, DELTA).epsilon;
    await expect(
      fed.clients.consumer.requestJob(trainJob({ epsilon: need / 2, delta: DELTA })),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      details: { epsilonNeeded: need, status: 400 },
    });
    // Noise without a stated privacy is refused; no noise on a budgeted asset is denied.
    await expect(fed.clients.consumer.requestJob(trainJob(null))).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(
      fed.clients.consumer.requestJob({
        ...trainJob(null),
        params: { ...params, noiseMultiplier: 0 },
      }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED', details: { reason: 'privacy-required' } });
  });

  it('providers stop a consumer that asks for more rounds than admitted, or for updates in the clear', async () => {
    await policies();
    const rogue = (rounds: number, secure: boolean): JobRunner => ({
      ...federatedRunner,
      async runConsumer(ctx: ConsumerRunContext) {
        const t = ctx.ticket;
        const providers = ticketProviders(t);
        const channels = providers.map((k) => ctx.channel(k));
        await startProviders(ctx, channels);
        await Promise.all(channels.map((c) => sendRunnerMessage(c, t.jobId, RUNNER_MSG.GO)));
        const model = federatedModel(parseFederatedParams(t.params));
        const server = new FedAvgServer({
          initialWeights: await model.init(await Rng.seeded(1)),
          minFitClients: 2,
          minAvailableClients: 2,
          acceptFailures: false,
          aggregator: secure ? secureAggregator({ clip: 4, maxExamples: 1000 }) : plainAggregator(),
        });
        const run = await runFedAvgServer(
          server,
          new Map(providers.map((k, i) => [k, channels[i]!])),
          {
            rounds,
            roundTimeoutMs: 10_000,
          },
        );
        const bytes = randomBytes(8);
        return { result: run.rounds.map((x) => x.fit.status), resultBytes: bytes };
      },
    });
    for (const [runner, reason] of [
      [rogue(4, true), 'rounds-exceeded'],
      [rogue(1, false), 'aggregation-not-secure'],
    ] as const) {
      const spend = federatedPrivacy(params, DELTA);
      const view = await fed.clients.consumer.requestJob(
        trainJob({ epsilon: spend.epsilon, delta: DELTA }),
      );
      const out = await runAsConsumer({
        client: fed.clients.consumer,
        view,
        runners: new RunnerRegistry([runner]),
      }).catch((e) => e);
      if (reason === 'rounds-exceeded') {
        // Three rounds applied, the fourth failed: the providers stopped.
        expect((out as { result: string[] }).result).toEqual([
          'applied',
          'applied',
          'applied',
          'discarded',
        ]);
      }
      const receipt = (await waitForReceipt(fed.clients.consumer, view.job.id, 20_000)).receipt
        .body;
      const codes = receipt.reports
        .filter((s) => s.body.role === 'provider')
        .map((s) => s.body.error);
      expect(codes).toEqual(['ERR_POLICY_DENIED', 'ERR_POLICY_DENIED']);
      expect(receipt.status).toBe('failed');
    }
  }, 120_000);
});

describe('federated.train and the minimum cohort', () => {
  /** The audit's parameters: no noise, ~1 record per local step, a huge clip. */
  const attack = {
    ...params,
    rounds: 5,
    localSteps: 1,
    samplingRate: 1 / 400,
    learningRate: 1,
    clipNorm: 1e6,
    noiseMultiplier: 0,
  };

  it('refuses fewer expected records per local step than the minimum cohort; sizes batches without noise', () => {
    const denied = (p: Record<string, unknown>, rows: number, min: number) => {
      try {
        checkFederatedCohort(parseFederatedParams(p), rows, min);
        return undefined;
      } catch (e) {
        expect(isUnseenError(e)).toBe(true);
        return e as UnseenError;
      }
    };
    const e = denied(attack, 400, 10);
    expect(e?.code).toBe('ERR_POLICY_DENIED');
    expect(e?.details).toMatchObject({
      reason: 'batch-below-cohort',
      minCohort: 10,
      expectedBatch: 1,
    });
    expect(e?.message).toMatch(
      /1 records per local step, below the minimum cohort 10 \(it needs a sampling rate of at least 0\.025\)/,
    );
    // The boundary: q * rows = minCohort is enough (0.1 * 100 is not exactly 10 in floats).
    expect(denied({ ...attack, samplingRate: 0.1 }, 100, 10)).toBeUndefined();
    expect(denied({ ...attack, samplingRate: 0.1 }, 99, 10)?.code).toBe('ERR_POLICY_DENIED');
    expect(denied({ ...params, samplingRate: 0.1 }, 400, 100)?.code).toBe('ERR_POLICY_DENIED');
    const p = parseFederatedParams({ ...attack, samplingRate: 0.1 });
    expect(federatedBatchSize(p, 100, 10)).toBe(10);
    expect(federatedBatchSize(p, 305, 10)).toBe(31);
    expect(federatedBatchSize(parseFederatedParams({ ...attack, samplingRate: 1 }), 40, 10)).toBe(
      40,
    );
  });

  it('admission refuses the audit’s noiseless single-record job and spends nothing; a noiseless job with enough records per step runs', async () => {
    for (const [i, assetId] of ['loans-a', 'loans-b'].entries()) {
      await fed.clients.providers[i]!.setPolicy({
        assetId,
        consumer: fed.ids.consumer.keyId,
        computations: ['federated.train'],
        minCohort: 10,
        budget: null,
        maxEpsilonPerJob: null,
        quota: null,
        expiresAt: Date.now() + 3_600_000,
      });
    }
    const job = (p: Record<string, unknown>): JobRequest => ({
      ...trainJob(null),
      params: p,
    });
    // Admission refuses it with the committed row counts, before any provider hears of it, and
    // spends nothing. (The consumer's runner and every provider check again with their own
    // counts: defence against an exchange that admits it anyway; see the unit test above.)
    const before = (await fed.clients.consumer.listPolicies()).filter((p) => !p.policy.revoked);
    await expect(fed.clients.consumer.requestJob(job(attack))).rejects.toMatchObject({
      code: 'ERR_POLICY_DENIED',
      details: { reason: 'batch-below-cohort', minCohort: 10, status: 403 },
    });
    const after = (await fed.clients.consumer.listPolicies()).filter((p) => !p.policy.revoked);
    expect(after.map((p) => p.usage)).toEqual(before.map((p) => p.usage));

    // Enough records per step (0.1 * 300 = 30 >= 10): trains, on fixed batches without noise.
    const ok = {
      ...attack,
      rounds: 2,
      localSteps: 10,
      samplingRate: 0.1,
      learningRate: 2,
      clipNorm: 1,
    };
    const view3 = await fed.clients.consumer.requestJob(job(ok));
    const { result, receipt: r3 } = await runAsConsumer({
      client: fed.clients.consumer,
      view: view3,
      runners: fed.runners,
    });
    const r = result as FederatedResult;
    expect(r.rounds.map((x) => [x.round, x.contributors, x.totalWeight])).toEqual([
      [1, 2, 700],
      [2, 2, 700],
    ]);
    expect(r.weights.flat().every(Number.isFinite)).toBe(true);
    expect(r3.receipt.body.status).toBe('finished');
    const accuracy = evaluateModel(
      federatedModel(parseFederatedParams(ok)),
      r.weights.map((w) => Float32Array.from(w)),
      await holdout(),
    ).accuracy;
    expect(accuracy).toBeGreaterThan(0.6);
  }, 120_000);
});
