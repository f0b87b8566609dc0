/**
 * Policies: what a consumer may run on an asset ("controllable"). One policy per (asset,
 * consumer) names the allowed computations, a minimum cohort size, a differential-privacy
 * budget that each job spends, a query quota and an expiry. {@link decide} is a pure function
 * of the policy, the asset, the job request and the usage so far; the store calls it inside
 * the same transaction that records the spend, so two concurrent jobs can never both spend the
 * last unit of a quota or budget.
 *
 * Privacy budgets compose by basic sequential composition (Dwork & Roth, "The Algorithmic
 * Foundations of Differential Privacy", Thm 3.16): a consumer's jobs on an asset spend the sum
 * of their (epsilon, delta). Amounts are counted in integer units (epsilon in 1e-6, delta in
 * 1e-15), a job's spend rounded up and the budget down, so floating-point sums can neither
 * overspend nor wrongly refuse.
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import type { Asset, Classification } from './asset.js';
import { acomputations, type Computation, familyOf, RECORD_REVEALING } from './computations.js';
import { akeyId, aname } from './identity.js';

/** An (epsilon, delta) differential-privacy amount. */
export interface PrivacyAmount {
  epsilon: number;
  delta: number;
}

/** What a provider (or operator) sets for one consumer on one asset. */
export interface PolicyDefinition {
  assetId: string;
  /** Key id of the consumer this policy is for. */
  consumer: string;
  computations: Computation[];
  /** Smallest cohort (records, set size, clients) a job may declare and a runner may release. */
  minCohort: number;
  /** Total privacy budget over all jobs; null when the asset's jobs are not DP-accounted. */
  budget: PrivacyAmount | null;
  /** Largest epsilon one job may spend; null for no per-job limit. */
  maxEpsilonPerJob: number | null;
  /** Jobs admitted at most; null for unlimited. */
  quota: number | null;
  /** Milliseconds since the epoch after which nothing is admitted. */
  expiresAt: number;
}

/** A stored policy. */
export interface Policy extends PolicyDefinition {
  id: string;
  /** Key id of the provider or operator that set it. */
  createdBy: string;
  createdAt: number;
  revoked: boolean;
}

/** What a policy has been spent so far, in integer units. */
export interface PolicyUsage {
  jobs: number;
  /** Epsilon spent, in units of 1e-6. */
  epsilonMicros: number;
  /** Delta spent, in units of 1e-15. */
  deltaFemtos: number;
}

/** A job as a consumer asks for it. */
export interface JobRequest {
  computation: Computation;
  /** Asset ids the job runs on (1 to 16, distinct). */
  assets: string[];
  /** Computation parameters, checked by the runner of the computation. */
  params: Record<string, unknown>;
  /** The cohort the job declares: the consumer's set size for PSI (checked at admission); 0 otherwise. */
  cohort: number;
  /** Privacy the job spends on each asset's budget. */
  privacy: PrivacyAmount | null;
}

/** Minimums that a classification imposes on every policy of its assets. */
export interface ClassificationRule {
  /** Computations never allowed on this class. */
  forbidden: Computation[];
  minCohortFloor: number;
  /** Policies must set a privacy budget. */
  requireBudget: boolean;
  /** Longest validity of a policy from its creation, in ms; null for no limit. */
  maxValidityMs: number | null;
}

const DAY = 86_400_000;

/** Default floors per classification; an exchange may configure its own. */
export const DEFAULT_CLASSIFICATION_RULES: Readonly<Record<Classification, ClassificationRule>> = {
  general: { forbidden: [], minCohortFloor: 1, requireBudget: false, maxValidityMs: null },
  important: { forbidden: [], minCohortFloor: 10, requireBudget: false, maxValidityMs: 365 * DAY },
  core: {
    forbidden: [...RECORD_REVEALING],
    minCohortFloor: 100,
    requireBudget: true,
    maxValidityMs: 90 * DAY,
  },
};

/** Integer units of an epsilon, rounded up (a job's spend) or down (a budget). */
export function epsilonUnits(epsilon: number, round: 'up' | 'down'): number {
  const v = epsilon * 1e6;
  return round === 'up' ? Math.ceil(v - 1e-9) : Math.floor(v + 1e-9);
}

/** Integer units of a delta, rounded up or down. */
export function deltaUnits(delta: number, round: 'up' | 'down'): number {
  const v = delta * 1e15;
  return round === 'up' ? Math.ceil(v - 1e-6) : Math.floor(v + 1e-6);
}

function parsePrivacy(value: unknown, title: string): PrivacyAmount | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object')
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: expected { epsilon, delta }`);
  const v = value as Record<string, unknown>;
  const epsilon = anumber(v.epsilon, `${title}.epsilon`, 0, 1e6);
  const delta = anumber(v.delta ?? 0, `${title}.delta`, 0, 1);
  if (epsilon === 0)
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}.epsilon: must be positive`);
  return { epsilon, delta };
}

