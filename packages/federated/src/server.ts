/**
 * The FedAvg server as a sans-I/O state machine (McMahan et al., AISTATS 2017, Algorithm 1,
 * "Server executes"), with Flower's strategy parameters and semantics:
 *
 * - a fit round samples `max(floor(available * fractionFit), minFitClients)` clients, and is
 *   skipped when fewer than `minAvailableClients` are available or the sample does not fit;
 * - each sampled client trains from the global weights and returns an update; the server adds
 *   the example-weighted mean of the updates to the global weights (`serverLearningRate` 1 is
 *   FedAvg exactly);
 * - a client that fails, sends a malformed or wrong-shape update, or misses the deadline is
 *   recorded as a failure and contributes nothing; with `acceptFailures: false` a round with
 *   any failure leaves the global model unchanged;
 * - evaluation rounds sample `max(floor(available * fractionEvaluate), minEvaluateClients)`
 *   clients and average their losses and metrics weighted by example count.
 *
 * The server never touches a socket or a timer: `startFit`, `receive` and `expire` return the
 * messages to send, and a runner ({@link runFedAvgServer}) moves them.
 * @module
 */
import {
  abool,
  aint,
  anumber,
  type ErrorCode,
  isUnseenError,
  newSessionId,
  UnseenError,
} from '@unseen/core';
import { plainAggregator } from './aggregation/plain.js';
import type {
  AggregateSum,
  Outbox,
  ServerAggregation,
  ServerAggregator,
} from './aggregation/types.js';
import { type DpOptions, type ResolvedDp, resolveDp } from './dp.js';
import { Rng } from './random.js';
import { RdpAccountant } from './rdp.js';
import { assertShape, cloneWeights, shapeOf, type Weights } from './tensors.js';
import {
  type Config,
  decodeFederated,
  encodeFederated,
  type FederatedMessage,
  type Metrics,
  MSG,
  type WireLimits,
} from './wire.js';

/** Options of {@link FedAvgServer}. Names and defaults follow Flower's `FedAvg` strategy. */
export interface FedAvgServerOptions {
  /** The initial global model. */
  initialWeights: Weights;
  /** Fraction of available clients sampled for training (default 1). */
  fractionFit?: number;
  /** Fraction of available clients sampled for evaluation (default 1). */
  fractionEvaluate?: number;
  /** At least this many clients train in a round (default 2). */
  minFitClients?: number;
  /** At least this many clients evaluate (default 2). */
  minEvaluateClients?: number;
  /** No round starts with fewer available clients (default 2). */
  minAvailableClients?: number;
  /** Aggregate the results of a round even if some clients failed (default true). */
  acceptFailures?: boolean;
  /** How updates are summed (default {@link plainAggregator}). */
  aggregator?: ServerAggregator;
  /** Client-level differential privacy (DP-FedAvg). */
  dp?: DpOptions;
  /** Step size of the server's update (default 1: FedAvg). */
  serverLearningRate?: number;
  /** Config sent with each fit round (Flower's `on_fit_config_fn`). */
  onFitConfig?: (round: number) => Config;
  /** Config sent with each evaluation round (Flower's `on_evaluate_config_fn`). */
  onEvaluateConfig?: (round: number) => Config;
  /** Source of sampling and central-noise randomness (default: crypto). */
  rng?: Rng;
  /** Session id of the run (default random). */
  session?: Uint8Array;
  /** Decoder limits. */
  limits?: WireLimits;
}

/** A client that failed in a round, and why. */
export interface ClientFailure {
  client: string;
  code: ErrorCode;
  message: string;
}

/** What a fit round did. */
export interface FitRoundResult {
  round: number;
  /** 'applied': the global model moved; 'skipped': too few clients to start; 'discarded':
   * results thrown away (failures with `acceptFailures: false`, or no result at all). */
  status: 'applied' | 'skipped' | 'discarded';
  reason?: string;
  sampled: string[];
  contributors: string[];
  failures: ClientFailure[];
  /** Examples behind the aggregate (example weighting), or contributors (uniform weighting). */
  totalWeight: number;
  /** Weighted mean of the clients' training losses, when available. */
  trainLoss?: number;
  /** Worst-case error per coordinate that the aggregation's encoding added to the mean. */
  meanErrorBound: number;
  /** Values clipped by the aggregation's encoding range (secure aggregation). */
  clippedValues?: number;
  /** The (epsilon, delta) spent so far, when DP is on. */
  privacy?: { epsilon: number; delta: number; order: number };
}

