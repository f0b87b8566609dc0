/**
 * The FedAvg client as a sans-I/O state machine (McMahan et al. 2017, Algorithm 1,
 * "ClientUpdate"): it takes the server's bytes and returns its replies. Training is a callback,
 * `train(weights, config)`, so any model fits (the reference models of this package, or e.g.
 * TensorFlow.js: read the Float32Arrays into tensors, fit, read them back).
 *
 * After training, the client turns the new weights into an update (new - global), clips it to
 * the L2 norm the server asks for, adds its share of Gaussian noise when the server asks for
 * distributed noise, and hands it to the aggregation protocol the server chose.
 * @module
 */
import { abytes, equalBytes, isUnseenError, UnseenError } from '@unseen/core';
import { plainClientAggregator } from './aggregation/plain.js';
import type { ClientAggregation, ClientAggregator } from './aggregation/types.js';
import { Rng } from './random.js';
import {
  allFinite,
  assertShape,
  clipByL2Norm,
  shapeOf,
  subtractWeights,
  type Weights,
  type WeightsShape,
} from './tensors.js';
import {
  type AggregationMode,
  type Config,
  decodeFederated,
  encodeFederated,
  type FederatedMessage,
  type Metrics,
  MSG,
  type WireLimits,
} from './wire.js';

/** What a `train` callback returns. */
export interface TrainResult {
  /** The locally trained weights (same shape as the input). */
  weights: Weights;
  /** Examples trained on: the weight of this client in the average. */
  numExamples: number;
  /** Training metrics, e.g. `{ loss }`; `loss` is averaged by the server. */
  metrics?: Metrics;
}

/** What an `evaluate` callback returns. */
export interface EvaluateResult {
  loss: number;
  numExamples: number;
  metrics?: Metrics;
}

/** Trains from the global weights; `round` is the server's round number. */
export type TrainFn = (weights: Weights, config: Config, round: number) => Promise<TrainResult>;
/** Evaluates the global weights on local data. */
export type EvaluateFn = (
  weights: Weights,
  config: Config,
  round: number,
) => Promise<EvaluateResult>;

/** Options of {@link FedAvgClient}. */
export interface FedAvgClientOptions {
  train: TrainFn;
  evaluate?: EvaluateFn;
  /**
   * Client sides of the aggregation protocols this client takes part in, by mode (plain is
   * always there). Add `secureClientAggregator()` / `homomorphicClientAggregator(...)`.
   */
  aggregators?: Partial<Record<AggregationMode, ClientAggregator>>;
  /** Source of the client's DP noise (default: crypto). */
  rng?: Rng;
  /** The model's tensor lengths, if known: other shapes are refused from the first message. */
  shape?: WeightsShape;
  limits?: WireLimits;
}

/**
 * One FedAvg client.
 * @example
 * ```ts
 * const client = new FedAvgClient({ train: async (w, config) => ({ weights: w, numExamples: 1 }) });
 * const replies = await client.handle(bytesFromServer); // send each reply to the server
 * ```
 */
export class FedAvgClient {
  readonly #train: TrainFn;
  readonly #evaluate: EvaluateFn | undefined;
  readonly #aggregators: Partial<Record<AggregationMode, ClientAggregator>>;
  readonly #rng: Rng;
  readonly #limits: WireLimits;
  #shape: WeightsShape | undefined;
  #session: Uint8Array | undefined;
  #aggregation: { round: number; agg: ClientAggregation } | undefined;
  #busy = false;
  #done = false;
  #shutdownReason: string | undefined;

