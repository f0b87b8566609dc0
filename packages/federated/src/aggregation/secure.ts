/**
 * Secure aggregation of FedAvg updates through @unseen/secure-aggregation (Bonawitz et al.,
 * CCS 2017; SecAgg+ of Bell et al., CCS 2020, with `neighbours`). The server learns the
 * example-weighted sum of the surviving clients' updates and their total example count, and
 * nothing about any single update.
 *
 * Each client encodes `w * clip(u)` in fixed point with its weight `w` (its example count,
 * capped at the public `maxExamples`, or 1 under DP's uniform weighting) and its count of
 * clipped values as extra ring elements (`encodeHiddenUpdate`), and the round runs after every
 * sampled client has trained (the masked input must exist when the protocol starts).
 *
 * Error, reported per round as `meanErrorBound`: each encoded coordinate is within 2^-(f+1) of
 * `w * clip(u)`, so the decoded mean is within k * 2^-(f+1) / sum(w) of the exact weighted mean
 * of the clipped updates (k contributors). Values outside `[-clip, clip]` are clipped and
 * counted; the counts are summed inside the masked sum, so the server learns only their total
 * (and, under DP, nothing: clients send zeros there).
 * @module
 */
import { aint, anumber, ByteReader, ByteWriter, UnseenError } from '@unseen/core';
import {
  SecAggClient,
  SecAggServer,
  type UpdateEncoding,
  updateEncoding,
} from '@unseen/secure-aggregation';
import { flatten, splitByShape, totalLength } from '../tensors.js';
import type { FitRes } from '../wire.js';
import { decodeHiddenAggregate, encodeHiddenUpdate, hiddenUpdateLength } from './encoding.js';
import {
  type AggregationStep,
  type ClientAggregation,
  type ClientAggregator,
  type ClientContribution,
  checkHiddenFitRes,
  type Outbox,
  type RoundContext,
  type ServerAggregation,
  type ServerAggregator,
} from './types.js';

/** Options of {@link secureAggregator}. */
export interface SecureOptions {
  /** Every update value is clipped to [-clip, clip] before encoding (default 1). */
  clip?: number;
  /** Largest example count a client's weight may carry, a public bound (default 10,000). */
  maxExamples?: number;
  /** Fractional bits of the fixed-point encoding (default: secure-aggregation's, 16 or 24). */
  fractionalBits?: number;
  /** Ring: 32 or 64 bits (default: 32 when the sum fits). */
  bits?: 32 | 64;
  /** Neighbours per client for SecAgg+ (default: all, the protocol of Bonawitz et al.). */
  neighbours?: (clients: number) => number;
  /** Shares needed to recover a dropped client's mask (default: secure-aggregation's). */
  threshold?: (clients: number) => number;
}

function encodeParams(e: UpdateEncoding): Uint8Array {
  return new ByteWriter(32)
    .f64(e.clip)
    .u8(e.fractionalBits)
    .u8(e.bits)
    .u32(e.maxWeight)
    .u32(e.clients)
    .finish();
}

function decodeParams(bytes: Uint8Array): UpdateEncoding {
  const r = new ByteReader(bytes, 'secure aggregation params');
  const clip = r.f64('clip');
  const fractionalBits = r.u8('fractional bits');
  const bits = r.u8('bits');
  const maxWeight = r.u32('max weight');
  const clients = r.u32('clients');
  r.end();
  if (bits !== 32 && bits !== 64) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', `ring of ${bits} bits`);
  }
  return updateEncoding({ clip, fractionalBits, bits, maxWeight, clients });
}

