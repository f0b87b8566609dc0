/**
 * Aggregates (count, sum, mean) over one provider's assets, computed where the data lives and
 * released to the consumer, with differential privacy when the job spends a budget. The
 * provider adds exact discrete Laplace noise (see `dp.ts`) calibrated to the query's
 * sensitivity and the job's epsilon; the consumer learns only the released value. Jobs over
 * several providers run through `aggregate-joint.ts` (secure aggregation or homomorphic
 * encryption), so that no provider's own aggregate is revealed.
 *
 * Sensitivities (add/remove one record): count 1; sum max(|lower|, |upper|) scaled to the
 * integer grid of `decimals`; mean spends epsilon/2 on a noisy sum and epsilon/2 on a noisy
 * count (basic composition, Dwork & Roth Thm 3.16).
 *
 * Wire (see `wire.ts`): consumer -> provider START (the ticket hash); provider -> consumer
 * RESULT (canonical JSON) or ABORT.
 * @module
 */
import { aint, anumber, aoneOf, bytesToUtf8, hexToBytes, UnseenError } from '@unseen/core';
import { canonicalBytes } from '../canonical.js';
import type { Computation } from '../computations.js';
import { discreteLaplaceNoise } from '../dp.js';
import { epsilonUnits } from '../policy.js';
import {
  assertCohort,
  assetColumn,
  type ConsumerOutcome,
  type ConsumerRunContext,
  type JobRunner,
  type LocalAsset,
  type ProviderRunContext,
} from '../runner.js';
import { ticketHash } from '../ticket.js';
import {
  awaitStart,
  orAbort,
  RUNNER_MSG,
  receiveRunnerMessage,
  sendRunnerMessage,
} from './wire.js';

/** How several providers combine their aggregates without revealing them. */
export const AGGREGATE_PROTOCOLS = ['secure-aggregation', 'homomorphic'] as const;
export type AggregateProtocol = (typeof AGGREGATE_PROTOCOLS)[number];

/** What an aggregate job releases. */
export interface AggregateResult {
  computation: Computation;
  value: number;
  /**
   * `discrete-laplace` with the epsilon each provider's noise gives its own records, or `none`
   * for an exact release.
   */
  noise: { mechanism: 'discrete-laplace'; epsilon: number } | { mechanism: 'none' };
  /** Over several providers: how their contributions were combined, and how many there were. */
  protocol?: AggregateProtocol;
  providers?: number;
}

/** Checked parameters of an aggregate job. */
export interface AggregateParams {
  column?: string;
  lower: number;
  upper: number;
  decimals: number;
  /** For jobs over several providers (default `secure-aggregation`). */
  protocol: AggregateProtocol;
}

/** The column and range of an aggregate, without the protocol. */
export type AggregateRange = Omit<AggregateParams, 'protocol'>;

const COLUMN = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Checks the parameters of an aggregate job: `{ column, lower, upper, decimals?, protocol? }`
 * (count needs no column).
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function parseAggregateParams(
  computation: Computation,
  params: Record<string, unknown>,
): AggregateParams {
  const protocol = aoneOf(
    params.protocol ?? 'secure-aggregation',
    AGGREGATE_PROTOCOLS,
    'params.protocol',
  );
  if (computation === 'aggregate.count') return { lower: 0, upper: 0, decimals: 0, protocol };
  if (!computation.startsWith('aggregate.')) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${computation} is not an aggregate`);
  }
  const column = params.column;
  if (typeof column !== 'string' || !COLUMN.test(column)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${computation}: params.column must name a numeric column`,
    );
  }
  const lower = anumber(params.lower, 'params.lower', -1e9, 1e9);
  const upper = anumber(params.upper, 'params.upper', -1e9, 1e9);
  if (!(lower < upper))
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'params.lower must be below params.upper');
  const decimals = aint(params.decimals ?? 2, 'params.decimals', 0, 6);
  if (Math.max(Math.abs(lower), Math.abs(upper)) * 10 ** decimals > 2 ** 20) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'params: max(|lower|, |upper|) * 10^decimals must be at most 2^20',
    );
  }
  return { column, lower, upper, decimals, protocol };
}

/** The sensitivity of a sum on the integer grid: max(|lower|, |upper|) * 10^decimals, at least 1. */
export function sumSensitivity(p: AggregateRange): number {
  return Math.max(1, Math.ceil(Math.max(Math.abs(p.lower), Math.abs(p.upper)) * 10 ** p.decimals));
}

/**
 * The values an aggregate runs over: the column of each asset (zeros for a count), every asset
 * holding at least `minCohort` records.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` (no such numeric column), `ERR_POLICY_DENIED`
 *   (`cohort-below-minimum`)
 */
export function aggregateValues(
  assets: readonly LocalAsset[],
  p: AggregateRange,
  minCohort: number,
): number[] {
  const out: number[] = [];
  for (const asset of assets) {
    assertCohort(asset, minCohort);
    if (p.column === undefined) {
      for (let r = 0; r < asset.rows.length; r++) out.push(0);
      continue;
    }
    const i = assetColumn(asset, p.column, ['integer', 'number']);
    for (const row of asset.rows) out.push(row[i] as number);
  }
  return out;
}