/** Checks a policy definition. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function parsePolicyDefinition(value: unknown): PolicyDefinition {
  if (typeof value !== 'object' || value === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'policy: expected an object');
  }
  const v = value as Record<string, unknown>;
  return {
    assetId: aname(v.assetId, 'policy.assetId'),
    consumer: akeyId(v.consumer, 'policy.consumer'),
    computations: acomputations(v.computations, 'policy.computations'),
    minCohort: aint(v.minCohort ?? 1, 'policy.minCohort', 1, 2 ** 40),
    budget: parsePrivacy(v.budget, 'policy.budget'),
    maxEpsilonPerJob:
      v.maxEpsilonPerJob == null
        ? null
        : anumber(v.maxEpsilonPerJob, 'policy.maxEpsilonPerJob', 1e-6, 1e6),
    quota: v.quota == null ? null : aint(v.quota, 'policy.quota', 0, 2 ** 40),
    expiresAt: aint(v.expiresAt, 'policy.expiresAt', 0),
  };
}

/** Checks a job request. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function parseJobRequest(value: unknown): JobRequest {
  if (typeof value !== 'object' || value === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'job: expected an object');
  }
  const v = value as Record<string, unknown>;
  const [computation] = acomputations([v.computation], 'job.computation');
  if (!Array.isArray(v.assets) || v.assets.length === 0 || v.assets.length > 16) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'job.assets: expected 1 to 16 asset ids');
  }
  const assets = v.assets.map((a, i) => aname(a, `job.assets[${i}]`));
  if (new Set(assets).size !== assets.length)
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'job.assets: duplicate asset');
  const params = v.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'job.params: expected an object');
  }
  return {
    computation: computation!,
    assets,
    params: params as Record<string, unknown>,
    cohort: aint(v.cohort, 'job.cohort', 0, 2 ** 40),
    privacy: parsePrivacy(v.privacy, 'job.privacy'),
  };
}

function denied(
  reason: string,
  message: string,
  details: Record<string, unknown> = {},
): UnseenError {
  return new UnseenError('ERR_POLICY_DENIED', message, { details: { reason, ...details } });
}

/**
 * Checks a policy against its asset's classification floors.
 * @throws UnseenError `ERR_POLICY_DENIED` with `details.reason = 'classification'`
 */
export function checkClassification(
  policy: PolicyDefinition,
  asset: Asset,
  rules: Readonly<Record<Classification, ClassificationRule>>,
  createdAt: number,
): void {
  const rule = rules[asset.classification];
  const bad = (what: string) =>
    denied('classification', `${asset.classification} data: ${what}`, {
      classification: asset.classification,
    });
  const forbidden = policy.computations.filter((c) => rule.forbidden.includes(c));
  if (forbidden.length > 0) throw bad(`${forbidden.join(', ')} may not be allowed`);
  if (policy.minCohort < rule.minCohortFloor)
    throw bad(`minCohort must be at least ${rule.minCohortFloor}`);
  if (rule.requireBudget && policy.budget === null) throw bad('a privacy budget is required');
  if (rule.maxValidityMs !== null && policy.expiresAt - createdAt > rule.maxValidityMs) {
    throw bad(`a policy may last at most ${rule.maxValidityMs / DAY} days`);
  }
}

/** What admitting a job spends on one policy. */
export interface Spend {
  policyId: string;
  epsilonMicros: number;
  deltaFemtos: number;
}

/**
 * The rule that no training step uses fewer records than the minimum cohort: `samplingRate *
 * rows` records are sampled per local step (Poisson with noise, a fixed-size batch without), and
 * that must reach `minCohort`. Checked at admission with the committed row count and by every
 * provider with its own.
 * @throws UnseenError `ERR_POLICY_DENIED` with `details.reason = 'batch-below-cohort'`
 */
export function checkTrainingBatch(
  samplingRate: number,
  rows: number,
  minCohort: number,
  at: Record<string, unknown> = {},
): void {
  const expected = samplingRate * rows;
  if (!(expected * (1 + 1e-12) >= minCohort)) {
    const need = Math.min(1, minCohort / rows);
    throw denied(
      'batch-below-cohort',
      `federated.train: sampling rate ${samplingRate} over ${rows} records gives ${expected} records per local step, below the minimum cohort ${minCohort}${rows >= minCohort ? ` (it needs a sampling rate of at least ${need})` : ''}`,
      { ...at, minCohort, expectedBatch: expected },
    );
  }
}

