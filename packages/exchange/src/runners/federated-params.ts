/**
 * The parameters of a federated.train job: what is trained on which columns, how each provider
 * trains (DP-SGD), and the privacy that costs ({@link federatedPrivacy}, the epsilon a job must
 * state). Checked by the exchange before admission and by every party before it runs.
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import {
  createDataset,
  type Dataset,
  type DifferentiableModel,
  mlp,
  softmaxRegression,
} from '@unseen/federated';
import { checkTrainingBatch, epsilonUnits, type PrivacyAmount } from '../policy.js';
import { assertCohort, assetColumn, type LocalAsset } from '../runner.js';
import type { PrivacyStatement } from '../ticket.js';
import { dpSgdPrivacy } from './dp-sgd.js';

export interface FederatedParams {
  features: { column: string; lower: number; upper: number }[];
  label: { column: string; classes: number };
  model: 'softmax' | 'mlp';
  /** Hidden units of the MLP (0 for softmax). */
  hidden: number;
  rounds: number;
  /** DP-SGD steps each provider takes per round. */
  localSteps: number;
  samplingRate: number;
  learningRate: number;
  clipNorm: number;
  noiseMultiplier: number;
  /** Update values are clipped to [-updateClip, updateClip] for the fixed-point secure sum. */
  updateClip: number;
  /** Seed of the initial model (public). */
  seed: number;
}

const COLUMN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

function column(v: unknown, title: string): string {
  if (typeof v !== 'string' || !COLUMN.test(v))
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${title}: expected a column name`);
  return v;
}

/** Checks the parameters of a federated.train job. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function parseFederatedParams(params: Record<string, unknown>): FederatedParams {
  const f = params.features;
  if (!Array.isArray(f) || f.length === 0 || f.length > 256) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'params.features: expected 1 to 256 features');
  }
  const features = f.map((x, i) => {
    const v = (x ?? {}) as Record<string, unknown>;
    const lower = anumber(v.lower, `params.features[${i}].lower`, -1e12, 1e12);
    const upper = anumber(v.upper, `params.features[${i}].upper`, -1e12, 1e12);
    if (!(lower < upper))
      throw new UnseenError('ERR_INVALID_ARGUMENT', `params.features[${i}]: lower < upper`);
    return { column: column(v.column, `params.features[${i}].column`), lower, upper };
  });
  const l = (params.label ?? {}) as Record<string, unknown>;
  const label = {
    column: column(l.column, 'params.label.column'),
    classes: aint(l.classes ?? 2, 'params.label.classes', 2, 1000),
  };
  const model = params.model ?? 'softmax';
  if (model !== 'softmax' && model !== 'mlp')
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'params.model: softmax or mlp');
  return {
    features,
    label,
    model,
    hidden: model === 'mlp' ? aint(params.hidden ?? 16, 'params.hidden', 1, 1024) : 0,
    rounds: aint(params.rounds, 'params.rounds', 1, 1000),
    localSteps: aint(params.localSteps ?? 10, 'params.localSteps', 1, 10_000),
    samplingRate: anumber(params.samplingRate ?? 0.1, 'params.samplingRate', 1e-6, 1),
    learningRate: anumber(params.learningRate ?? 0.5, 'params.learningRate', 0, 100),
    clipNorm: anumber(params.clipNorm ?? 1, 'params.clipNorm', 1e-6, 1e6),
    noiseMultiplier: anumber(params.noiseMultiplier ?? 1, 'params.noiseMultiplier', 0, 1e6),
    updateClip: anumber(params.updateClip ?? 4, 'params.updateClip', 1e-6, 1e6),
    seed: aint(params.seed ?? 0, 'params.seed', 0, 2 ** 32 - 1),
  };
}

/**
 * The privacy a federated.train job spends on each provider's records at `delta`: the RDP
 * accounting of all its DP-SGD steps, with epsilon rounded up to the exchange's unit (1e-6).
 * A consumer requests this amount; admission and the providers check it.
 * @example
 * ```ts
 * const { epsilon } = federatedPrivacy(params, 1e-5);
 * await client.requestJob({ computation: 'federated.train', ..., privacy: { epsilon, delta: 1e-5 } });
 * ```
 */
export function federatedPrivacy(params: Record<string, unknown>, delta: number): PrivacyStatement {
  const p = parseFederatedParams(params);
  const steps = p.rounds * p.localSteps;
  const spent = dpSgdPrivacy(
    { steps, samplingRate: p.samplingRate, noiseMultiplier: p.noiseMultiplier },
    delta,
  );
  const epsilon = Number.isFinite(spent.epsilon)
    ? epsilonUnits(spent.epsilon, 'up') / 1e6
    : spent.epsilon;
  return {
    mechanism: 'dp-sgd',
    accountant: 'rdp',
    epsilon,
    delta,
    steps,
    samplingRate: p.samplingRate,
    noiseMultiplier: p.noiseMultiplier,
  };
}

/**
 * Checks that the job's privacy covers the training.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` with the epsilon the job needs
 */
export function checkFederatedPrivacy(
  p: Record<string, unknown>,
  privacy: PrivacyAmount | null,
): void {
  const q = parseFederatedParams(p);
  if (privacy === null) {
    if (q.noiseMultiplier !== 0) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'federated.train with noise must state its privacy (epsilon, delta)',
      );
    }
    return;
  }
  if (!(privacy.delta > 0)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'federated.train needs a privacy delta > 0');
  }
  const need = federatedPrivacy(p, privacy.delta).epsilon;
  if (!(epsilonUnits(privacy.epsilon, 'up') >= epsilonUnits(need, 'up'))) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `federated.train: ${q.rounds * q.localSteps} DP-SGD steps at sampling rate ${q.samplingRate} and noise multiplier ${q.noiseMultiplier} spend epsilon ${need} at delta ${privacy.delta}; the job states ${privacy.epsilon}`,
      { details: { epsilonNeeded: need } },
    );
  }
}

