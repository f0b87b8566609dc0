import {
  type Asset,
  checkClassification,
  decide,
  deltaUnits,
  epsilonUnits,
  type JobRequest,
  type Policy,
  parseJobRequest,
  parsePolicyDefinition,
} from '@unseen/exchange';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const NOW = 1_700_000_000_000;
const consumer = 'c'.repeat(32).replace(/c/g, 'a');

const asset: Asset = {
  id: 'claims',
  title: 'claims',
  schema: [{ name: 'amount', type: 'number' }],
  classification: 'general',
  commitment: { root: '0'.repeat(64), rows: 10, schemaHash: '0'.repeat(64) },
  computations: ['psi.cardinality', 'psi.intersection', 'aggregate.sum', 'aggregate.count'],
  provider: 'b'.repeat(32),
  registeredAt: NOW,
};

const policy: Policy = {
  id: 'p'.repeat(32).replace(/p/g, '1'),
  assetId: 'claims',
  consumer,
  computations: ['psi.cardinality', 'aggregate.sum'],
  minCohort: 50,
  budget: { epsilon: 1, delta: 1e-6 },
  maxEpsilonPerJob: 0.5,
  quota: 3,
  expiresAt: NOW + 1000,
  createdBy: 'b'.repeat(32),
  createdAt: NOW - 1000,
  revoked: false,
};

const job = (o: Partial<JobRequest> = {}): JobRequest => ({
  computation: 'psi.cardinality',
  assets: ['claims'],
  params: {},
  cohort: 100,
  privacy: { epsilon: 0.25, delta: 1e-7 },
  ...o,
});
const fresh = { jobs: 0, epsilonMicros: 0, deltaFemtos: 0 };

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    const err = e as { code: string; details?: { reason?: string } };
    return `${err.code}:${err.details?.reason ?? ''}`;
  }
  return 'admitted';
}

