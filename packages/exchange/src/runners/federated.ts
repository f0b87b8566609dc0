/**
 * The federated.train runner: the consumer coordinates FedAvg rounds (McMahan et al. 2017,
 * @unseen/federated) over providers that train on their own assets. Each round the providers
 * train locally with DP-SGD (`dp-sgd.ts`, record-level differential privacy from their own
 * noise) and the consumer learns only the example-weighted sum of their updates, through
 * secure aggregation (Bonawitz et al. 2017, @unseen/secure-aggregation); the exchange relays
 * signed frames it cannot read.
 *
 * Params: `{ features: [{ column, lower, upper }], label: { column, classes }, model?:
 * 'softmax' | 'mlp', hidden?, rounds, localSteps, samplingRate, learningRate, clipNorm,
 * noiseMultiplier, updateClip?, seed? }`. Features are clipped to [lower, upper] and scaled to
 * [0, 1] with these public bounds (no statistic of the data is used); labels are integers in
 * [0, classes) or booleans.
 *
 * Privacy: a job states (epsilon, delta); admission and every provider check that epsilon
 * covers the RDP accounting of `rounds * localSteps` DP-SGD steps at `samplingRate` and
 * `noiseMultiplier` at that delta ({@link federatedPrivacy}), and the provider refuses more
 * rounds than admitted. Each provider's report states what its noise gave its records; the
 * receipt carries it (`privacySpent`) and the consumer's per-round usage (`rounds`). A job
 * without privacy (a policy without budget) trains without noise only if `noiseMultiplier` is 0.
 *
 * Minimum cohort: no provider releases an update computed from fewer of its records than the
 * ticket's `minCohort` per local step ({@link checkFederatedCohort}): `samplingRate * rows` must
 * reach it, checked by the consumer on the committed row counts before it starts anyone and by
 * each provider on its own count before it reads a record (`ERR_POLICY_DENIED`,
 * `batch-below-cohort`); without noise every step trains on a fixed-size batch of at least
 * `minCohort` records instead of a Poisson sample.
 *
 * What each party learns: the consumer the model after each round (the sum of DP updates) and
 * the providers' total example count (their row counts are public in their commitments);
 * providers the global models; the exchange bytes and timings. Federated evaluation is refused
 * by providers (a loss on raw data is not DP).
 * @module
 */
import { type Channel, type ReceiveOptions, UnseenError } from '@unseen/core';
import {
  decodeFederated,
  FedAvgClient,
  FedAvgServer,
  MSG,
  Rng,
  runFedAvgClient,
  runFedAvgServer,
  secureAggregator,
  secureClientAggregator,
} from '@unseen/federated';
import { canonicalBytes } from '../canonical.js';
import type { Computation } from '../computations.js';
import type { PrivacyAmount } from '../policy.js';
import type {
  ConsumerOutcome,
  ConsumerRunContext,
  JobRunner,
  ProviderOutcome,
  ProviderRunContext,
} from '../runner.js';
import type { JobTicket, RoundUsage } from '../ticket.js';
import { ticketProviders } from './aggregate.js';
import { dpSgd, dpSgdPrivacy } from './dp-sgd.js';
import {
  checkFederatedCohort,
  checkFederatedPrivacy,
  type FederatedParams,
  federatedBatchSize,
  federatedModel,
  localDataset,
  parseFederatedParams,
} from './federated-params.js';
import {
  awaitStart,
  orAbort,
  RUNNER_MSG,
  receiveRunnerMessage,
  sendRunnerMessage,
  startProviders,
} from './wire.js';

/** What a federated.train job releases: the trained model and how each round went. */
export interface FederatedResult {
  computation: Computation;
  model: { kind: 'softmax' | 'mlp'; features: string[]; classes: number; hidden?: number };
  /** The global weights after the last round (float32 values). */
  weights: number[][];
  rounds: { round: number; contributors: number; totalWeight: number; clippedValues: number }[];
  privacy: PrivacyAmount | null;
}

const ROUND_TIMEOUT_MS = 60_000;