/** What an evaluation round found. */
export interface EvaluateRoundResult {
  round: number;
  status: 'done' | 'skipped';
  reason?: string;
  sampled: string[];
  failures: ClientFailure[];
  /** Example-weighted mean loss (Flower's `weighted_loss_avg`). */
  loss?: number;
  /** Example-weighted mean of each metric. */
  metrics: Metrics;
  numExamples: number;
}

type Phase =
  | { kind: 'idle' }
  | {
      kind: 'fit';
      round: number;
      sampled: string[];
      agg: ServerAggregation;
      failures: ClientFailure[];
      expectedParticipants: number;
      q: number;
    }
  | {
      kind: 'evaluate';
      round: number;
      sampled: string[];
      waiting: Set<string>;
      failures: ClientFailure[];
      results: { n: number; loss: number; metrics: Metrics }[];
    };

function failureOf(client: string, e: unknown): ClientFailure {
  if (isUnseenError(e)) return { client, code: e.code, message: e.message };
  return { client, code: 'ERR_INTERNAL', message: String((e as Error)?.message ?? e) };
}

/**
 * The FedAvg server of one training run.
 * @example
 * ```ts
 * const server = new FedAvgServer({ initialWeights, fractionFit: 0.5, minFitClients: 2 });
 * let out = await server.startFit(['a', 'b', 'c']);   // Map: client -> FIT_INS bytes
 * // deliver; for each reply: out = await server.receive(client, bytes); deliver out
 * // at the deadline: out = await server.expire();
 * server.lastFit; // FitRoundResult once the round is over
 * ```
 */
export class FedAvgServer {
  readonly session: Uint8Array;
  readonly acceptFailures: boolean;
  readonly fractionFit: number;
  readonly fractionEvaluate: number;
  readonly minFitClients: number;
  readonly minEvaluateClients: number;
  readonly minAvailableClients: number;
  readonly dp: ResolvedDp | undefined;
  readonly accountant: RdpAccountant | undefined;
  readonly #aggregator: ServerAggregator;
  readonly #serverLr: number;
  readonly #onFitConfig: (round: number) => Config;
  readonly #onEvaluateConfig: (round: number) => Config;
  readonly #rng: Rng;
  readonly #limits: WireLimits;
  readonly #shape: number[];
  #weights: Weights;
  #round = 0;
  #phase: Phase = { kind: 'idle' };
  #busy = false;
  #lastFit: FitRoundResult | undefined;
  #lastEvaluate: EvaluateRoundResult | undefined;

