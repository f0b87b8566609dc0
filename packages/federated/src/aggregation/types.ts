/**
 * The contract between FedAvg and an aggregation protocol. The server side collects one round's
 * contributions (in the clear, masked, or encrypted) and ends with the weighted sum of the
 * client updates; the client side turns a local update into what the protocol sends. Both are
 * sans-I/O: they take and return bytes, and FedAvg carries them in `AGGREGATION` messages.
 * @module
 */
import { UnseenError } from '@unseen/core';
import type { Weights, WeightsShape } from '../tensors.js';
import type { AggregationMode, ClientTask, FitRes, Metrics } from '../wire.js';

/** What an aggregation round produced: the weighted sum, not yet divided. */
export interface AggregateSum {
  /** sum_i w_i u_i, tensor by tensor, in float64. */
  sum: Float64Array[];
  /** sum_i w_i (examples, or clients under uniform weighting). */
  totalWeight: number;
  /** Clients whose update the sum holds. */
  contributors: string[];
  /** sum_i w_i * (client training loss), when the protocol carries it. */
  lossSum?: number;
  /**
   * Worst-case absolute error of each coordinate of the mean (sum / totalWeight) that the
   * protocol's encoding adds (fixed-point rounding, CKKS noise bound); 0 for plain.
   */
  meanErrorBound: number;
  /**
   * Coordinates clipped by the encoding range, summed over clients (secure, homomorphic; carried
   * inside the hidden sum, never per client; absent under DP).
   */
  clippedValues?: number;
}

/** Messages to send, keyed by client id. */
export type Outbox = Map<string, Uint8Array>;

/** One step of a server-side aggregation round. */
export type AggregationStep = { messages: Outbox } | { done: AggregateSum };

/** Everything an aggregator needs to know about the round it serves. */
export interface RoundContext {
  /** The run's session id (with `round`, names the round for protocols that bind to it). */
  session: Uint8Array;
  round: number;
  shape: WeightsShape;
  /** Clients asked to train, in sampling order. */
  sampled: readonly string[];
  uniformWeights: boolean;
}

/** The server side of one aggregation round. */
export interface ServerAggregation {
  /** Parameters for each sampled client, carried in its FIT_INS. */
  paramsFor(client: string): Uint8Array;
  /**
   * A client's FIT_RES (already decoded and shape-checked). Throws a typed error to reject it;
   * the client then counts as failed and nothing of it is kept.
   */
  onFitRes(client: string, res: FitRes): void;
  /** A client's AGGREGATION payload. Throws a typed error to reject it (the client drops). */
  onMessage(client: string, payload: Uint8Array): Promise<void>;
  /** Clients whose message the current stage still waits for. */
  awaiting(): ReadonlySet<string>;
  /** A client failed or timed out: stop waiting for it. */
  drop(client: string): void;
  /** Moves on once nobody is awaited (or the deadline passed): next messages or the sum. */
  advance(): Promise<AggregationStep>;
}

/** Creates the server side of a round. */
export interface ServerAggregator {
  readonly mode: AggregationMode;
  begin(context: RoundContext): Promise<ServerAggregation>;
}

/** What a client trained, ready to be contributed. */
export interface ClientContribution {
  round: number;
  /** The (clipped, noised) update. */
  update: Weights;
  numExamples: number;
  /** Training loss, carried inside the protocol where it can be. */
  loss: number;
  metrics: Metrics;
  task: ClientTask;
}

/** The client side of one aggregation round. */
export interface ClientAggregation {
  /** The FIT_RES to send after training (with the update in plain mode, without otherwise). */
  fitRes(): FitRes;
  /** A payload to send right after the FIT_RES (e.g. an encrypted update), if any. */
  afterFit?(): Promise<Uint8Array | undefined>;
  /** A payload from the server's aggregation; returns the reply payload, if any. */
  onMessage(payload: Uint8Array): Promise<Uint8Array | undefined>;
}

/** Creates the client side of a round. */
export interface ClientAggregator {
  readonly mode: AggregationMode;
  begin(contribution: ClientContribution): Promise<ClientAggregation>;
}

/**
 * Checks the FIT_RES of a protocol that keeps updates hidden (secure, homomorphic): no update,
 * no example count and no metric in the clear. Everything a client reports (its weight, its
 * count of clipped values) travels inside the hidden sum; a per-client value in the clear would
 * be a data-dependent release of that client, outside any privacy accounting.
 * @throws UnseenError `ERR_UNEXPECTED_MESSAGE`
 */
export function checkHiddenFitRes(res: FitRes, mode: AggregationMode): void {
  if (res.update !== undefined) {
    throw new UnseenError(
      'ERR_UNEXPECTED_MESSAGE',
      `${mode} aggregation: the update must not travel in the clear`,
    );
  }
  if (res.numExamples !== 0 || Object.keys(res.metrics).length > 0) {
    throw new UnseenError(
      'ERR_UNEXPECTED_MESSAGE',
      `${mode} aggregation: no example count or metric may travel in the clear`,
    );
  }
}
