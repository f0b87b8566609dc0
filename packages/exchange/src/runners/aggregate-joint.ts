/**
 * Aggregates over several providers, where the consumer learns only the total: each provider
 * turns its own assets into a small integer vector (its noisy sum and/or count), and the
 * vectors are added without anyone seeing one of them, by either
 *
 * - `secure-aggregation` (default): the consumer runs the server of @unseen/secure-aggregation
 *   (Bonawitz et al., CCS 2017) and the providers its clients, over the relay; each provider
 *   masks its vector in Z_2^64 and the consumer unmasks only the sum; or
 * - `homomorphic`: the consumer holds a BFV key (@unseen/homomorphic, SEAL tc128); every
 *   provider encrypts its vector under it; the first provider (by key id) adds the ciphertexts,
 *   holding no key, and hands the consumer only the encrypted sum, which it decrypts.
 *
 * The exchange relays signed frames it cannot read in both cases (see `relay-frame.ts`).
 *
 * Differential privacy: when the job spends epsilon, every provider adds discrete Laplace noise
 * for the full epsilon to its own contribution (Canonne, Kamath, Steinke 2020), so its records
 * are protected by its own noise whatever the other providers do, even if they collude with the
 * consumer; the total carries the sum of the providers' noises (variance times the number of
 * providers). Each asset's budget is charged the job's epsilon once.
 *
 * Cohort: every asset must hold at least the ticket's minimum cohort, checked by its provider
 * before anything is computed; a refusal aborts the job for everyone.
 *
 * Bounds: a provider's component is at most `rows * max(|lower|, |upper|) * 10^decimals` (or
 * `rows` for a count) plus 64 noise scales (a tail of probability e^-64 beyond which the noisy
 * value is clamped, a post-processing of the DP release); the consumer refuses totals outside
 * the sum of the bounds, and the total must stay below 2^53.
 * @module
 */
import { UnseenError } from '@unseen/core';
import {
  Aggregator,
  createKeyHolder,
  describeParams,
  encryptContribution,
} from '@unseen/homomorphic';
import { runSecAggClient, runSecAggServer } from '@unseen/secure-aggregation';
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
import type { JobTicket } from '../ticket.js';
import {
  type AggregateParams,
  type AggregateResult,
  aggregateValues,
  clippedSum,
  parseAggregateParams,
  runLocalAggregateConsumer,
  runLocalAggregateProvider,
  sumSensitivity,
  ticketProviders,
} from './aggregate.js';
import {
  awaitStart,
  orAbort,
  RUNNER_MSG,
  receiveRunnerMessage,
  sendAbort,
  sendRunnerMessage,
  startProviders,
} from './wire.js';

/** Per-round deadline of the secure aggregation (ms). */
const ROUND_TIMEOUT_MS = 30_000;
/** Noise scales kept below a component's bound: P[|Lap| > 64 b] = e^-64. */
const NOISE_SCALES = 64n;

/** Components of a contribution: [sum] for sum, [count] for count, [sum, count] for mean. */
function components(computation: Computation): ('sum' | 'count')[] {
  if (computation === 'aggregate.count') return ['count'];
  if (computation === 'aggregate.sum') return ['sum'];
  return ['sum', 'count'];
}

/** Epsilon (in 1e-6 units) each component spends, or null for exact releases. */
function componentMicros(t: JobTicket): number | null {
  if (t.privacy === null) return null;
  const micros = epsilonUnits(t.privacy.epsilon, 'down');
  const per = t.computation === 'aggregate.mean' ? Math.floor(micros / 2) : micros;
  if (per < 1)
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'epsilon is too small to release anything');
  return per;
}

/** Noise scale numerator over denominator, rounded up, times the tail factor. */
function noiseMargin(sensitivity: number, micros: number | null): bigint {
  if (micros === null) return 0n;
  const scale = (BigInt(sensitivity) * 1_000_000n + BigInt(micros) - 1n) / BigInt(micros);
  return scale * NOISE_SCALES + 1n;
}

/** The bound of each component of one provider's contribution over `rows` records. */
export function contributionBounds(t: JobTicket, p: AggregateParams, rows: number): bigint[] {
  const micros = componentMicros(t);
  const s = sumSensitivity(p);
  return components(t.computation).map((c) =>
    c === 'count'
      ? BigInt(rows) + noiseMargin(1, micros)
      : BigInt(rows) * BigInt(s) + noiseMargin(s, micros),
  );
}

/** Records of `provider` in the ticket (from the asset commitments). */
function rowsOf(t: JobTicket, provider: string): number {
  return t.assets.filter((a) => a.provider === provider).reduce((n, a) => n + a.rows, 0);
}

/** Bounds of the total: the providers' bounds added, checked against 2^53. */
function totalBounds(t: JobTicket, p: AggregateParams): bigint[] {
  const out = components(t.computation).map(() => 0n);
  for (const provider of ticketProviders(t)) {
    contributionBounds(t, p, rowsOf(t, provider)).forEach((b, i) => {
      out[i] = out[i]! + b;
    });
  }
  if (out.some((b) => b >= 2n ** 53n)) {
    throw new UnseenError(
      'ERR_OVERFLOW',
      'the aggregate could exceed 2^53: fewer decimals, a narrower range or fewer records',
    );
  }
  return out;
}