/**
 * Decides whether `request` may run on `asset` under `policy` given `usage`, at time `now`.
 * Checks in this order: a policy exists and is live, the asset offers the computation, the
 * policy allows it, the cohort, the per-job privacy limit, the quota, the budget.
 * @returns the spend to record if admitted
 * @throws UnseenError `ERR_POLICY_DENIED` (with `details.reason`), `ERR_QUOTA_EXCEEDED`,
 *   `ERR_BUDGET_EXHAUSTED`
 */
export function decide(
  request: JobRequest,
  asset: Asset,
  policy: Policy | undefined,
  usage: PolicyUsage,
  now: number,
  rules: Readonly<Record<Classification, ClassificationRule>> = DEFAULT_CLASSIFICATION_RULES,
): Spend {
  const at = { assetId: asset.id };
  if (policy === undefined)
    throw denied('no-policy', `no policy lets this consumer use asset ${asset.id}`, at);
  if (policy.revoked) throw denied('revoked', `the policy on asset ${asset.id} was revoked`, at);
  if (now >= policy.expiresAt)
    throw denied('expired', `the policy on asset ${asset.id} expired`, at);
  if (!asset.computations.includes(request.computation)) {
    throw denied('not-offered', `asset ${asset.id} does not offer ${request.computation}`, at);
  }
  if (!policy.computations.includes(request.computation)) {
    throw denied(
      'computation-not-allowed',
      `the policy on asset ${asset.id} does not allow ${request.computation}`,
      at,
    );
  }
  checkClassification(policy, asset, rules, policy.createdAt);
  // The consumer's declared cohort is its own input size, which only PSI has (its query set):
  // a small query set would single out individuals. Aggregates and training check their
  // cohort (records, clients) where the data is, against the ticket's minCohort.
  if (familyOf(request.computation) === 'psi' && request.cohort < policy.minCohort) {
    throw denied(
      'cohort-below-minimum',
      `cohort ${request.cohort} is below the minimum ${policy.minCohort}`,
      {
        ...at,
        minCohort: policy.minCohort,
      },
    );
  }
  // Training: the rows the asset committed to tell how many records a local step samples;
  // refused here so that a job every provider would refuse spends no quota. Per asset, which is
  // stricter than the providers' check over all their assets in the job. (Malformed params are
  // the validator's; every provider checks again with its own count.)
  const rate = request.params.samplingRate;
  if (request.computation === 'federated.train' && typeof rate === 'number' && rate > 0) {
    checkTrainingBatch(rate, asset.commitment.rows, policy.minCohort, at);
  }
  let epsilonMicros = 0;
  let deltaFemtos = 0;
  // A budget or a per-job maximum (each alone, or both) makes the job state its privacy; the
  // maximum holds with or without a budget.
  if (policy.budget !== null || policy.maxEpsilonPerJob !== null) {
    if (request.privacy === null) {
      throw denied(
        'privacy-required',
        policy.budget !== null
          ? `asset ${asset.id} is privacy-budgeted: the job must state epsilon`
          : `asset ${asset.id} limits epsilon per job: the job must state epsilon`,
        at,
      );
    }
    epsilonMicros = epsilonUnits(request.privacy.epsilon, 'up');
    deltaFemtos = deltaUnits(request.privacy.delta, 'up');
    if (
      policy.maxEpsilonPerJob !== null &&
      epsilonMicros > epsilonUnits(policy.maxEpsilonPerJob, 'down')
    ) {
      throw denied(
        'epsilon-above-job-maximum',
        `epsilon ${request.privacy.epsilon} exceeds the per-job maximum ${policy.maxEpsilonPerJob}`,
        at,
      );
    }
  }
  if (policy.quota !== null && usage.jobs + 1 > policy.quota) {
    throw new UnseenError(
      'ERR_QUOTA_EXCEEDED',
      `the query quota of ${policy.quota} jobs on asset ${asset.id} is used up`,
      {
        details: { ...at, quota: policy.quota, used: usage.jobs },
      },
    );
  }
  if (policy.budget !== null) {
    const eLeft = epsilonUnits(policy.budget.epsilon, 'down') - usage.epsilonMicros;
    const dLeft = deltaUnits(policy.budget.delta, 'down') - usage.deltaFemtos;
    if (epsilonMicros > eLeft || deltaFemtos > dLeft) {
      throw new UnseenError(
        'ERR_BUDGET_EXHAUSTED',
        `the privacy budget on asset ${asset.id} cannot cover this job`,
        {
          details: {
            ...at,
            epsilonLeft: Math.max(0, eLeft) / 1e6,
            deltaLeft: Math.max(0, dLeft) / 1e15,
          },
        },
      );
    }
  }
  return { policyId: policy.id, epsilonMicros, deltaFemtos };
}