  constructor(options: FedAvgClientOptions) {
    if (typeof options?.train !== 'function') {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'FedAvgClient: train must be a function');
    }
    this.#train = options.train;
    this.#evaluate = options.evaluate;
    this.#aggregators = { plain: plainClientAggregator(), ...(options.aggregators ?? {}) };
    this.#rng = options.rng ?? Rng.crypto();
    this.#limits = { ...(options.limits ?? {}) };
    this.#shape = options.shape === undefined ? undefined : [...options.shape];
  }

  /** True once the server sent SHUTDOWN. */
  get done(): boolean {
    return this.#done;
  }

  /** The server's reason for the shutdown. */
  get shutdownReason(): string | undefined {
    return this.#shutdownReason;
  }

  /**
   * Handles one message from the server and returns the replies. Failures of the local training
   * or evaluation are reported to the server as FAILURE messages, not thrown.
   * @throws UnseenError for a malformed server message, another session, or a call while the
   * previous one runs (`ERR_INVALID_STATE`); the client state is unchanged then
   */
  async handle(bytes: Uint8Array): Promise<Uint8Array[]> {
    abytes(bytes, 'message');
    if (this.#busy)
      throw new UnseenError('ERR_INVALID_STATE', 'FedAvgClient: await each handle() call');
    if (this.#done) throw new UnseenError('ERR_INVALID_STATE', 'FedAvgClient: the run is over');
    this.#busy = true;
    try {
      const { message, envelope } = decodeFederated(bytes, {
        ...this.#limits,
        ...(this.#session === undefined ? {} : { session: this.#session }),
        ...(this.#shape === undefined ? {} : { shape: this.#shape }),
        types: [MSG.FIT_INS, MSG.EVALUATE_INS, MSG.AGGREGATION, MSG.SHUTDOWN],
      });
      if (this.#session !== undefined && !equalBytes(this.#session, envelope.session)) {
        throw new UnseenError('ERR_SESSION_MISMATCH', 'message of another session');
      }
      const session = envelope.session.slice();
      const replies = await this.#dispatch(message, session);
      this.#session = session;
      return replies;
    } finally {
      this.#busy = false;
    }
  }

  async #dispatch(m: FederatedMessage, session: Uint8Array): Promise<Uint8Array[]> {
    const failure = (round: number, phase: 'fit' | 'evaluate', e: unknown): Uint8Array[] => [
      encodeFederated(session, {
        type: MSG.FAILURE,
        round,
        phase,
        reason: isUnseenError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e),
      }),
    ];
    switch (m.type) {
      case MSG.FIT_INS: {
        this.#aggregation = undefined;
        this.#shape ??= shapeOf(m.weights);
        try {
          const aggregator = this.#aggregators[m.task.aggregation];
          if (aggregator === undefined) {
            throw new UnseenError(
              'ERR_UNSUPPORTED',
              `this client does not speak ${m.task.aggregation} aggregation`,
            );
          }
          const out = await this.#train(m.weights, m.config, m.round);
          if (typeof out !== 'object' || out === null) {
            throw new UnseenError(
              'ERR_INVALID_ARGUMENT',
              'train must return { weights, numExamples }',
            );
          }
          assertShape(out.weights, shapeOf(m.weights), 'trained weights');
          if (!allFinite(out.weights)) {
            throw new UnseenError('ERR_INVALID_ARGUMENT', 'training produced non-finite weights');
          }
          if (!Number.isSafeInteger(out.numExamples) || out.numExamples < 1) {
            throw new UnseenError('ERR_INVALID_ARGUMENT', 'train must report numExamples >= 1');
          }
          // Finite weights can still differ by more than float32 holds: clipping turns such an
          // update into zeros (a bounded stand-in, so DP-FedAvg's sensitivity holds); without
          // clipping it is refused rather than sent as infinities.
          let update = subtractWeights(out.weights, m.weights);
          if (m.task.clipNorm > 0) update = clipByL2Norm(update, m.task.clipNorm).update;
          else if (!allFinite(update)) {
            throw new UnseenError('ERR_INVALID_ARGUMENT', 'the update overflows float32');
          }
          if (m.task.noiseStd > 0) {
            update = await Promise.all(
              update.map(async (t) => {
                const z = await this.#rng.normals(t.length, m.task.noiseStd);
                return t.map((v, i) => v + z[i]!);
              }),
            );
          }
          const metrics = { ...(out.metrics ?? {}) };
          const loss = metrics.loss ?? 0;
          const agg = await aggregator.begin({
            round: m.round,
            update,
            numExamples: out.numExamples,
            loss,
            metrics,
            task: m.task,
          });
          const replies = [encodeFederated(session, agg.fitRes())];
          const follow = await agg.afterFit?.();
          if (follow !== undefined) {
            replies.push(
              encodeFederated(session, { type: MSG.AGGREGATION, round: m.round, payload: follow }),
            );
          }
          this.#aggregation = { round: m.round, agg };
          return replies;
        } catch (e) {
          return failure(m.round, 'fit', e);
        }
      }
      case MSG.AGGREGATION: {
        const current = this.#aggregation;
        if (current === undefined || current.round !== m.round) {
          throw new UnseenError(
            'ERR_UNEXPECTED_MESSAGE',
            `no aggregation of round ${m.round} in progress`,
          );
        }
        try {
          const reply = await current.agg.onMessage(m.payload);
          return reply === undefined
            ? []
            : [encodeFederated(session, { type: MSG.AGGREGATION, round: m.round, payload: reply })];
        } catch (e) {
          this.#aggregation = undefined;
          return failure(m.round, 'fit', e);
        }
      }
      case MSG.EVALUATE_INS: {
        try {
          if (this.#evaluate === undefined) {
            throw new UnseenError('ERR_UNSUPPORTED', 'this client does not evaluate');
          }
          const r = await this.#evaluate(m.weights, m.config, m.round);
          if (
            !Number.isSafeInteger(r?.numExamples) ||
            r.numExamples < 1 ||
            !Number.isFinite(r.loss)
          ) {
            throw new UnseenError(
              'ERR_INVALID_ARGUMENT',
              'evaluate must return a finite loss and numExamples >= 1',
            );
          }
          return [
            encodeFederated(session, {
              type: MSG.EVALUATE_RES,
              round: m.round,
              numExamples: r.numExamples,
              loss: r.loss,
              metrics: r.metrics ?? {},
            }),
          ];
        } catch (e) {
          return failure(m.round, 'evaluate', e);
        }
      }
      case MSG.SHUTDOWN:
        this.#done = true;
        this.#shutdownReason = m.reason;
        this.#aggregation = undefined;
        return [];
      default:
        throw new UnseenError(
          'ERR_UNEXPECTED_MESSAGE',
          `a client does not accept message type ${m.type}`,
        );
    }
  }
}
