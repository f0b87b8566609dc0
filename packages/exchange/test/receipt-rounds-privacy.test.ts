/**
 * Per-round usage and privacy statements in party reports: the exchange accepts them only from
 * the right role and in the right shape, and the receipt carries the consumer's rounds and the
 * largest epsilon any provider stated, under the exchange's signature (the ledger verifies).
 */
import { checkReceipt, RECEIPT_DOMAIN, signBody, signReport } from '@unseen/exchange';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assetDefinition,
  type InProcess,
  inProcessExchange,
  reportFor,
} from './helpers/inprocess.js';

let p: InProcess;
beforeEach(async () => {
  p = await inProcessExchange();
  await p.ex.registerAsset(p.actors.provider, assetDefinition('claims'));
  await p.ex.setPolicy(p.actors.provider, {
    assetId: 'claims',
    consumer: p.ids.consumer.keyId,
    computations: ['aggregate.count'],
    minCohort: 1,
    budget: null,
    maxEpsilonPerJob: null,
    quota: null,
    expiresAt: p.ex.now() + 3_600_000,
  });
});
afterEach(() => p.close());

const privacy = {
  mechanism: 'dp-sgd',
  accountant: 'rdp',
  epsilon: 2.5,
  delta: 1e-5,
  steps: 30,
  samplingRate: 0.1,
  noiseMultiplier: 1.1,
};
const rounds = [
  { round: 1, contributors: 1, bytes: 1200, durationMs: 40 },
  { round: 2, contributors: 1, bytes: 1180, durationMs: 35 },
];

async function job() {
  return (
    await p.ex.requestJob(p.actors.consumer, {
      computation: 'aggregate.count',
      assets: ['claims'],
      params: {},
      cohort: 0,
    })
  ).job;
}

describe('rounds and privacy statements in reports', () => {
  it('end up in the receipt, which the ledger verifies', async () => {
    const j = await job();
    await p.ex.submitReport(
      p.actors.provider,
      j.id,
      signReport(p.ids.provider, { ...reportFor(j, p.ids.provider, 'provider'), privacy }),
    );
    const { entry } = await p.ex.submitReport(
      p.actors.consumer,
      j.id,
      signReport(p.ids.consumer, { ...reportFor(j, p.ids.consumer, 'consumer'), rounds }),
    );
    const r = entry!.receipt.body;
    expect(r.rounds).toEqual(rounds);
    expect(r.privacySpent).toEqual({ epsilon: 2.5, delta: 1e-5, accountant: 'rdp' });
    expect((await p.ex.verifyLedger()).ok).toBe(true);
    // An exchange that signs other figures than the parties reported is caught.
    const keyOf = (k: string) =>
      [p.ids.provider, p.ids.consumer].find((i) => i.keyId === k)?.publicKey;
    const forged = (body: typeof r) =>
      checkReceipt(signBody(p.ids.exchange, RECEIPT_DOMAIN, body), p.ids.exchange.publicKey, keyOf);
    expect(forged(r)).toEqual([]);
    expect(forged({ ...r, rounds: rounds.slice(1) })).toEqual([
      'rounds differ from the consumer report',
    ]);
    expect(forged({ ...r, privacySpent: { ...r.privacySpent!, epsilon: 0.5 } })).toEqual([
      'privacySpent differs from the providers’ statements',
    ]);
  });

  it('are refused from the wrong role or in the wrong shape, with ERR_INTEGRITY', async () => {
    const j = await job();
    const bad: [typeof p.ids.provider, 'consumer' | 'provider', Record<string, unknown>][] = [
      [p.ids.provider, 'provider', { rounds }],
      [p.ids.consumer, 'consumer', { privacy }],
      [p.ids.consumer, 'consumer', { rounds: [{ round: 1 }] }],
      [p.ids.consumer, 'consumer', { rounds: [{ ...rounds[0], bytes: -1 }] }],
      [p.ids.consumer, 'consumer', { rounds: 'many' }],
      [p.ids.provider, 'provider', { privacy: { ...privacy, epsilon: 'small' } }],
      [p.ids.provider, 'provider', { privacy: { ...privacy, extra: 1 } }],
    ];
    for (const [who, role, extra] of bad) {
      const actor = role === 'consumer' ? p.actors.consumer : p.actors.provider;
      const report = { ...reportFor(j, who, role), ...extra } as ReturnType<typeof reportFor>;
      await expect(p.ex.submitReport(actor, j.id, signReport(who, report))).rejects.toMatchObject({
        code: 'ERR_INTEGRITY',
      });
    }
  });
});