/** One provider's contribution: its noisy components, clamped to their bounds. */
export function jointContribution(
  t: JobTicket,
  p: AggregateParams,
  values: readonly number[],
): bigint[] {
  const micros = componentMicros(t);
  const bounds = contributionBounds(t, p, values.length);
  const exact = { sum: clippedSum(values, p), count: values.length };
  return components(t.computation).map((c, i) => {
    const noise =
      micros === null ? 0 : discreteLaplaceNoise(c === 'count' ? 1 : sumSensitivity(p), micros);
    const v = BigInt(exact[c]) + BigInt(noise);
    const b = bounds[i]!;
    return v > b ? b : v < -b ? -b : v;
  });
}

/** Signed 64-bit integers as Z_2^64 ring words (low, high). */
export function toRing64(values: readonly bigint[]): Uint32Array {
  const out = new Uint32Array(2 * values.length);
  values.forEach((v, i) => {
    const u = BigInt.asUintN(64, v);
    out[2 * i] = Number(u & 0xffffffffn);
    out[2 * i + 1] = Number(u >> 32n);
  });
  return out;
}

/** Z_2^64 ring words (low, high) as signed 64-bit integers. */
export function fromRing64(words: Uint32Array): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i + 1 < words.length; i += 2) {
    out.push(BigInt.asIntN(64, (BigInt(words[i + 1]!) << 32n) | BigInt(words[i]!)));
  }
  return out;
}

/** The released value from the totals. */
function releaseJoint(
  t: JobTicket,
  p: AggregateParams,
  totals: readonly bigint[],
  providers: number,
): AggregateResult {
  const bounds = totalBounds(t, p);
  totals.forEach((v, i) => {
    const b = bounds[i]!;
    if (v > b || v < -b) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        'the aggregate is outside what the providers can contribute: a contribution was malformed',
      );
    }
  });
  const scale = 10 ** p.decimals;
  const [first, second] = totals.map(Number) as [number, number | undefined];
  let value: number;
  if (t.computation === 'aggregate.count') value = first;
  else if (t.computation === 'aggregate.sum') value = first / scale;
  else value = Math.min(p.upper, Math.max(p.lower, first / scale / Math.max(1, second ?? 0)));
  const micros = componentMicros(t);
  return {
    computation: t.computation,
    value,
    noise:
      micros === null
        ? { mechanism: 'none' }
        : {
            mechanism: 'discrete-laplace',
            epsilon: epsilonUnits(t.privacy!.epsilon, 'down') / 1e6,
          },
    protocol: p.protocol,
    providers,
  };
}

// --- provider side ---------------------------------------------------------------------

async function runJointProvider(ctx: ProviderRunContext): Promise<{ records: number }> {
  const t = ctx.ticket;
  const p = parseAggregateParams(t.computation, t.params);
  const providers = ticketProviders(t);
  const me = ctx.identity.keyId;
  const consumer = ctx.channel(t.consumer);
  await awaitStart(ctx, consumer);
  const contribution = await orAbort(consumer, t.jobId, async () => {
    const values = aggregateValues(ctx.assets, p, t.minCohort);
    if (values.length !== rowsOf(t, me)) {
      throw new UnseenError(
        'ERR_INTEGRITY',
        'the assets hold another number of rows than committed',
      );
    }
    totalBounds(t, p);
    return { vector: jointContribution(t, p, values), records: values.length };
  });
  await sendRunnerMessage(consumer, t.jobId, RUNNER_MSG.READY);
  const go = await receiveRunnerMessage(ctx, consumer, [RUNNER_MSG.GO], 'consumer', 1 << 20);
  ctx.progress({ phase: p.protocol, done: 0, total: providers.length });
  if (p.protocol === 'secure-aggregation') {
    await runSecAggClient(consumer, {
      input: toRing64(contribution.vector),
      expect: { clients: providers.length, length: contribution.vector.length, bits: 64 },
      roundTimeoutMs: ROUND_TIMEOUT_MS,
      signal: ctx.signal,
    });
  } else {
    await homomorphicProvider(ctx, providers, go.body, contribution.vector, p);
  }
  ctx.progress({ phase: p.protocol, done: providers.length, total: providers.length });
  return { records: contribution.records };
}

/**
 * BFV: encrypt the contribution under the consumer's key; the first provider adds every
 * provider's ciphertext and sends the consumer the sum.
 */