/**
 * The minimum cohort of a training job (the ticket's `minCohort`, the largest of its policies'):
 * every update a provider releases must be computed from at least that many of its records. A
 * DP-SGD step sums the clipped gradients of the records it samples; with few records per step
 * and no noise the update is (nearly) one record's gradient, from which a linear model gives the
 * record back exactly. So the expected records per local step, `samplingRate * rows` with `rows`
 * the provider's records in the job, must be at least `minCohort`; a job without noise further
 * trains on fixed-size batches of {@link federatedBatchSize} records (never fewer), a job with
 * noise on Poisson samples (whose size varies; its DP guarantee holds whatever the size).
 * Checked with the committed row counts by the consumer and with its own count by every
 * provider, before any record is read.
 * @throws UnseenError `ERR_POLICY_DENIED` with `details.reason = 'batch-below-cohort'`
 */
export function checkFederatedCohort(p: FederatedParams, rows: number, minCohort: number): void {
  checkTrainingBatch(p.samplingRate, rows, minCohort);
}

/**
 * The records each local step of a job without noise trains on: `ceil(samplingRate * rows)`,
 * at least `minCohort`, at most `rows` (call {@link checkFederatedCohort} first).
 */
export function federatedBatchSize(p: FederatedParams, rows: number, minCohort: number): number {
  return Math.min(rows, Math.max(minCohort, Math.ceil(p.samplingRate * rows * (1 - 1e-12))));
}

/** The model a job trains. */
export function federatedModel(p: FederatedParams): DifferentiableModel {
  const features = p.features.length;
  return p.model === 'mlp'
    ? mlp({ features, hidden: p.hidden, classes: p.label.classes })
    : softmaxRegression({ features, classes: p.label.classes });
}

/**
 * A provider's training set: the job's feature columns, clipped and scaled to [0, 1] by the
 * public bounds, and its label column.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` (missing column, bad label), `ERR_POLICY_DENIED`
 *   (`cohort-below-minimum`)
 */
export function localDataset(
  assets: readonly LocalAsset[],
  p: FederatedParams,
  minCohort: number,
): Dataset {
  const x: number[] = [];
  const y: number[] = [];
  for (const asset of assets) {
    assertCohort(asset, minCohort);
    const cols = p.features.map((f) => assetColumn(asset, f.column, ['integer', 'number']));
    const lab = assetColumn(asset, p.label.column, ['integer', 'boolean']);
    for (const row of asset.rows) {
      p.features.forEach((f, k) => {
        const v = row[cols[k]!] as number;
        x.push((Math.min(f.upper, Math.max(f.lower, v)) - f.lower) / (f.upper - f.lower));
      });
      const l = row[lab];
      const c = typeof l === 'boolean' ? (l ? 1 : 0) : (l as number);
      if (!Number.isInteger(c) || c < 0 || c >= p.label.classes) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `asset ${asset.id}: label ${String(l)} is not a class in [0, ${p.label.classes})`,
        );
      }
      y.push(c);
    }
  }
  return createDataset(Float32Array.from(x), y, p.features.length, p.label.classes);
}
