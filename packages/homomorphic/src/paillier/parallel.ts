/**
 * Paillier on many values at once, spread over a worker pool: randomizers ahead of time,
 * encryption and decryption of long lists, and packed vectors (many values per ciphertext).
 * Each worker keeps the public key's fixed-base table between calls.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { getDefaultPool, type Pool } from '@unseen/workers';
import { homomorphicTasks } from '../tasks.js';
import type { PaillierPacking } from './packing.js';
import type { PaillierPrivateKey, PaillierPublicKey } from './paillier.js';

/** Options of the parallel Paillier helpers. */
export interface PaillierParallelOptions {
  /** Worker pool (default: the shared pool); `null` runs on this thread. */
  pool?: Pool | null;
  /** Cancels the work (`ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** Below this many operations the pool's per-call cost is not worth it. */
const PARALLEL_MIN = 16;

async function spread<T, R>(
  items: readonly T[],
  options: PaillierParallelOptions,
  inline: (chunk: T[]) => R[],
  remote: (pool: Pool, chunks: T[][], signal: AbortSignal | undefined) => Promise<R[][]>,
): Promise<R[]> {
  const pool = options.pool === undefined ? getDefaultPool() : options.pool;
  if (pool === null || pool.size < 2 || items.length < PARALLEL_MIN) return inline([...items]);
  const chunks: T[][] = [];
  const per = Math.ceil(items.length / (4 * pool.size));
  for (let i = 0; i < items.length; i += per) chunks.push(items.slice(i, i + per));
  return (await remote(pool, chunks, options.signal)).flat();
}

function signalOption(signal: AbortSignal | undefined): { signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

/**
 * `count` fresh randomizers r^n mod n^2, computed in workers: store them, then encrypt with
 * `publicKey.encryptWith(m, r)` at one multiplication each. Use each once.
 */
export async function precomputeRandomizers(
  publicKey: PaillierPublicKey,
  count: number,
  options: PaillierParallelOptions = {},
): Promise<bigint[]> {
  aint(count, 'count', 0);
  const keyBytes = publicKey.toBytes();
  const slots = Array.from({ length: count }, () => 0);
  return spread(
    slots,
    options,
    (chunk) => chunk.map(() => publicKey.randomizer()),
    (pool, chunks, signal) =>
      pool.map(
        homomorphicTasks,
        'paillierRandomizers',
        chunks.map((c) => [keyBytes, c.length] as [Uint8Array, number]),
        signalOption(signal),
      ),
  );
}

/** Encrypts every plaintext (each in [0, n)), in workers. */
export async function encryptMany(
  publicKey: PaillierPublicKey,
  plaintexts: readonly bigint[],
  options: PaillierParallelOptions = {},
): Promise<bigint[]> {
  const keyBytes = publicKey.toBytes();
  return spread(
    plaintexts,
    options,
    (chunk) => chunk.map((m) => publicKey.encrypt(m)),
    (pool, chunks, signal) =>
      pool.map(
        homomorphicTasks,
        'paillierEncrypt',
        chunks.map((c) => [keyBytes, c] as [Uint8Array, bigint[]]),
        signalOption(signal),
      ),
  );
}

/** Decrypts every ciphertext by CRT, in workers (the private key goes to this process's workers). */
export async function decryptMany(
  privateKey: PaillierPrivateKey,
  ciphertexts: readonly bigint[],
  options: PaillierParallelOptions = {},
): Promise<bigint[]> {
  const keyBytes = privateKey.toBytes();
  return spread(
    ciphertexts,
    options,
    (chunk) => chunk.map((c) => privateKey.decrypt(c)),
    (pool, chunks, signal) =>
      pool.map(
        homomorphicTasks,
        'paillierDecrypt',
        chunks.map((c) => [keyBytes, c] as [Uint8Array, bigint[]]),
        signalOption(signal),
      ),
  );
}

/**
 * Packs a vector (each value in [-bound, bound]) and encrypts it: the contribution as one block
 * of ciphertexts (`publicKey.decodeCiphertexts` reads it back, validating each).
 */
export async function encryptPackedVector(
  publicKey: PaillierPublicKey,
  packing: PaillierPacking,
  values: ArrayLike<bigint>,
  options: PaillierParallelOptions = {},
): Promise<Uint8Array> {
  return publicKey.encodeCiphertexts(await encryptMany(publicKey, packing.pack(values), options));
}

/**
 * Decrypts a block of packed ciphertexts holding the sum of `count` vectors of `length` values.
 * @throws UnseenError from the codec, the decryption or the unpacking (`ERR_OVERFLOW` when
 * `count` exceeds the packing's headroom)
 */
export async function decryptPackedVector(
  privateKey: PaillierPrivateKey,
  packing: PaillierPacking,
  block: Uint8Array,
  length: number,
  count: number,
  options: PaillierParallelOptions = {},
): Promise<bigint[]> {
  const cs = privateKey.publicKey.decodeCiphertexts(block);
  return packing.unpack(await decryptMany(privateKey, cs, options), length, count);
}

/** Adds packed blocks ciphertext by ciphertext (the aggregator's step), validating both. */
export function addPackedVectors(
  publicKey: PaillierPublicKey,
  a: Uint8Array,
  b: Uint8Array,
): Uint8Array {
  const x = publicKey.decodeCiphertexts(a);
  const y = publicKey.decodeCiphertexts(b);
  if (x.length !== y.length) {
    throw new UnseenError('ERR_PARAMETER_MISMATCH', 'packed vectors of different lengths');
  }
  return publicKey.encodeCiphertexts(x.map((c, i) => publicKey.add(c, y[i]!)));
}
