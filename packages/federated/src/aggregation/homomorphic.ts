/**
 * Homomorphic aggregation of FedAvg updates under CKKS through @unseen/homomorphic. A key holder
 * (a party other than the server: the model owner, an auditor) publishes CKKS public parameters;
 * each client encrypts `[w * clip(u), w]` (its weight `w` is its example count capped at
 * `maxExamples`, or 1 under DP's uniform weighting); the server adds the ciphertexts without
 * being able to read any and hands only the encrypted sum to the key holder, who decrypts it.
 *
 * The server learns nothing but the number of contributions; the key holder learns the weighted
 * sum and the total weight. If the server and the key holder collude, single updates are
 * exposed (use secure aggregation or threshold decryption where that matters).
 *
 * Error, reported per round as `meanErrorBound`: CKKS decrypts a sum of up to `maxContributions`
 * within the key holder's `errorBound` (absolute, per value, from @unseen/homomorphic's parameter
 * choice); the total weight is an integer and is rounded, so the mean is within
 * `errorBound / sum(w)` of the exact weighted mean of the clipped updates.
 * @module
 */
import { aint, anumber, ByteReader, ByteWriter, UnseenError } from '@unseen/core';
import {
  Aggregator,
  createKeyHolder,
  describeParams,
  type EncryptOptions,
  encryptContribution,
  type KeyHolder,
} from '@unseen/homomorphic';
import { flatten, splitByShape, totalLength, type WeightsShape } from '../tensors.js';
import type { FitRes } from '../wire.js';
import {
  type AggregationStep,
  type ClientAggregation,
  type ClientAggregator,
  type ClientContribution,
  checkHiddenFitRes,
  type RoundContext,
  type ServerAggregation,
  type ServerAggregator,
} from './types.js';

/**
 * The key holder's side as FedAvg uses it: the public parameters and a function that decrypts
 * an encrypted sum (a local `KeyHolder`, or a call to a remote one).
 */
export interface CkksDecryptor {
  publicParams: Uint8Array;
  decrypt(encryptedSum: Uint8Array): Promise<Float64Array>;
}

/** Options of {@link createCkksKeyHolder}. */
export interface CkksKeyHolderOptions {
  shape: WeightsShape;
  /** Most clients per round (default 100). */
  maxClients?: number;
  /** Update values are clipped to [-clip, clip] (default 1). */
  clip?: number;
  /** Largest example count a weight may carry (default 10,000; 1 for DP's uniform weights). */
  maxExamples?: number;
  /** Refuse to decrypt sums of fewer contributions (default 2). */
  minContributions?: number;
  /** Largest acceptable absolute error of a decrypted sum (default: @unseen/homomorphic's). */
  precision?: number;
}

/**
 * Creates a CKKS key holder sized for a model: vectors of the model's length plus one weight,
 * values bounded by `clip * maxExamples`.
 */
export async function createCkksKeyHolder(
  options: CkksKeyHolderOptions,
): Promise<KeyHolder<'ckks'>> {
  const clip = anumber(options.clip ?? 1, 'clip', Number.MIN_VALUE);
  const maxExamples = aint(options.maxExamples ?? 10_000, 'maxExamples', 1);
  return createKeyHolder({
    scheme: 'ckks',
    length: totalLength(options.shape) + 1,
    maxContributions: aint(options.maxClients ?? 100, 'maxClients', 1),
    valueBound: Math.max(1, clip) * maxExamples,
    minContributions: aint(options.minContributions ?? 2, 'minContributions', 1),
    ...(options.precision === undefined ? {} : { precision: options.precision }),
  });
}

/** Options of {@link homomorphicAggregator}. */
export interface HomomorphicOptions {
  /** The key holder (never the server itself in a deployment). */
  keyHolder: CkksDecryptor;
  /** Update values are clipped to [-clip, clip] (default 1). */
  clip?: number;
  /** Largest example count a weight may carry; must match the key holder's value bound. */
  maxExamples?: number;
  /** Fewest contributions whose sum is sent for decryption (default 2). */
  minContributions?: number;
}

function encodeParams(publicParams: Uint8Array, clip: number, maxWeight: number): Uint8Array {
  return new ByteWriter(publicParams.length + 32)
    .f64(clip)
    .u32(maxWeight)
    .varBytes(publicParams)
    .finish();
}

function decodeParams(bytes: Uint8Array): {
  clip: number;
  maxWeight: number;
  publicParams: Uint8Array;
} {
  const r = new ByteReader(bytes, 'homomorphic aggregation params');
  const clip = r.f64('clip');
  const maxWeight = r.u32('max weight');
  const publicParams = r.varBytes('public params').slice();
  r.end();
  anumber(clip, 'clip', Number.MIN_VALUE);
  aint(maxWeight, 'max weight', 1);
  return { clip, maxWeight, publicParams };
}

