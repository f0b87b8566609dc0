/**
 * `encryptContribution`: a contributor's vector, checked against the parameters' range, encoded
 * and encrypted (CKKS or BFV through SEAL), in the compact wire form of `seal/wire.ts`. Long
 * vectors are split over ciphertexts and, from {@link PARALLEL_MIN_CIPHERTEXTS} ciphertexts on,
 * over the workers of a pool (one SEAL instance per worker).
 * @module
 */
import { UnseenError } from '@unseen/core';
import { getDefaultPool, type Pool } from '@unseen/workers';
import {
  CONTRIBUTION_HEADER_BYTES,
  decodeVectorParams,
  TYPE_CONTRIBUTION,
  type VectorParams,
} from './seal/params.js';
import { encodeContributionHeader, packWords } from './seal/wire.js';
import { encryptCiphertexts, homomorphicTasks } from './tasks.js';

/** From this many ciphertexts on, encryption is spread over the pool (measured break-even). */
export const PARALLEL_MIN_CIPHERTEXTS = 8;

/** Options of {@link encryptContribution}. */
export interface EncryptOptions {
  /** Worker pool for long vectors (default: the shared pool); `null` encrypts on this thread. */
  pool?: Pool | null;
  /** Cancels a parallel encryption (`ERR_ABORTED`). */
  signal?: AbortSignal;
}

/**
 * Checks a contributor's values: the right typed array, the right length, every value finite and
 * within [-valueBound, valueBound].
 * @throws UnseenError `ERR_INVALID_ARGUMENT` (type, length, NaN), `ERR_OVERFLOW` (out of range)
 */
export function checkValues(params: VectorParams, values: unknown): Float64Array | BigInt64Array {
  if (params.scheme === 'ckks') {
    if (!(values instanceof Float64Array)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'CKKS contributions are Float64Arrays');
    }
  } else if (!(values instanceof BigInt64Array)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'BFV contributions are BigInt64Arrays');
  }
  if (values.length !== params.length) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `contribution has ${values.length} values; the parameters fix ${params.length}`,
      { details: { length: values.length, expected: params.length } },
    );
  }
  if (values instanceof Float64Array) {
    const b = params.valueBound as number;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!(v <= b && v >= -b)) {
        throw new UnseenError(
          Number.isNaN(v) ? 'ERR_INVALID_ARGUMENT' : 'ERR_OVERFLOW',
          `value at index ${i} is ${Number.isNaN(v) ? 'NaN' : `outside [-${b}, ${b}]`}`,
          { details: { index: i } },
        );
      }
    }
  } else {
    const b = params.valueBound as bigint;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v > b || v < -b) {
        throw new UnseenError('ERR_OVERFLOW', `value at index ${i} is outside [-${b}, ${b}]`, {
          details: { index: i },
        });
      }
    }
  }
  return values;
}

async function encryptWords(
  publicParams: Uint8Array,
  params: VectorParams,
  values: Float64Array | BigInt64Array,
  options: EncryptOptions,
): Promise<Uint32Array> {
  const cts = params.ciphertexts;
  const pool = options.pool === undefined ? getDefaultPool() : options.pool;
  if (pool === null || pool.size < 2 || cts < PARALLEL_MIN_CIPHERTEXTS) {
    return encryptCiphertexts(publicParams, values, cts);
  }
  // About two chunks per worker: balances without paying the per-call cost too often.
  const chunks = Math.min(cts, 2 * pool.size);
  const per = Math.ceil(cts / chunks);
  const args: [Uint8Array, Float64Array | BigInt64Array, number][] = [];
  for (let first = 0; first < cts; first += per) {
    const count = Math.min(per, cts - first);
    const from = first * params.slots;
    const slice = values.slice(from, Math.min(values.length, from + count * params.slots));
    args.push([publicParams, slice, count]);
  }
  const parts = await pool.map(homomorphicTasks, 'encryptCiphertexts', args, {
    transfer: ([, v]) => [v.buffer],
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const perCt = parts[0]!.length / args[0]![2];
  const words = new Uint32Array(cts * perCt);
  let off = 0;
  for (const part of parts) {
    words.set(part, off);
    off += part.length;
  }
  return words;
}

/**
 * Encrypts a contributor's vector under the key holder's public parameters.
 * @param publicParams `holder.publicParams`
 * @param values Float64Array (CKKS) or BigInt64Array (BFV) of exactly `length` values in range
 * @returns the contribution: header (parameter hash, random id) and ciphertexts at the lowest
 * level, `ceil(bits(q) / 8)` bytes per coefficient
 * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_OVERFLOW`, `ERR_MALFORMED_MESSAGE` (bad
 * parameters)
 * @example
 * ```ts
 * const contribution = await encryptContribution(holder.publicParams, Float64Array.of(0.5, -0.25));
 * ```
 */
export async function encryptContribution(
  publicParams: Uint8Array,
  values: Float64Array | BigInt64Array,
  options: EncryptOptions = {},
): Promise<Uint8Array> {
  const params = decodeVectorParams(publicParams);
  checkValues(params, values);
  const words = await encryptWords(publicParams, params, values, options);
  const out = new Uint8Array(params.contributionBytes);
  encodeContributionHeader(params, TYPE_CONTRIBUTION, 1, out);
  packWords(params, words, out.subarray(CONTRIBUTION_HEADER_BYTES));
  return out;
}
