/**
 * Where the heavy loops run: mask expansion and many-key agreement, spread over a worker pool
 * (`@unseen/workers`) in chunks, or inline on the calling thread when the job is too small for a
 * worker to pay off or the caller asks for it (`inline: true`). A client's masked input and the server's unmasking both go through
 * {@link combineMasks}; round-two and unmasking key agreements through {@link agreeMany}.
 * @module
 */
import { type RingBits, UnseenError, X25519_BYTES, x25519Agree } from '@unseen/core';
import { getDefaultPool, type Pool } from '@unseen/workers';
import { maskRange, secAggTasks, WORDS_PER_AES_BLOCK } from './tasks.js';

/** Where and how the heavy loops run. */
export interface ComputeOptions {
  /** Worker pool (default: the shared pool of @unseen/workers, one worker per core). */
  pool?: Pool;
  /** Cancels pooled work (`ERR_ABORTED`). */
  signal?: AbortSignal;
  /**
   * Run every heavy loop on the calling thread, never on a pool (default false: large jobs go to
   * the pool). For a simulation of many parties in one process, where the calling thread would
   * otherwise wait idle for the pool, and for environments without workers.
   */
  inline?: boolean;
}

/** The compute fields of a larger options object (absent fields left out). */
export function computeOptions(options: ComputeOptions): ComputeOptions {
  return {
    ...(options.pool === undefined ? {} : { pool: options.pool }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.inline === undefined ? {} : { inline: options.inline }),
  };
}

/** Below this many word-seed products (about 1 ms of AES-CTR) masks are expanded inline. */
export const INLINE_MASK_WORK = 2 ** 18;
/** Smallest chunk handed to a worker: 16 K words (64 KiB). */
const MIN_CHUNK_WORDS = 16_384;
/** Below this many keys, agreements run inline (about 10 ms with node:crypto). */
export const INLINE_AGREEMENTS = 48;

/** One mask term: a 16-byte PRG seed and whether it is added (+1) or subtracted (-1). */
export interface MaskTerm {
  seed: Uint8Array;
  sign: 1 | -1;
}

function poolOf(options: ComputeOptions): Pool {
  return options.pool ?? getDefaultPool();
}

/**
 * `base + sum_j sign_j * PRG(seed_j)` over `words` words of Z_2^bits (a new array; `base` is not
 * modified). Chunks of the vector go to the pool when the job is large.
 */
export async function combineMasks(
  bits: RingBits,
  words: number,
  terms: readonly MaskTerm[],
  base: Uint32Array | undefined,
  options: ComputeOptions = {},
): Promise<Uint32Array> {
  if (base !== undefined && base.length !== words) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `combineMasks: base of ${base.length} words, expected ${words}`,
    );
  }
  const seeds = new Uint8Array(16 * terms.length);
  const signs = new Int8Array(terms.length);
  terms.forEach((t, j) => {
    seeds.set(t.seed, 16 * j);
    signs[j] = t.sign;
  });
  const start = base === undefined ? null : base.slice();
  if (terms.length === 0) return start ?? new Uint32Array(words);
  const work = words * terms.length;
  const pool = options.inline === true || work < INLINE_MASK_WORK ? undefined : poolOf(options);
  // About 4 chunks per worker, at least 16 K words each, aligned to AES blocks (4 words).
  const chunks =
    pool === undefined ? 1 : Math.min(4 * pool.size, Math.floor(words / MIN_CHUNK_WORDS));
  if (pool === undefined || chunks <= 1) return maskRange(bits, 0, words, seeds, signs, start);
  const step = Math.ceil(words / chunks / WORDS_PER_AES_BLOCK) * WORDS_PER_AES_BLOCK;
  const args: Parameters<typeof maskRange>[] = [];
  for (let from = 0; from < words; from += step) {
    const n = Math.min(step, words - from);
    args.push([bits, from, n, seeds, signs, start === null ? null : start.slice(from, from + n)]);
  }
  const parts = await pool.map(secAggTasks, 'maskRange', args, {
    transfer: (a) => (a[5] === null ? [] : [a[5].buffer]),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const out = start ?? new Uint32Array(words);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * X25519 of `secretKey` with each 32-byte key of `publicKeys`: inline for a few keys, in chunks on
 * the pool for many (a server recovering a dropped client's masks, a client of the full protocol).
 * @throws UnseenError `ERR_INVALID_POINT` with the index of a bad key
 */
export async function agreeMany(
  secretKey: Uint8Array,
  publicKeys: Uint8Array,
  options: ComputeOptions = {},
): Promise<Uint8Array> {
  const count = publicKeys.length / X25519_BYTES;
  if (options.inline === true || count < INLINE_AGREEMENTS)
    return x25519Agree(secretKey, publicKeys);
  const pool = poolOf(options);
  if (pool.size === 0) return x25519Agree(secretKey, publicKeys);
  const chunks = Math.min(2 * pool.size, Math.ceil(count / (INLINE_AGREEMENTS / 2)));
  const per = Math.ceil(count / chunks);
  const args: [Uint8Array, Uint8Array, number][] = [];
  for (let i = 0; i < count; i += per) {
    const end = Math.min(count, i + per);
    args.push([secretKey, publicKeys.slice(X25519_BYTES * i, X25519_BYTES * end), i]);
  }
  const parts = await pool.map(secAggTasks, 'agree', args, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const out = new Uint8Array(publicKeys.length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