/** The server side of secure aggregation. */
export function secureAggregator(options: SecureOptions = {}): ServerAggregator {
  const clip = anumber(options.clip ?? 1, 'clip', Number.MIN_VALUE);
  const maxExamples = aint(options.maxExamples ?? 10_000, 'maxExamples', 1, 2 ** 32 - 1);
  return {
    mode: 'secure',
    async begin(ctx: RoundContext): Promise<ServerAggregation> {
      const encoding = updateEncoding({
        clip,
        clients: Math.max(1, ctx.sampled.length),
        maxWeight: ctx.uniformWeights ? 1 : maxExamples,
        ...(options.fractionalBits === undefined ? {} : { fractionalBits: options.fractionalBits }),
        ...(options.bits === undefined ? {} : { bits: options.bits }),
      });
      const params = encodeParams(encoding);
      const length = totalLength(ctx.shape);
      const waiting = new Set(ctx.sampled);
      const ready: string[] = [];
      const reportClipped = !ctx.uniformWeights; // not under DP
      let server: SecAggServer | undefined;
      let members: string[] = [];
      const toOutbox = (m: Map<number, Uint8Array>): Outbox =>
        new Map([...m].map(([i, b]) => [members[i]!, b]));
      const sync = (): void => {
        waiting.clear();
        for (const i of server!.awaiting()) waiting.add(members[i]!);
      };
      return {
        paramsFor: () => params,
        onFitRes(client: string, res: FitRes): void {
          if (server !== undefined || !waiting.has(client)) {
            throw new UnseenError('ERR_UNEXPECTED_MESSAGE', `no FIT_RES expected from ${client}`);
          }
          checkHiddenFitRes(res, 'secure');
          ready.push(client);
          waiting.delete(client);
        },
        async onMessage(client: string, payload: Uint8Array): Promise<void> {
          const index = members.indexOf(client);
          if (server === undefined || index < 0) {
            throw new UnseenError(
              'ERR_UNEXPECTED_MESSAGE',
              `no secure aggregation message expected from ${client}`,
            );
          }
          waiting.delete(client);
          await server.receive(index, payload);
        },
        awaiting: () => waiting,
        drop: (client) => {
          waiting.delete(client);
        },
        async advance(): Promise<AggregationStep> {
          if (server === undefined) {
            if (ready.length < 2) {
              throw new UnseenError(
                'ERR_INSUFFICIENT_SHARES',
                `${ready.length} clients trained; secure aggregation needs 2`,
              );
            }
            members = [...ready];
            const n = members.length;
            server = await SecAggServer.create({
              clients: n,
              length: hiddenUpdateLength(length),
              bits: encoding.bits,
              ...(options.neighbours === undefined ? {} : { neighbours: options.neighbours(n) }),
              ...(options.threshold === undefined ? {} : { threshold: options.threshold(n) }),
            });
            const out = toOutbox(server.start());
            sync();
            return { messages: out };
          }
          const step = await server.advance();
          if (step.round !== 'done') {
            sync();
            return { messages: toOutbox(step.messages) };
          }
          waiting.clear();
          const survivors = step.result.survivors;
          const decoded = decodeHiddenAggregate(
            step.result.sum,
            encoding,
            survivors.length,
            reportClipped,
          );
          const sum = splitByShape(decoded.weightedSum, ctx.shape);
          const k = survivors.length;
          return {
            done: {
              sum,
              totalWeight: decoded.totalWeight,
              contributors: survivors.map((i) => members[i]!),
              meanErrorBound:
                (k * 2 ** -(encoding.fractionalBits + 1)) / Math.max(1, decoded.totalWeight),
              ...(decoded.clippedValues === undefined
                ? {}
                : { clippedValues: decoded.clippedValues }),
            },
          };
        },
      };
    },
  };
}

/** The client side of secure aggregation. */
export function secureClientAggregator(): ClientAggregator {
  return {
    mode: 'secure',
    async begin(c: ClientContribution): Promise<ClientAggregation> {
      const encoding = decodeParams(c.task.aggregationParams);
      const weight = c.task.uniformWeights ? 1 : Math.min(c.numExamples, encoding.maxWeight);
      const flat = flatten(c.update);
      // Weight and clipped count travel inside the masked sum; under DP (uniform weights) the
      // count is not sent at all.
      const { data } = encodeHiddenUpdate(flat, encoding, weight, !c.task.uniformWeights);
      const client = await SecAggClient.create({
        input: data,
        expect: { length: hiddenUpdateLength(flat.length), bits: encoding.bits },
      });
      return {
        // Nothing per client in the clear: no update, no example count, no metric.
        fitRes: () => ({ type: 2, round: c.round, numExamples: 0, metrics: {} }),
        onMessage: (payload) => client.handle(payload),
      };
    },
  };
}