/** Values clipped to [lower, upper] on the integer grid of `decimals`, summed. */
export function clippedSum(values: readonly number[], p: AggregateRange): number {
  const scale = 10 ** p.decimals;
  let s = 0;
  for (const v of values) s += Math.round(Math.min(p.upper, Math.max(p.lower, v)) * scale);
  return s;
}

/** The provider's release: exact, or with discrete Laplace noise for the job's epsilon. */
export function releaseAggregate(
  computation: Computation,
  values: readonly number[],
  p: AggregateRange,
  epsilon: number | null,
): AggregateResult {
  const scale = 10 ** p.decimals;
  const n = values.length;
  const sum = () => clippedSum(values, p);
  if (epsilon === null) {
    const value =
      computation === 'aggregate.count'
        ? n
        : computation === 'aggregate.sum'
          ? sum() / scale
          : n === 0
            ? 0
            : sum() / scale / n;
    return { computation, value, noise: { mechanism: 'none' } };
  }
  const micros = epsilonUnits(epsilon, 'down');
  if (micros < (computation === 'aggregate.mean' ? 2 : 1)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'epsilon is too small to release anything');
  }
  const sensitivity = sumSensitivity(p);
  let value: number;
  if (computation === 'aggregate.count') value = n + discreteLaplaceNoise(1, micros);
  else if (computation === 'aggregate.sum')
    value = (sum() + discreteLaplaceNoise(sensitivity, micros)) / scale;
  else {
    const half = Math.floor(micros / 2);
    const noisySum = (sum() + discreteLaplaceNoise(sensitivity, half)) / scale;
    const noisyCount = n + discreteLaplaceNoise(1, half);
    value = Math.min(p.upper, Math.max(p.lower, noisySum / Math.max(1, noisyCount)));
  }
  return { computation, value, noise: { mechanism: 'discrete-laplace', epsilon: micros / 1e6 } };
}

/** The distinct providers of a ticket, sorted. */
export function ticketProviders(ticket: { assets: readonly { provider: string }[] }): string[] {
  return [...new Set(ticket.assets.map((a) => a.provider))].sort();
}

/** The provider side of a one-provider aggregate. */
export async function runLocalAggregateProvider(
  ctx: ProviderRunContext,
): Promise<{ records: number }> {
  const t = ctx.ticket;
  const p = parseAggregateParams(t.computation, t.params);
  const consumer = ctx.channel(t.consumer);
  await awaitStart(ctx, consumer);
  const values = await orAbort(consumer, t.jobId, async () =>
    aggregateValues(ctx.assets, p, t.minCohort),
  );
  ctx.progress({ phase: 'aggregate', done: 0, total: values.length });
  const result = releaseAggregate(t.computation, values, p, t.privacy?.epsilon ?? null);
  ctx.progress({ phase: 'aggregate', done: values.length, total: values.length });
  await sendRunnerMessage(consumer, t.jobId, RUNNER_MSG.RESULT, canonicalBytes(result));
  return { records: values.length };
}

/** The consumer side of a one-provider aggregate. */
export async function runLocalAggregateConsumer(ctx: ConsumerRunContext): Promise<ConsumerOutcome> {
  const t = ctx.ticket;
  parseAggregateParams(t.computation, t.params);
  const providers = ticketProviders(t);
  if (providers.length !== 1) {
    throw new UnseenError(
      'ERR_UNSUPPORTED',
      'aggregates over several providers need the joint aggregate runner (aggregateRunner)',
    );
  }
  const provider = ctx.channel(providers[0]!);
  await sendRunnerMessage(provider, t.jobId, RUNNER_MSG.START, hexToBytes(ticketHash(t)));
  ctx.progress({ phase: 'waiting for the provider' });
  const msg = await receiveRunnerMessage(ctx, provider, [RUNNER_MSG.RESULT], 'provider', 4096);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(bytesToUtf8(msg.body)) as Record<string, unknown>;
  } catch {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'aggregate result is not JSON');
  }
  if (
    body.computation !== t.computation ||
    typeof body.value !== 'number' ||
    !Number.isFinite(body.value)
  ) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'aggregate result does not match the job');
  }
  return { result: body, resultBytes: canonicalBytes(body) };
}

/**
 * The single-provider aggregate runner (aggregate.count, aggregate.sum, aggregate.mean). Jobs
 * over several providers need {@link aggregateRunner} from `aggregate-joint.ts`, which also
 * runs single-provider jobs exactly like this one.
 */
export const localAggregateRunner: JobRunner = {
  computations: ['aggregate.count', 'aggregate.sum', 'aggregate.mean'],

  validateParams(computation, params) {
    parseAggregateParams(computation, params);
  },

  async runProvider(ctx: ProviderRunContext) {
    if (ticketProviders(ctx.ticket).length !== 1) {
      const consumer = ctx.channel(ctx.ticket.consumer);
      return orAbort(consumer, ctx.ticket.jobId, async () => {
        throw new UnseenError(
          'ERR_UNSUPPORTED',
          'aggregates over several providers need the joint aggregate runner (aggregateRunner)',
        );
      });
    }
    return runLocalAggregateProvider(ctx);
  },

  runConsumer: runLocalAggregateConsumer,
};
