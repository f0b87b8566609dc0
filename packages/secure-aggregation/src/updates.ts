/**
 * Real-valued updates (model deltas, statistics) with weights (example counts), for federated
 * averaging: each client sends w * clip(x) in fixed point (core's encoding, with clipping
 * reported) and its weight w as one extra element, so the aggregate gives the weighted sum and
 * the total weight, hence the weighted mean, in one secure-aggregation round.
 *
 * Overflow: the sum of `clients` encodings must not wrap modulo 2^bits. With M = round(clip *
 * maxWeight * 2^f), that needs clients * M <= 2^(bits-1) - 1 (core's `fixedPointCapacity`), and
 * clients * maxWeight < 2^32 (2^53 for 64 bits) for the weights; {@link updateEncoding} checks
 * both and, unless told otherwise, uses Z_2^32 when it suffices and Z_2^64 when it does not.
 * @module
 */
import {
  aint,
  anumber,
  aringBits,
  decodeFixedPoint,
  encodeFixedPoint,
  fixedPointCapacity,
  type RingBits,
  UnseenError,
} from '@unseen/core';
import type { ThreatModel } from './analysis.js';
import { type ComputeOptions, computeOptions } from './masks.js';
import type { SecAggRound } from './params.js';
import { type SimulateResult, simulate } from './simulate.js';

/** How updates are encoded; `clients` and the bounds are public parameters of the round. */
export interface UpdateEncodingInput {
  /** Values are clipped to [-clip, clip]. */
  clip: number;
  /** Most clients whose updates are summed. */
  clients: number;
  /** Fractional bits f (default 16 in Z_2^32, 24 in Z_2^64). */
  fractionalBits?: number;
  /** Ring (default: 32 when the sum fits, else 64). */
  bits?: RingBits;
  /** Largest weight a client may report, an integer (default 1: unweighted). */
  maxWeight?: number;
}

/** A checked encoding (every field set). */
export interface UpdateEncoding {
  clip: number;
  clients: number;
  fractionalBits: number;
  bits: RingBits;
  maxWeight: number;
}

function defaultFractionalBits(bits: RingBits): number {
  return bits === 32 ? 16 : 24;
}

function fits(bits: RingBits, f: number, input: UpdateEncodingInput, maxWeight: number): boolean {
  try {
    const capacity = fixedPointCapacity({ bits, fractionalBits: f, clip: input.clip * maxWeight });
    const weightLimit = bits === 32 ? 2 ** 32 - 1 : 2 ** 53;
    return capacity >= input.clients && input.clients * maxWeight <= weightLimit;
  } catch {
    return false;
  }
}

/**
 * Checks an encoding and fills its defaults.
 * @throws UnseenError `ERR_OVERFLOW` when the sum of `clients` updates could wrap around (use 64
 *   bits, fewer fractional bits or a smaller clip); `ERR_INVALID_ARGUMENT`
 * @example
 * ```ts
 * const encoding = updateEncoding({ clip: 1, clients: 20, maxWeight: 600 });
 * // { bits: 32, fractionalBits: 16, ... }: 20 * 600 * 2^16 < 2^31
 * ```
 */
export function updateEncoding(input: UpdateEncodingInput): UpdateEncoding {
  if (typeof input !== 'object' || input === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'updateEncoding: expected options');
  }
  const clip = anumber(input.clip, 'clip', Number.MIN_VALUE);
  const clients = aint(input.clients, 'clients', 1);
  const maxWeight = aint(input.maxWeight ?? 1, 'maxWeight', 1);
  const candidates: RingBits[] = input.bits === undefined ? [32, 64] : [aringBits(input.bits)];
  for (const bits of candidates) {
    const f = aint(
      input.fractionalBits ?? defaultFractionalBits(bits),
      'fractionalBits',
      0,
      bits - 2,
    );
    if (fits(bits, f, input, maxWeight))
      return { clip, clients, fractionalBits: f, bits, maxWeight };
  }
  throw new UnseenError(
    'ERR_OVERFLOW',
    `a sum of ${clients} updates clipped to ${clip} with weights up to ${maxWeight} does not fit ${candidates.join(' or ')} bits: lower fractionalBits, clip or maxWeight`,
    { details: { clients, clip, maxWeight } },
  );
}

/** Ring elements of an encoded update of `length` values: the values and the weight. */
export function encodedUpdateLength(length: number): number {
  return length + 1;
}

/**
 * Encodes `weight * clip(values)` and `weight` as one ring vector for {@link SecAggClient}.
 * @param weight an integer in [0, maxWeight] (an example count)
 * @returns the words and how many values were clipped
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for NaN values or a weight out of range
 */
export function encodeUpdate(
  values: ArrayLike<number>,
  encoding: UpdateEncoding,
  weight = 1,
): { data: Uint32Array; clipped: number } {
  const w = aint(weight, 'weight', 0, encoding.maxWeight);
  const n = values.length;
  const wpe = encoding.bits === 32 ? 1 : 2;
  const data = new Uint32Array((n + 1) * wpe);
  let clipped = 0;
  if (w > 0) {
    const scaled = new Float64Array(n);
    for (let i = 0; i < n; i++) scaled[i] = values[i]! * w;
    const enc = encodeFixedPoint(scaled, {
      bits: encoding.bits,
      fractionalBits: encoding.fractionalBits,
      clip: encoding.clip * w,
    });
    data.set(enc.data);
    clipped = enc.clipped;
  } else {
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(values[i]!)) {
        throw new UnseenError('ERR_INVALID_ARGUMENT', `update: value at index ${i} is NaN`);
      }
      if (Math.abs(values[i]!) > encoding.clip) clipped++;
    }
  }
  data[n * wpe] = w % 2 ** 32; // the weight: low word
  if (wpe === 2) data[n * wpe + 1] = Math.floor(w / 2 ** 32);
  return { data, clipped };
}