/**
 * The provider's view of the consumer's FedAvg messages: it trains at most the admitted rounds
 * and takes part in no evaluation; anything else stops it with `ERR_POLICY_DENIED`.
 */
function guardRounds(channel: Channel, rounds: number): { channel: Channel; trained(): number } {
  let fits = 0;
  const receive = async (options?: ReceiveOptions): Promise<Uint8Array> => {
    const bytes = await channel.receive(options);
    const { message } = decodeFederated(bytes);
    if (message.type === MSG.FIT_INS) {
      if (message.task.aggregation !== 'secure') {
        throw new UnseenError(
          'ERR_POLICY_DENIED',
          'the consumer asked for updates without secure aggregation',
          { details: { reason: 'aggregation-not-secure' } },
        );
      }
      if (++fits > rounds) {
        throw new UnseenError(
          'ERR_POLICY_DENIED',
          `the consumer asked for more than the ${rounds} rounds admitted`,
          { details: { reason: 'rounds-exceeded' } },
        );
      }
    } else if (message.type === MSG.EVALUATE_INS) {
      throw new UnseenError('ERR_POLICY_DENIED', 'federated evaluation is not part of the job', {
        details: { reason: 'evaluation-not-admitted' },
      });
    }
    return bytes;
  };
  return {
    channel: {
      send: (m) => channel.send(m),
      receive,
      close: () => channel.close(),
      get closed() {
        return channel.closed;
      },
      get bytesSent() {
        return channel.bytesSent;
      },
      get bytesReceived() {
        return channel.bytesReceived;
      },
    },
    trained: () => Math.min(fits, rounds),
  };
}

/** Checks the ticket's parameters, privacy and providers. */
function prepare(t: JobTicket): FederatedParams {
  const p = parseFederatedParams(t.params);
  checkFederatedPrivacy(t.params, t.privacy);
  if (ticketProviders(t).length < 2) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'federated.train needs two providers or more (secure aggregation)',
    );
  }
  return p;
}

/** A provider's committed records in the job. */
function committedRows(t: JobTicket, provider: string): number {
  return t.assets.filter((a) => a.provider === provider).reduce((n, a) => n + a.rows, 0);
}

async function runProvider(ctx: ProviderRunContext): Promise<ProviderOutcome> {
  const t = ctx.ticket;
  const consumer = ctx.channel(t.consumer);
  await awaitStart(ctx, consumer);
  const { p, data, model } = await orAbort(consumer, t.jobId, async () => {
    const p = prepare(t);
    // The records it would train on, counted before any is read.
    const rows = ctx.assets.reduce((n, a) => n + a.rows.length, 0);
    checkFederatedCohort(p, rows, t.minCohort);
    return { p, data: localDataset(ctx.assets, p, t.minCohort), model: federatedModel(p) };
  });
  // Without noise, fixed-size batches: no step sums fewer than the minimum cohort.
  const batchSize =
    p.noiseMultiplier === 0 ? federatedBatchSize(p, data.count, t.minCohort) : undefined;
  await sendRunnerMessage(consumer, t.jobId, RUNNER_MSG.READY);
  await receiveRunnerMessage(ctx, consumer, [RUNNER_MSG.GO], 'consumer', 0);
  const rng = Rng.crypto();
  const client = new FedAvgClient({
    shape: model.shape,
    aggregators: { secure: secureClientAggregator() },
    train: async (weights, _config, round) => {
      ctx.progress({ phase: 'training', done: round - 1, total: p.rounds });
      const trained = await dpSgd(
        model,
        weights,
        data,
        {
          steps: p.localSteps,
          samplingRate: p.samplingRate,
          learningRate: p.learningRate,
          clipNorm: p.clipNorm,
          noiseMultiplier: p.noiseMultiplier,
          ...(batchSize === undefined ? {} : { batchSize }),
        },
        rng,
      );
      // No metrics: a loss on the raw records would not be differentially private.
      return { weights: trained, numExamples: data.count };
    },
  });
  const guard = guardRounds(consumer, p.rounds);
  await runFedAvgClient(guard.channel, client, {
    idleTimeoutMs: ROUND_TIMEOUT_MS,
    signal: ctx.signal,
  });
  ctx.progress({ phase: 'training', done: guard.trained(), total: p.rounds });
  const outcome: ProviderOutcome = { records: data.count };
  if (t.privacy !== null) {
    const steps = guard.trained() * p.localSteps;
    const spent = dpSgdPrivacy(
      { steps, samplingRate: p.samplingRate, noiseMultiplier: p.noiseMultiplier },
      t.privacy.delta,
    );
    outcome.privacy = {
      mechanism: 'dp-sgd',
      accountant: 'rdp',
      epsilon: Number.isFinite(spent.epsilon) ? spent.epsilon : 0,
      delta: t.privacy.delta,
      steps,
      samplingRate: p.samplingRate,
      noiseMultiplier: p.noiseMultiplier,
    };
  }
  return outcome;
}