  constructor(options: FedAvgServerOptions) {
    const init: unknown = options?.initialWeights;
    if (
      !Array.isArray(init) ||
      init.length === 0 ||
      !init.every((t) => t instanceof Float32Array)
    ) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'initialWeights: expected a non-empty array of Float32Array',
      );
    }
    this.#weights = cloneWeights(init as Float32Array[]);
    this.#shape = shapeOf(this.#weights);
    this.fractionFit = anumber(options.fractionFit ?? 1, 'fractionFit', 0, 1);
    this.fractionEvaluate = anumber(options.fractionEvaluate ?? 1, 'fractionEvaluate', 0, 1);
    this.minFitClients = aint(options.minFitClients ?? 2, 'minFitClients', 1);
    this.minEvaluateClients = aint(options.minEvaluateClients ?? 2, 'minEvaluateClients', 0);
    this.minAvailableClients = aint(options.minAvailableClients ?? 2, 'minAvailableClients', 1);
    this.acceptFailures = abool(options.acceptFailures ?? true, 'acceptFailures');
    this.#serverLr = anumber(options.serverLearningRate ?? 1, 'serverLearningRate', 0);
    this.#aggregator = options.aggregator ?? plainAggregator();
    this.dp = options.dp === undefined ? undefined : resolveDp(options.dp);
    this.accountant = this.dp === undefined ? undefined : new RdpAccountant();
    if (
      this.dp !== undefined &&
      this.#aggregator.mode === 'plain' &&
      options.aggregator === undefined
    ) {
      // Plain aggregation with DP: the server checks that clients clipped (when they add no noise).
      this.#aggregator =
        this.dp.noise === 'central'
          ? plainAggregator({ maxUpdateNorm: this.dp.clipNorm })
          : plainAggregator();
    }
    this.#onFitConfig = options.onFitConfig ?? (() => ({}));
    this.#onEvaluateConfig = options.onEvaluateConfig ?? (() => ({}));
    this.#rng = options.rng ?? Rng.crypto();
    this.#limits = { ...(options.limits ?? {}) };
    this.session = options.session === undefined ? newSessionId() : options.session.slice();
  }

  /** A copy of the current global model. */
  get weights(): Weights {
    return cloneWeights(this.#weights);
  }

  /** Tensor lengths of the model. */
  get shape(): readonly number[] {
    return this.#shape;
  }

  /** The number of the last fit round started (0 before the first). */
  get round(): number {
    return this.#round;
  }

  /** 'idle', or the phase whose messages the server collects. */
  get phase(): 'idle' | 'fit' | 'evaluate' {
    return this.#phase.kind;
  }

  /** The result of the last completed fit round. */
  get lastFit(): FitRoundResult | undefined {
    return this.#lastFit;
  }

  /** The result of the last completed evaluation round. */
  get lastEvaluate(): EvaluateRoundResult | undefined {
    return this.#lastEvaluate;
  }

  /** Clients whose message the current phase waits for. */
  get awaiting(): ReadonlySet<string> {
    const p = this.#phase;
    if (p.kind === 'fit') return new Set(p.agg.awaiting());
    if (p.kind === 'evaluate') return new Set(p.waiting);
    return new Set();
  }

  /** Number of clients to sample from `available` (Flower's `num_fit_clients`). */
  numFitClients(available: number): number {
    return Math.max(Math.floor(available * this.fractionFit), this.minFitClients);
  }

  /** Number of clients to evaluate (Flower's `num_evaluation_clients`). */
  numEvaluateClients(available: number): number {
    return Math.max(Math.floor(available * this.fractionEvaluate), this.minEvaluateClients);
  }

  /** The SHUTDOWN message, to send to every client at the end of a run. */
  shutdownMessage(reason = 'training finished'): Uint8Array {
    return encodeFederated(this.session, { type: MSG.SHUTDOWN, reason });
  }

  async #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#busy) {
      throw new UnseenError(
        'ERR_INVALID_STATE',
        'FedAvgServer: calls must not overlap; await each one',
      );
    }
    this.#busy = true;
    try {
      return await fn();
    } finally {
      this.#busy = false;
    }
  }

  #checkIds(available: readonly string[]): string[] {
    if (!Array.isArray(available) || available.some((c) => typeof c !== 'string' || c === '')) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'available: expected an array of client ids');
    }
    const ids = [...new Set(available)];
    if (ids.length !== available.length) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'available: duplicate client ids');
    }
    return ids;
  }

  async #sampleFixed(ids: string[], size: number): Promise<string[]> {
    const perm = await this.#rng.permutation(ids.length);
    return Array.from(perm.subarray(0, size), (i) => ids[i]!);
  }

  /**
   * Starts fit round `round + 1` over the `available` clients: samples, and returns the FIT_INS
   * message of each sampled client. A round that cannot start completes at once as 'skipped'
   * (see {@link lastFit}) and returns no messages.
   * @throws UnseenError `ERR_INVALID_STATE` while another phase runs
   */
  startFit(available: readonly string[]): Promise<Outbox> {
    return this.#exclusive(async () => {
      if (this.#phase.kind !== 'idle') {
        throw new UnseenError('ERR_INVALID_STATE', `a ${this.#phase.kind} phase is running`);
      }
      const ids = this.#checkIds(available);
      const round = ++this.#round;
      const skip = (reason: string, sampled: string[] = []): Outbox => {
        this.#lastFit = {
          round,
          status: 'skipped',
          reason,
          sampled,
          contributors: [],
          failures: [],
          totalWeight: 0,
          meanErrorBound: 0,
          ...this.#privacy(),
        };
        return new Map();
      };
      if (ids.length < this.minAvailableClients) {
        return skip(
          `${ids.length} clients available, minAvailableClients is ${this.minAvailableClients}`,
        );
      }
      const dp = this.dp;
      let sampled: string[];
      let expected: number;
      let q: number;
      if (dp !== undefined && dp.sampling === 'poisson') {
        const u = await this.#rng.uniforms(ids.length);
        sampled = ids.filter((_, i) => u[i]! < this.fractionFit);
        const population = dp.population ?? ids.length;
        q = this.fractionFit;
        expected = Math.max(1, q * population);
        if (sampled.length < this.minFitClients) {
          return skip(
            `Poisson sampling drew ${sampled.length} clients, minFitClients is ${this.minFitClients}`,
          );
        }
      } else {
        const size = this.numFitClients(ids.length);
        if (size > ids.length) {
          return skip(`${size} clients to sample, only ${ids.length} available`);
        }
        sampled = await this.#sampleFixed(ids, size);
        expected = size;
        q = size / (dp?.population ?? ids.length);
      }
      const agg = await this.#aggregator.begin({
        session: this.session,
        round,
        shape: this.#shape,
        sampled,
        uniformWeights: dp !== undefined,
      });
      const config = this.#onFitConfig(round);
      const noiseStd =
        dp !== undefined && dp.noise === 'distributed'
          ? (dp.noiseMultiplier * dp.clipNorm) / Math.sqrt(expected)
          : 0;
      const out: Outbox = new Map();
      for (const client of sampled) {
        out.set(
          client,
          encodeFederated(this.session, {
            type: MSG.FIT_INS,
            round,
            task: {
              aggregation: this.#aggregator.mode,
              clipNorm: dp?.clipNorm ?? 0,
              noiseStd,
              uniformWeights: dp !== undefined,
              aggregationParams: agg.paramsFor(client),
            },
            config,
            weights: this.#weights,
          }),
        );
      }
      this.#phase = {
        kind: 'fit',
        round,
        sampled,
        agg,
        failures: [],
        expectedParticipants: expected,
        q,
      };
      return out;
    });
  }

  /**
   * Starts an evaluation of the current model over the `available` clients. Under DP it is
   * skipped (each client's loss and metrics would be released outside the privacy accounting):
   * evaluate on the server's own data instead.
   * @throws UnseenError `ERR_INVALID_STATE` while another phase runs
   */
  startEvaluate(available: readonly string[]): Promise<Outbox> {
    return this.#exclusive(async () => {
      if (this.#phase.kind !== 'idle') {
        throw new UnseenError('ERR_INVALID_STATE', `a ${this.#phase.kind} phase is running`);
      }
      const ids = this.#checkIds(available);
      const round = this.#round;
      const size = this.numEvaluateClients(ids.length);
      const refuse =
        this.dp !== undefined
          ? "federated evaluation releases each client's loss and metrics, outside the DP accounting: evaluate centrally under DP"
          : ids.length < this.minAvailableClients || size > ids.length || size === 0
            ? `${ids.length} clients available for an evaluation of ${size}`
            : undefined;
      if (refuse !== undefined) {
        this.#lastEvaluate = {
          round,
          status: 'skipped',
          reason: refuse,
          sampled: [],
          failures: [],
          metrics: {},
          numExamples: 0,
        };
        return new Map();
      }
      const sampled = await this.#sampleFixed(ids, size);
      const config = this.#onEvaluateConfig(round);
      const msg = encodeFederated(this.session, {
        type: MSG.EVALUATE_INS,
        round,
        config,
        weights: this.#weights,
      });
      this.#phase = {
        kind: 'evaluate',
        round,
        sampled,
        waiting: new Set(sampled),
        failures: [],
        results: [],
      };
      return new Map(sampled.map((c) => [c, msg]));
    });
  }

  /**
   * Handles a message from `client`. A bad message makes that client fail the round (recorded,
   * never thrown): the global model and the other clients' contributions are untouched.
   * Messages from clients the phase does not wait for are ignored.
   * @returns messages to send (the next stage of the aggregation, if this completed one)
   */
  receive(client: string, bytes: Uint8Array): Promise<Outbox> {
    return this.#exclusive(async () => {
      const p = this.#phase;
      if (p.kind === 'idle') return new Map();
      const waiting = p.kind === 'fit' ? p.agg.awaiting() : p.waiting;
      if (!waiting.has(client)) return new Map();
      let message: FederatedMessage;
      try {
        message = decodeFederated(bytes, {
          ...this.#limits,
          session: this.session,
          shape: this.#shape,
          types:
            p.kind === 'fit'
              ? [MSG.FIT_RES, MSG.AGGREGATION, MSG.FAILURE]
              : [MSG.EVALUATE_RES, MSG.FAILURE],
        }).message;
        if ('round' in message && message.round !== p.round) {
          throw new UnseenError(
            'ERR_UNEXPECTED_MESSAGE',
            `message of round ${message.round} in round ${p.round}`,
          );
        }
        if (message.type === MSG.FAILURE) {
          throw new UnseenError('ERR_PROTOCOL_ABORTED', `client reported: ${message.reason}`);
        }
        if (p.kind === 'fit') {
          if (message.type === MSG.FIT_RES) {
            if (message.update !== undefined) assertShape(message.update, this.#shape, 'update');
            p.agg.onFitRes(client, message);
          } else if (message.type === MSG.AGGREGATION) {
            await p.agg.onMessage(client, message.payload);
          }
        } else if (message.type === MSG.EVALUATE_RES) {
          if (!(message.numExamples >= 1) || !Number.isFinite(message.loss)) {
            throw new UnseenError(
              'ERR_MALFORMED_MESSAGE',
              'evaluation needs numExamples >= 1 and a finite loss',
            );
          }
          p.results.push({ n: message.numExamples, loss: message.loss, metrics: message.metrics });
          p.waiting.delete(client);
        }
      } catch (e) {
        this.#fail(client, e);
      }
      return this.#maybeAdvance();
    });
  }

  /** The deadline passed: every client still awaited fails with `ERR_TIMEOUT`. */
  expire(): Promise<Outbox> {
    return this.#exclusive(async () => {
      const p = this.#phase;
      if (p.kind === 'idle') return new Map();
      const waiting = [...(p.kind === 'fit' ? p.agg.awaiting() : p.waiting)];
      for (const c of waiting) {
        this.#fail(c, new UnseenError('ERR_TIMEOUT', 'no answer before the round deadline'));
      }
      return this.#maybeAdvance();
    });
  }

  /** Marks `client` as failed in the current phase (e.g. its channel closed). */
  fail(client: string, error: unknown): Promise<Outbox> {
    return this.#exclusive(async () => {
      const p = this.#phase;
      if (p.kind === 'idle') return new Map();
      const waiting = p.kind === 'fit' ? p.agg.awaiting() : p.waiting;
      if (!waiting.has(client)) return new Map();
      this.#fail(client, error);
      return this.#maybeAdvance();
    });
  }

  #fail(client: string, e: unknown): void {
    const p = this.#phase;
    if (p.kind === 'idle') return;
    p.failures.push(failureOf(client, e));
    if (p.kind === 'fit') p.agg.drop(client);
    else p.waiting.delete(client);
  }

  async #maybeAdvance(): Promise<Outbox> {
    const p = this.#phase;
    if (p.kind === 'evaluate') {
      if (p.waiting.size === 0) this.#finishEvaluate(p);
      return new Map();
    }
    if (p.kind !== 'fit' || p.agg.awaiting().size > 0) return new Map();
    let step: Awaited<ReturnType<ServerAggregation['advance']>>;
    try {
      step = await p.agg.advance();
    } catch (e) {
      // The aggregation protocol cannot finish (e.g. too many dropouts for secure aggregation).
      this.#lastFit = this.#discarded(p, `aggregation failed: ${failureOf('', e).message}`);
      this.#phase = { kind: 'idle' };
      return new Map();
    }
    if ('messages' in step) {
      const out: Outbox = new Map();
      for (const [c, payload] of step.messages) {
        out.set(
          c,
          encodeFederated(this.session, { type: MSG.AGGREGATION, round: p.round, payload }),
        );
      }
      return out;
    }
    await this.#finishFit(p, step.done);
    return new Map();
  }

  #privacy(): Pick<FitRoundResult, 'privacy'> {
    if (this.accountant === undefined || this.dp === undefined) return {};
    return { privacy: this.accountant.epsilon(this.dp.delta) };
  }

  #discarded(p: Extract<Phase, { kind: 'fit' }>, reason: string): FitRoundResult {
    return {
      round: p.round,
      status: 'discarded',
      reason,
      sampled: p.sampled,
      contributors: [],
      failures: p.failures,
      totalWeight: 0,
      meanErrorBound: 0,
      ...this.#privacy(),
    };
  }

  async #finishFit(p: Extract<Phase, { kind: 'fit' }>, agg: AggregateSum): Promise<void> {
    this.#phase = { kind: 'idle' };
    if (p.failures.length > 0 && !this.acceptFailures) {
      this.#lastFit = this.#discarded(
        p,
        `${p.failures.length} clients failed and acceptFailures is false`,
      );
      return;
    }
    if (agg.contributors.length === 0 || !(agg.totalWeight > 0)) {
      this.#lastFit = this.#discarded(p, 'no client contributed');
      return;
    }
    const dp = this.dp;
    let denominator = agg.totalWeight;
    if (dp !== undefined) {
      // DP-FedAvg: a fixed denominator (McMahan et al. 2018), so that one client changes the
      // released sum by at most C whatever the others do.
      denominator = p.expectedParticipants;
      if (dp.noise === 'central' && dp.noiseMultiplier > 0) {
        const std = dp.noiseMultiplier * dp.clipNorm;
        for (const s of agg.sum) {
          const z = await this.#rng.normals(s.length, std);
          for (let i = 0; i < s.length; i++) s[i] = s[i]! + z[i]!;
        }
      }
      const sigma =
        dp.noise === 'central'
          ? dp.noiseMultiplier
          : dp.noiseMultiplier *
            Math.sqrt(Math.min(1, agg.contributors.length / p.expectedParticipants));
      this.accountant!.step({ q: Math.min(1, p.q), noiseMultiplier: sigma });
    }
    const scale = this.#serverLr / denominator;
    const next = this.#weights.map((w, t) => {
      const s = agg.sum[t]!;
      const out = new Float32Array(w.length);
      for (let i = 0; i < w.length; i++) out[i] = w[i]! + scale * s[i]!;
      return out;
    });
    for (const t of next) {
      for (let i = 0; i < t.length; i++) {
        if (!Number.isFinite(t[i]!)) {
          this.#lastFit = this.#discarded(p, 'the aggregate is not finite');
          return;
        }
      }
    }
    this.#weights = next;
    this.#lastFit = {
      round: p.round,
      status: 'applied',
      sampled: p.sampled,
      contributors: agg.contributors,
      failures: p.failures,
      totalWeight: agg.totalWeight,
      ...(agg.lossSum === undefined ? {} : { trainLoss: agg.lossSum / agg.totalWeight }),
      meanErrorBound: (agg.meanErrorBound * agg.totalWeight) / denominator,
      ...(agg.clippedValues === undefined ? {} : { clippedValues: agg.clippedValues }),
      ...this.#privacy(),
    };
  }

  #finishEvaluate(p: Extract<Phase, { kind: 'evaluate' }>): void {
    this.#phase = { kind: 'idle' };
    let n = 0;
    let loss = 0;
    const sums: Record<string, { s: number; n: number }> = {};
    for (const r of p.results) {
      n += r.n;
      loss += r.n * r.loss;
      for (const [k, v] of Object.entries(r.metrics)) {
        const e = sums[k] ?? { s: 0, n: 0 };
        sums[k] = e;
        e.s += r.n * v;
        e.n += r.n;
      }
    }
    const metrics: Metrics = {};
    for (const [k, e] of Object.entries(sums)) metrics[k] = e.s / e.n;
    this.#lastEvaluate = {
      round: p.round,
      status: 'done',
      sampled: p.sampled,
      failures: p.failures,
      ...(n > 0 ? { loss: loss / n } : {}),
      metrics,
      numExamples: n,
    };
  }
}