/** The server side of CKKS aggregation. */
export function homomorphicAggregator(options: HomomorphicOptions): ServerAggregator {
  const clip = anumber(options.clip ?? 1, 'clip', Number.MIN_VALUE);
  const maxExamples = aint(options.maxExamples ?? 10_000, 'maxExamples', 1);
  const holder = options.keyHolder;
  const info = describeParams(holder.publicParams);
  if (info.scheme !== 'ckks') {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'homomorphic aggregation needs CKKS parameters');
  }
  const minContributions = aint(options.minContributions ?? 2, 'minContributions', 1);
  return {
    mode: 'homomorphic',
    async begin(ctx: RoundContext): Promise<ServerAggregation> {
      const length = totalLength(ctx.shape);
      if (info.length !== length + 1) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          `the key holder's vectors hold ${info.length} values; this model needs ${length + 1}`,
        );
      }
      const maxWeight = ctx.uniformWeights ? 1 : maxExamples;
      if (info.valueBound < clip * maxWeight || info.valueBound < maxWeight) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          `the key holder's value bound ${info.valueBound} is below clip * maxExamples`,
        );
      }
      const params = encodeParams(holder.publicParams, clip, maxWeight);
      const aggregator = await Aggregator.create(holder.publicParams, {
        minContributions: Math.min(minContributions, info.maxContributions),
      });
      const waiting = new Set(ctx.sampled);
      const announced = new Set<string>();
      const contributors: string[] = [];
      let clipped = 0;
      return {
        paramsFor: () => params,
        onFitRes(client: string, res: FitRes): void {
          if (!waiting.has(client) || announced.has(client)) {
            throw new UnseenError('ERR_UNEXPECTED_MESSAGE', `no FIT_RES expected from ${client}`);
          }
          clipped += checkHiddenFitRes(res, length, 'homomorphic');
          announced.add(client); // its ciphertext follows in an AGGREGATION message
        },
        async onMessage(client: string, payload: Uint8Array): Promise<void> {
          if (!waiting.has(client) || !announced.has(client)) {
            throw new UnseenError(
              'ERR_UNEXPECTED_MESSAGE',
              `no ciphertext expected from ${client}`,
            );
          }
          waiting.delete(client);
          aggregator.add(payload); // validates fully; on error nothing was added
          contributors.push(client);
        },
        awaiting: () => waiting,
        drop: (client) => {
          waiting.delete(client);
        },
        async advance(): Promise<AggregationStep> {
          waiting.clear();
          const sum = await holder.decrypt(aggregator.result());
          const totalWeight = Math.round(sum[length]!);
          const out = splitByShape(sum, ctx.shape);
          return {
            done: {
              sum: out,
              totalWeight,
              contributors,
              meanErrorBound: info.errorBound / Math.max(1, totalWeight),
              clippedValues: clipped,
            },
          };
        },
      };
    },
  };
}

/** The client side of CKKS aggregation. */
export function homomorphicClientAggregator(
  options: Pick<EncryptOptions, 'pool'> = {},
): ClientAggregator {
  return {
    mode: 'homomorphic',
    async begin(c: ClientContribution): Promise<ClientAggregation> {
      const { clip, maxWeight, publicParams } = decodeParams(c.task.aggregationParams);
      const info = describeParams(publicParams);
      const flat = flatten(c.update);
      if (info.scheme !== 'ckks' || info.length !== flat.length + 1) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          'the CKKS parameters do not fit this model',
        );
      }
      const w = c.task.uniformWeights ? 1 : Math.min(c.numExamples, maxWeight);
      const values = new Float64Array(flat.length + 1);
      let clipped = 0;
      for (let i = 0; i < flat.length; i++) {
        let v = flat[i]!;
        if (v > clip) {
          v = clip;
          clipped++;
        } else if (v < -clip) {
          v = -clip;
          clipped++;
        }
        values[i] = w * v;
      }
      values[flat.length] = w;
      return {
        fitRes: () => ({
          type: 2,
          round: c.round,
          numExamples: 0,
          metrics: { clippedValues: clipped },
        }),
        afterFit: () =>
          encryptContribution(
            publicParams,
            values,
            options.pool === undefined ? {} : { pool: options.pool },
          ),
        async onMessage(): Promise<Uint8Array | undefined> {
          throw new UnseenError(
            'ERR_UNEXPECTED_MESSAGE',
            'homomorphic aggregation sends the server nothing',
          );
        },
      };
    },
  };
}
