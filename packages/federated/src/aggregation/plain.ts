/**
 * Plain aggregation: clients send their updates in the clear and the server computes the
 * example-weighted sum (McMahan et al. 2017, Algorithm 1: w <- sum_k n_k / n w_k). The server
 * sees every client's update. Accumulation is in float64, so the mean differs from the exact
 * weighted mean of the float32 updates only by the final rounding to float32.
 *
 * Under DP (uniform weights) clients send no example count and no metric: those are
 * data-dependent per-client values outside the privacy accounting, and DP-FedAvg weighs every
 * client equally anyway.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { l2Norm } from '../tensors.js';
import type { FitRes } from '../wire.js';
import type {
  AggregationStep,
  ClientAggregation,
  ClientAggregator,
  ClientContribution,
  RoundContext,
  ServerAggregation,
  ServerAggregator,
} from './types.js';

/** Options of {@link plainAggregator}. */
export interface PlainOptions {
  /**
   * Reject updates whose L2 norm exceeds this (with a relative slack of 1e-5): the server's check
   * that clients clipped as told. 0 or absent: no check.
   */
  maxUpdateNorm?: number;
  /** Reject clients claiming more examples than this (default 2^32). */
  maxExamples?: number;
}

/** The server side of plain aggregation. */
export function plainAggregator(options: PlainOptions = {}): ServerAggregator {
  const maxNorm = options.maxUpdateNorm ?? 0;
  const maxExamples = options.maxExamples ?? 2 ** 32;
  return {
    mode: 'plain',
    async begin(ctx: RoundContext): Promise<ServerAggregation> {
      const waiting = new Set(ctx.sampled);
      const sum = ctx.shape.map((n) => new Float64Array(n));
      const contributors: string[] = [];
      let totalWeight = 0;
      let lossSum = 0;
      return {
        paramsFor: () => new Uint8Array(0),
        onFitRes(client: string, res: FitRes): void {
          if (!waiting.has(client)) {
            throw new UnseenError('ERR_UNEXPECTED_MESSAGE', `no update expected from ${client}`);
          }
          const update = res.update;
          if (update === undefined) {
            throw new UnseenError(
              'ERR_MALFORMED_MESSAGE',
              'plain aggregation: FIT_RES without an update',
            );
          }
          if (
            ctx.uniformWeights &&
            (res.numExamples !== 1 || Object.keys(res.metrics).length > 0)
          ) {
            throw new UnseenError(
              'ERR_UNEXPECTED_MESSAGE',
              'under DP a client sends no example count and no metric (numExamples 1, no metrics)',
            );
          }
          if (!(res.numExamples >= 1 && res.numExamples <= maxExamples)) {
            throw new UnseenError(
              'ERR_MALFORMED_MESSAGE',
              `numExamples ${res.numExamples} outside [1, ${maxExamples}]`,
            );
          }
          if (maxNorm > 0) {
            const norm = l2Norm(update);
            if (norm > maxNorm * (1 + 1e-5)) {
              throw new UnseenError(
                'ERR_MALFORMED_MESSAGE',
                `update norm ${norm} exceeds the clipping norm ${maxNorm}`,
                { details: { norm, max: maxNorm } },
              );
            }
          }
          // Validated in full above: only now does anything of it touch the sum.
          const w = ctx.uniformWeights ? 1 : res.numExamples;
          for (let t = 0; t < sum.length; t++) {
            const s = sum[t]!;
            const u = update[t]!;
            for (let i = 0; i < s.length; i++) s[i] = s[i]! + w * u[i]!;
          }
          totalWeight += w;
          const loss = res.metrics.loss;
          if (loss !== undefined) lossSum += w * loss;
          contributors.push(client);
          waiting.delete(client);
        },
        async onMessage(): Promise<void> {
          throw new UnseenError(
            'ERR_UNEXPECTED_MESSAGE',
            'plain aggregation has no protocol messages',
          );
        },
        awaiting: () => waiting,
        drop: (client) => {
          waiting.delete(client);
        },
        async advance(): Promise<AggregationStep> {
          waiting.clear();
          return {
            done: {
              sum,
              totalWeight,
              contributors,
              ...(ctx.uniformWeights ? {} : { lossSum }), // no per-client metric under DP
              meanErrorBound: 0,
            },
          };
        },
      };
    },
  };
}

/** The client side of plain aggregation: the update goes in the FIT_RES. */
export function plainClientAggregator(): ClientAggregator {
  return {
    mode: 'plain',
    async begin(c: ClientContribution): Promise<ClientAggregation> {
      return {
        fitRes: () =>
          c.task.uniformWeights
            ? // DP: the update only (the server weighs clients equally)
              { type: 2, round: c.round, numExamples: 1, metrics: {}, update: c.update }
            : {
                type: 2,
                round: c.round,
                numExamples: c.numExamples,
                metrics: { ...c.metrics, loss: c.loss },
                update: c.update,
              },
        async onMessage(): Promise<Uint8Array | undefined> {
          throw new UnseenError(
            'ERR_UNEXPECTED_MESSAGE',
            'plain aggregation has no protocol messages',
          );
        },
      };
    },
  };
}