/** The decoded aggregate of weighted updates. */
export interface DecodedAggregate {
  /** sum_i w_i * clip(x_i) over the survivors. */
  weightedSum: Float64Array;
  /** sum_i w_i over the survivors. */
  totalWeight: number;
  /** weightedSum / totalWeight (all NaN when the total weight is 0). */
  mean: Float64Array;
}

/**
 * Decodes the sum of `count` encoded updates.
 * @throws UnseenError `ERR_OVERFLOW` when `count` exceeds what the encoding can sum
 */
export function decodeAggregate(
  sum: Uint32Array,
  encoding: UpdateEncoding,
  count: number,
): DecodedAggregate {
  const wpe = encoding.bits === 32 ? 1 : 2;
  if (!(sum instanceof Uint32Array) || sum.length < wpe || sum.length % wpe !== 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'decodeAggregate: not an encoded aggregate');
  }
  const n = sum.length / wpe - 1;
  const weightedSum = decodeFixedPoint(
    sum.subarray(0, n * wpe),
    {
      bits: encoding.bits,
      fractionalBits: encoding.fractionalBits,
      clip: encoding.clip * encoding.maxWeight,
    },
    Math.max(1, count),
  );
  const totalWeight = wpe === 1 ? sum[n]! : sum[2 * n]! + sum[2 * n + 1]! * 2 ** 32;
  const mean = weightedSum.map((v) => v / totalWeight);
  return { weightedSum, totalWeight, mean };
}

/** Options of {@link aggregateUpdates}. */
export interface AggregateUpdatesOptions extends ComputeOptions {
  /** Values are clipped to [-clip, clip]. */
  clip: number;
  /** One weight per update (integers, e.g. example counts; default all 1). */
  weights?: readonly number[];
  /** Largest possible weight, a public bound (default: the largest weight given). */
  maxWeight?: number;
  fractionalBits?: number;
  bits?: RingBits;
  threshold?: number;
  /** Neighbours k (default n - 1, the full protocol). */
  neighbours?: number;
  active?: boolean;
  /** The threat model the parameters must meet (see `secAggParams`). */
  threat?: Partial<ThreatModel>;
  /** Accept parameters outside the analysis (see `secAggParams`): experiments only. */
  allowUnsafeParameters?: boolean;
  /** Per round, the clients that drop (as in {@link simulate}). */
  dropouts?: Partial<Record<SecAggRound, Iterable<number>>>;
}

/** What {@link aggregateUpdates} returns. */
export interface AggregateUpdatesResult extends DecodedAggregate {
  /** The clients whose updates the aggregate contains. */
  survivors: number[];
  /** How many values of each client's update were clipped. */
  clipped: number[];
  encoding: UpdateEncoding;
  /** The round itself: dropouts, bytes and timings. */
  round: Omit<SimulateResult, 'sum'>;
}

/**
 * Securely aggregates real-valued updates with weights in one call: every client's update is
 * encoded, masked and summed by the real protocol (in this process, through {@link simulate}),
 * and the server's sum is decoded. For clients on other machines, use {@link encodeUpdate} with
 * `runSecAggClient` and {@link decodeAggregate} on `runSecAggServer`'s sum.
 * @example
 * ```ts
 * const { mean, totalWeight } = await aggregateUpdates(
 *   [Float32Array.of(0.5, -1), Float32Array.of(0.25, 1), Float32Array.of(0, 0)],
 *   { clip: 1, weights: [10, 30, 60] },
 * ); // mean = [0.125, 0.2], totalWeight = 100
 * ```
 */
export async function aggregateUpdates(
  updates: readonly ArrayLike<number>[],
  options: AggregateUpdatesOptions,
): Promise<AggregateUpdatesResult> {
  if (!Array.isArray(updates) || updates.length < 2) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'aggregateUpdates: expected at least 2 updates');
  }
  const length = updates[0]!.length;
  const weights = options.weights ?? updates.map(() => 1);
  if (weights.length !== updates.length) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'aggregateUpdates: one weight per update');
  }
  const encoding = updateEncoding({
    clip: options.clip,
    clients: updates.length,
    maxWeight: options.maxWeight ?? Math.max(1, ...weights.map((w) => aint(w, 'weight', 0))),
    ...(options.fractionalBits === undefined ? {} : { fractionalBits: options.fractionalBits }),
    ...(options.bits === undefined ? {} : { bits: options.bits }),
  });
  const clipped: number[] = [];
  const inputs = updates.map((u, i) => {
    if (u.length !== length) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `aggregateUpdates: update ${i} has ${u.length} values, update 0 has ${length}`,
      );
    }
    const enc = encodeUpdate(u, encoding, weights[i]!);
    clipped.push(enc.clipped);
    return enc.data;
  });
  const { sum, ...round } = await simulate({
    inputs,
    bits: encoding.bits,
    ...(options.threshold === undefined ? {} : { threshold: options.threshold }),
    ...(options.neighbours === undefined ? {} : { neighbours: options.neighbours }),
    ...(options.active === undefined ? {} : { active: options.active }),
    ...(options.threat === undefined ? {} : { threat: options.threat }),
    ...(options.allowUnsafeParameters === undefined
      ? {}
      : { allowUnsafeParameters: options.allowUnsafeParameters }),
    ...(options.dropouts === undefined ? {} : { dropouts: options.dropouts }),
    ...computeOptions(options),
  });
  const decoded = decodeAggregate(sum, encoding, round.survivors.length);
  return { ...decoded, survivors: round.survivors, clipped, encoding, round };
}