async function runConsumer(ctx: ConsumerRunContext): Promise<ConsumerOutcome> {
  const t = ctx.ticket;
  const p = prepare(t);
  const providers = ticketProviders(t);
  // Refuse before starting anyone: each provider would (with its own count) anyway.
  for (const k of providers) checkFederatedCohort(p, committedRows(t, k), t.minCohort);
  const channels = providers.map((k) => ctx.channel(k));
  ctx.progress({ phase: 'handshake', done: 0, total: providers.length });
  await startProviders(ctx, channels);
  await Promise.all(channels.map((c) => sendRunnerMessage(c, t.jobId, RUNNER_MSG.GO)));
  const model = federatedModel(p);
  const maxRows = Math.max(1, ...providers.map((k) => committedRows(t, k)));
  const server = new FedAvgServer({
    initialWeights: await model.init(await Rng.seeded(p.seed)),
    fractionFit: 1,
    minFitClients: providers.length,
    minAvailableClients: providers.length,
    acceptFailures: false,
    aggregator: secureAggregator({ clip: p.updateClip, maxExamples: maxRows }),
  });
  const bytes = () => channels.reduce((n, c) => n + c.bytesSent + c.bytesReceived, 0);
  let lastBytes = bytes();
  const usage: RoundUsage[] = [];
  const rounds: FederatedResult['rounds'] = [];
  ctx.progress({ phase: 'round', done: 0, total: p.rounds });
  const run = await runFedAvgServer(server, new Map(providers.map((k, i) => [k, channels[i]!])), {
    rounds: p.rounds,
    roundTimeoutMs: ROUND_TIMEOUT_MS,
    signal: ctx.signal,
    onRound: (r) => {
      if (r.fit.status !== 'applied' || r.fit.contributors.length !== providers.length) {
        const why = r.fit.reason ?? r.fit.failures.map((f) => `${f.code}: ${f.message}`).join('; ');
        throw new UnseenError('ERR_PROTOCOL_ABORTED', `round ${r.round} failed: ${why}`);
      }
      const now = bytes();
      usage.push({
        round: r.round,
        contributors: r.fit.contributors.length,
        bytes: now - lastBytes,
        durationMs: Math.round(r.durationMs),
      });
      lastBytes = now;
      rounds.push({
        round: r.round,
        contributors: r.fit.contributors.length,
        totalWeight: r.fit.totalWeight,
        clippedValues: r.fit.clippedValues ?? 0,
      });
      ctx.progress({ phase: 'round', done: r.round, total: p.rounds });
    },
  });
  const result: FederatedResult = {
    computation: t.computation,
    model: {
      kind: p.model,
      features: p.features.map((f) => f.column),
      classes: p.label.classes,
      ...(p.model === 'mlp' ? { hidden: p.hidden } : {}),
    },
    weights: run.weights.map((w) => Array.from(w)),
    rounds,
    privacy: t.privacy,
  };
  return { result, resultBytes: canonicalBytes(result), rounds: usage };
}

/** The federated.train runner. */
export const federatedRunner: JobRunner = {
  computations: ['federated.train'],

  validateParams(_computation, params, _cohort, privacy) {
    parseFederatedParams(params);
    if (privacy !== undefined) checkFederatedPrivacy(params, privacy);
  },

  runProvider,
  runConsumer,
};