async function homomorphicProvider(
  ctx: ProviderRunContext,
  providers: readonly string[],
  publicParams: Uint8Array,
  vector: readonly bigint[],
  p: AggregateParams,
): Promise<void> {
  const t = ctx.ticket;
  const consumer = ctx.channel(t.consumer);
  const aggregator = providers[0]!;
  const isAggregator = ctx.identity.keyId === aggregator;
  // A provider that fails tells the consumer and the aggregating provider, so that no one waits.
  const tell = async (e: unknown): Promise<never> => {
    await sendAbort(consumer, t.jobId, e);
    if (!isAggregator) await sendAbort(ctx.channel(aggregator), t.jobId, e);
    throw e;
  };
  const info = describeParams(publicParams);
  const mine = contributionBounds(t, p, rowsOf(t, ctx.identity.keyId));
  if (
    info.scheme !== 'bfv' ||
    info.length !== vector.length ||
    info.maxContributions < providers.length ||
    mine.some((b) => b > BigInt(info.valueBound))
  ) {
    return tell(
      new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        'the consumer’s BFV parameters do not fit this aggregate',
      ),
    );
  }
  const encrypted = await encryptContribution(publicParams, BigInt64Array.from(vector), {
    pool: null,
  }).catch(tell);
  if (!isAggregator) {
    await sendRunnerMessage(ctx.channel(aggregator), t.jobId, RUNNER_MSG.CONTRIBUTION, encrypted);
    return;
  }
  const sum = await Aggregator.create(publicParams, {
    minContributions: providers.length,
    maxContributions: providers.length,
  });
  sum.add(encrypted);
  await Promise.all(
    providers
      .filter((k) => k !== aggregator)
      .map(async (k) => {
        const m = await receiveRunnerMessage(
          ctx,
          ctx.channel(k),
          [RUNNER_MSG.CONTRIBUTION],
          'provider',
          info.contributionBytes,
        );
        sum.add(m.body);
      }),
  ).catch(tell);
  await sendRunnerMessage(consumer, t.jobId, RUNNER_MSG.SUM, sum.result());
}

// --- consumer side ---------------------------------------------------------------------

async function runJointConsumer(ctx: ConsumerRunContext): Promise<ConsumerOutcome> {
  const t = ctx.ticket;
  const p = parseAggregateParams(t.computation, t.params);
  const providers = ticketProviders(t);
  const bounds = totalBounds(t, p);
  const channels = providers.map((k) => ctx.channel(k));
  ctx.progress({ phase: 'handshake', done: 0, total: providers.length });
  await startProviders(ctx, channels);
  let totals: bigint[];
  if (p.protocol === 'secure-aggregation') {
    await Promise.all(channels.map((c) => sendRunnerMessage(c, t.jobId, RUNNER_MSG.GO)));
    ctx.progress({ phase: 'secure aggregation', done: 0, total: providers.length });
    const r = await runSecAggServer(channels, {
      length: bounds.length,
      bits: 64,
      roundTimeoutMs: ROUND_TIMEOUT_MS,
      signal: ctx.signal,
    });
    if (r.survivors.length !== providers.length) {
      throw new UnseenError(
        'ERR_PROTOCOL_ABORTED',
        `${providers.length - r.survivors.length} providers dropped out of the secure aggregation`,
      );
    }
    totals = fromRing64(r.sum);
  } else {
    ctx.progress({ phase: 'homomorphic: key generation' });
    let maxPerProvider = 1n;
    for (const k of providers) {
      for (const b of contributionBounds(t, p, rowsOf(t, k)))
        if (b > maxPerProvider) maxPerProvider = b;
    }
    const holder = await createKeyHolder({
      scheme: 'bfv',
      length: bounds.length,
      maxContributions: providers.length,
      valueBound: maxPerProvider,
      minContributions: providers.length,
      // The count in the sum is the aggregating provider's claim: semi-honest, as all parties.
      trustAggregatorCount: true,
    });
    try {
      await Promise.all(
        channels.map((c) => sendRunnerMessage(c, t.jobId, RUNNER_MSG.GO, holder.publicParams)),
      );
      ctx.progress({ phase: 'homomorphic: waiting for the encrypted sum' });
      const m = await receiveRunnerMessage(
        ctx,
        channels[0]!,
        [RUNNER_MSG.SUM],
        'provider',
        holder.info.contributionBytes,
      );
      totals = Array.from(await holder.decrypt(m.body));
    } finally {
      holder.dispose();
    }
  }
  ctx.progress({ phase: 'done', done: providers.length, total: providers.length });
  const result = releaseJoint(t, p, totals, providers.length);
  return { result, resultBytes: canonicalBytes(result) };
}

/**
 * The aggregate runner: aggregate.count, aggregate.sum and aggregate.mean over the assets of
 * one provider (released by the provider, as {@link localAggregateRunner}) or of several
 * (secure aggregation or homomorphic encryption, `params.protocol`).
 */
export const aggregateRunner: JobRunner = {
  computations: ['aggregate.count', 'aggregate.sum', 'aggregate.mean'],

  validateParams(computation, params) {
    parseAggregateParams(computation, params);
  },

  runProvider(ctx: ProviderRunContext) {
    return ticketProviders(ctx.ticket).length === 1
      ? runLocalAggregateProvider(ctx)
      : runJointProvider(ctx);
  },

  runConsumer(ctx: ConsumerRunContext) {
    return ticketProviders(ctx.ticket).length === 1
      ? runLocalAggregateConsumer(ctx)
      : runJointConsumer(ctx);
  },
};