describe('policy decisions', () => {
  it('admits an allowed job and reports its spend in integer units', () => {
    expect(decide(job(), asset, policy, fresh, NOW)).toEqual({
      policyId: policy.id,
      epsilonMicros: 250_000,
      deltaFemtos: 100_000_000,
    });
  });

  it('denies each rule with its reason, in a fixed order', () => {
    expect(reason(() => decide(job(), asset, undefined, fresh, NOW))).toBe(
      'ERR_POLICY_DENIED:no-policy',
    );
    expect(reason(() => decide(job(), asset, { ...policy, revoked: true }, fresh, NOW))).toBe(
      'ERR_POLICY_DENIED:revoked',
    );
    expect(reason(() => decide(job(), asset, policy, fresh, NOW + 1000))).toBe(
      'ERR_POLICY_DENIED:expired',
    );
    expect(
      reason(() => decide(job({ computation: 'aggregate.mean' }), asset, policy, fresh, NOW)),
    ).toBe('ERR_POLICY_DENIED:not-offered');
    expect(
      reason(() => decide(job({ computation: 'psi.intersection' }), asset, policy, fresh, NOW)),
    ).toBe('ERR_POLICY_DENIED:computation-not-allowed');
    expect(reason(() => decide(job({ cohort: 49 }), asset, policy, fresh, NOW))).toBe(
      'ERR_POLICY_DENIED:cohort-below-minimum',
    );
    expect(reason(() => decide(job({ privacy: null }), asset, policy, fresh, NOW))).toBe(
      'ERR_POLICY_DENIED:privacy-required',
    );
    expect(
      reason(() => decide(job({ privacy: { epsilon: 0.6, delta: 0 } }), asset, policy, fresh, NOW)),
    ).toBe('ERR_POLICY_DENIED:epsilon-above-job-maximum');
    expect(reason(() => decide(job(), asset, policy, { ...fresh, jobs: 3 }, NOW))).toBe(
      'ERR_QUOTA_EXCEEDED:',
    );
    expect(
      reason(() => decide(job(), asset, policy, { ...fresh, epsilonMicros: 800_000 }, NOW)),
    ).toBe('ERR_BUDGET_EXHAUSTED:');
    expect(
      reason(() => decide(job(), asset, policy, { ...fresh, deltaFemtos: 950_000_000 }, NOW)),
    ).toBe('ERR_BUDGET_EXHAUSTED:');
  });

  it('checks the declared cohort for PSI only; runners check aggregates where the data is', () => {
    expect(
      reason(() =>
        decide(job({ computation: 'aggregate.sum', cohort: 0 }), asset, policy, fresh, NOW),
      ),
    ).toBe('admitted');
  });

  it('training: a local step must sample at least the minimum cohort of the committed rows', () => {
    const trainAsset = {
      ...asset,
      commitment: { ...asset.commitment, rows: 500 },
      computations: [...asset.computations, 'federated.train' as const],
    };
    const trainPolicy = {
      ...policy,
      computations: [...policy.computations, 'federated.train' as const],
    };
    const train = (samplingRate: unknown) =>
      reason(() =>
        decide(
          job({ computation: 'federated.train', cohort: 0, params: { samplingRate } }),
          trainAsset,
          trainPolicy,
          fresh,
          NOW,
        ),
      );
    expect(train(0.1)).toBe('admitted'); // 50 records per step, the minimum
    expect(train(0.098)).toBe('ERR_POLICY_DENIED:batch-below-cohort');
    expect(train(0.002)).toBe('ERR_POLICY_DENIED:batch-below-cohort'); // one record per step
    // Malformed rates are the parameter validator's to refuse, not this rule's.
    expect(train('0.002')).toBe('admitted');
  });

  it('holds the per-job epsilon maximum on a policy without a budget too', () => {
    const p = { ...policy, budget: null, quota: null, maxEpsilonPerJob: 0.5 };
    expect(reason(() => decide(job({ privacy: null }), asset, p, fresh, NOW))).toBe(
      'ERR_POLICY_DENIED:privacy-required',
    );
    expect(
      reason(() => decide(job({ privacy: { epsilon: 0.6, delta: 0 } }), asset, p, fresh, NOW)),
    ).toBe('ERR_POLICY_DENIED:epsilon-above-job-maximum');
    const s = decide(job({ privacy: { epsilon: 0.5, delta: 0 } }), asset, p, fresh, NOW);
    expect(s.epsilonMicros).toBe(500_000);
    // Neither a budget nor a maximum: the job need not state privacy.
    const open = { ...p, maxEpsilonPerJob: null };
    expect(reason(() => decide(job({ privacy: null }), asset, open, fresh, NOW))).toBe('admitted');
  });

  it('spends exactly the budget: ten jobs of 0.1 fit in 1.0, an eleventh does not', () => {
    const p = { ...policy, budget: { epsilon: 1, delta: 0 }, quota: null, maxEpsilonPerJob: null };
    let usage = { ...fresh };
    for (let i = 0; i < 10; i++) {
      const s = decide(job({ privacy: { epsilon: 0.1, delta: 0 } }), asset, p, usage, NOW);
      usage = {
        jobs: usage.jobs + 1,
        epsilonMicros: usage.epsilonMicros + s.epsilonMicros,
        deltaFemtos: 0,
      };
    }
    expect(
      reason(() => decide(job({ privacy: { epsilon: 0.1, delta: 0 } }), asset, p, usage, NOW)),
    ).toBe('ERR_BUDGET_EXHAUSTED:');
  });

  it('rounds spends up and budgets down, so the sum of admitted spends never exceeds the budget', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
        fc.array(fc.double({ min: 1e-7, max: 10, noNaN: true }), { maxLength: 30 }),
        (budget, eps) => {
          let spent = 0;
          let used = 0;
          for (const e of eps) {
            if (used + epsilonUnits(e, 'up') <= epsilonUnits(budget, 'down')) {
              used += epsilonUnits(e, 'up');
              spent += e;
            }
          }
          expect(spent).toBeLessThanOrEqual(budget * (1 + 1e-9));
        },
      ),
    );
    expect(epsilonUnits(0.1 + 0.2, 'up')).toBe(300_000);
    expect(deltaUnits(1e-6, 'down')).toBe(1e9);
  });

  it('classification floors: core data needs a budget, cohort >= 100 and no intersection', () => {
    const core = { ...asset, classification: 'core' as const };
    const ok = { ...policy, minCohort: 100, computations: ['psi.cardinality' as const] };
    const rules = {
      general: { forbidden: [], minCohortFloor: 1, requireBudget: false, maxValidityMs: null },
      important: { forbidden: [], minCohortFloor: 10, requireBudget: false, maxValidityMs: null },
      core: {
        forbidden: ['psi.intersection' as const],
        minCohortFloor: 100,
        requireBudget: true,
        maxValidityMs: 10_000,
      },
    };
    expect(() => checkClassification(ok, core, rules, NOW)).not.toThrow();
    for (const bad of [
      { ...ok, computations: ['psi.intersection' as const] },
      { ...ok, minCohort: 99 },
      { ...ok, budget: null },
      { ...ok, expiresAt: NOW + 20_000 },
    ]) {
      expect(reason(() => checkClassification(bad, core, rules, NOW))).toBe(
        'ERR_POLICY_DENIED:classification',
      );
    }
  });

  it('validates policy and job documents', () => {
    expect(() =>
      parsePolicyDefinition({ assetId: 'x', consumer, computations: ['psi.sum'], expiresAt: 1 }),
    ).not.toThrow();
    for (const bad of [
      null,
      {},
      { assetId: 'x', consumer, computations: [], expiresAt: 1 },
      { assetId: 'x', consumer, computations: ['psi.bogus'], expiresAt: 1 },
    ]) {
      expect(() => parsePolicyDefinition(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    for (const bad of [
      { computation: 'psi.sum', assets: [], cohort: 1 },
      { computation: 'psi.sum', assets: ['a', 'a'], cohort: 1 },
      { computation: 'psi.sum', assets: ['a'], cohort: -1 },
      { computation: 'psi.sum', assets: ['a'], cohort: 1, privacy: { epsilon: 0 } },
      { computation: 'psi.sum', assets: ['a'], cohort: 1, params: [] },
    ]) {
      expect(() => parseJobRequest(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
