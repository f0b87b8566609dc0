/**
 * The aggregate runner for one provider: count, sum and mean over one asset, computed where
 * the data lives and released to the consumer, with differential privacy when the job spends
 * a budget. The provider adds exact discrete Laplace noise (see `dp.ts`) calibrated to the
 * query's sensitivity and the job's epsilon; the consumer learns only the released value.
 *
 * Sensitivities (add/remove one record): count 1; sum max(|lower|, |upper|) scaled to the
 * integer grid of `decimals`; mean spends epsilon/2 on a noisy sum and epsilon/2 on a noisy
 * count (basic composition). Jobs over several providers need secure aggregation or
 * homomorphic encryption, so that no provider's own aggregate is revealed; they are refused
 * here with `ERR_UNSUPPORTED` until those runners are installed.
 *
 * Wire: `encodeMessage` envelopes with the job id as session. Consumer -> provider: START
 * (body: the ticket hash). Provider -> consumer: RESULT (canonical JSON) or ABORT (JSON error).
 * @module
 */
import {
  aint,
  anumber,
  bytesToHex,
  bytesToUtf8,
  decodeMessage,
  encodeMessage,
  hexToBytes,
  UnseenError,
  utf8ToBytes,
} from '@unseen/core';
import { canonicalBytes } from '../canonical.js';
import type { Computation } from '../computations.js';
import { discreteLaplaceNoise } from '../dp.js';
import { epsilonUnits } from '../policy.js';
import type {
  ConsumerOutcome,
  ConsumerRunContext,
  JobRunner,
  ProviderRunContext,
} from '../runner.js';
import { ticketHash } from '../ticket.js';

const VERSION = 1;
const START = 1;
const RESULT = 2;
const ABORT = 3;

/** What an aggregate job releases. */
export interface AggregateResult {
  computation: Computation;
  value: number;
  /** `discrete-laplace` with the epsilon used, or `none` for an exact release. */
  noise: { mechanism: 'discrete-laplace'; epsilon: number } | { mechanism: 'none' };
}

interface Params {
  column?: string;
  lower: number;
  upper: number;
  decimals: number;
}

function parseParams(computation: Computation, params: Record<string, unknown>): Params {
  if (computation === 'aggregate.count') return { lower: 0, upper: 0, decimals: 0 };
  const column = params.column;
  if (typeof column !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(column)) {
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
  return { column, lower, upper, decimals };
}

function session(jobId: string): Uint8Array {
  return hexToBytes(jobId);
}

/** The provider's release: exact, or with discrete Laplace noise for the job's epsilon. */
export function releaseAggregate(
  computation: Computation,
  values: readonly number[],
  p: Params,
  epsilon: number | null,
): AggregateResult {
  const scale = 10 ** p.decimals;
  const clip = (v: number) => Math.round(Math.min(p.upper, Math.max(p.lower, v)) * scale);
  const n = values.length;
  const sum = () => values.reduce((s, v) => s + clip(v), 0);
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
  const sensitivity = Math.max(
    1,
    Math.ceil(Math.max(Math.abs(p.lower), Math.abs(p.upper)) * scale),
  );
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

/** The single-provider aggregate runner (aggregate.count, aggregate.sum, aggregate.mean). */
export const localAggregateRunner: JobRunner = {
  computations: ['aggregate.count', 'aggregate.sum', 'aggregate.mean'],

  validateParams(computation, params) {
    parseParams(computation, params);
  },

  async runProvider(ctx: ProviderRunContext) {
    const t = ctx.ticket;
    const p = parseParams(t.computation, t.params);
    const consumer = ctx.channel(t.consumer);
    const start = decodeMessage(await consumer.receive({ signal: ctx.signal }), {
      version: VERSION,
      type: START,
      session: session(t.jobId),
      maxBody: 32,
    });
    const abort = async (e: UnseenError): Promise<never> => {
      await consumer.send(
        encodeMessage({
          version: VERSION,
          type: ABORT,
          session: session(t.jobId),
          body: utf8ToBytes(JSON.stringify(e.toJSON())),
        }),
      );
      throw e;
    };
    if (bytesToHex(start.body) !== ticketHash(t)) {
      return abort(new UnseenError('ERR_PARAMETER_MISMATCH', 'the consumer runs another ticket'));
    }
    if (t.assets.length !== 1 || ctx.assets.length !== 1) {
      return abort(
        new UnseenError(
          'ERR_UNSUPPORTED',
          'aggregates over several assets need the secure-aggregation runner',
        ),
      );
    }
    const asset = ctx.assets[0]!;
    let values: number[] = [];
    if (p.column !== undefined) {
      const i = asset.schema.findIndex((f) => f.name === p.column);
      const field = asset.schema[i];
      if (field === undefined || (field.type !== 'integer' && field.type !== 'number')) {
        return abort(
          new UnseenError(
            'ERR_INVALID_ARGUMENT',
            `asset ${asset.id} has no numeric column ${p.column}`,
          ),
        );
      }
      values = asset.rows.map((r) => r[i] as number);
    } else values = asset.rows.map(() => 0);
    if (values.length < t.minCohort) {
      return abort(
        new UnseenError(
          'ERR_POLICY_DENIED',
          `the asset has fewer records than the minimum cohort ${t.minCohort}`,
          {
            details: { reason: 'cohort-below-minimum' },
          },
        ),
      );
    }
    ctx.progress({ phase: 'aggregate', done: 0, total: values.length });
    const result = releaseAggregate(t.computation, values, p, t.privacy?.epsilon ?? null);
    ctx.progress({ phase: 'aggregate', done: values.length, total: values.length });
    await consumer.send(
      encodeMessage({
        version: VERSION,
        type: RESULT,
        session: session(t.jobId),
        body: canonicalBytes(result),
      }),
    );
    return { records: values.length };
  },

  async runConsumer(ctx: ConsumerRunContext): Promise<ConsumerOutcome> {
    const t = ctx.ticket;
    parseParams(t.computation, t.params);
    const providers = [...new Set(t.assets.map((a) => a.provider))];
    if (providers.length !== 1 || t.assets.length !== 1) {
      throw new UnseenError(
        'ERR_UNSUPPORTED',
        'aggregates over several assets need the secure-aggregation runner',
      );
    }
    const provider = ctx.channel(providers[0]!);
    await provider.send(
      encodeMessage({
        version: VERSION,
        type: START,
        session: session(t.jobId),
        body: hexToBytes(ticketHash(t)),
      }),
    );
    ctx.progress({ phase: 'waiting for the provider' });
    const msg = decodeMessage(await provider.receive({ signal: ctx.signal }), {
      version: VERSION,
      type: [RESULT, ABORT],
      session: session(t.jobId),
      maxBody: 4096,
    });
    const body = JSON.parse(bytesToUtf8(msg.body)) as Record<string, unknown>;
    if (msg.type === ABORT) {
      const code = typeof body.code === 'string' ? body.code : 'ERR_PROTOCOL_ABORTED';
      throw new UnseenError(
        'ERR_PROTOCOL_ABORTED',
        `the provider aborted: ${code}: ${String(body.message)}`,
        {
          details: { providerCode: code },
        },
      );
    }
    if (
      body.computation !== t.computation ||
      typeof body.value !== 'number' ||
      !Number.isFinite(body.value)
    ) {
      throw new UnseenError('ERR_MALFORMED_MESSAGE', 'aggregate result does not match the job');
    }
    return { result: body, resultBytes: canonicalBytes(body) };
  },
};
