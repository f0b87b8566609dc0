/**
 * Spreads the per-element work over a worker pool: the elements are cut into chunks, each chunk
 * is one task of `tasks.ts`, and the results are put back in order. Small jobs run inline, where
 * starting a worker would cost more than it saves.
 * @module
 */
import { createPool, getDefaultPool, type Pool } from '@unseen/workers';
import { ELEMENT_BYTES, type SuiteName, TAG_BYTES } from './group.js';
import { pack } from './items.js';
import { type Evaluated, psiTasks } from './tasks.js';

/** Where and how the heavy loops run. */
export interface ComputeOptions {
  /** Worker pool (default: the shared pool of @unseen/workers, one worker per core). */
  pool?: Pool;
  /** Cancels the computation (`ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** Elements per task: about 50-150 ms of work, small enough to balance two to dozens of cores. */
export const TASK_ITEMS = 1024;
/** Below this many elements the work runs on the calling thread. */
export const INLINE_BELOW = 256;

let inline: Pool | undefined;

function poolFor(count: number, options: ComputeOptions): Pool {
  if (options.pool !== undefined) return options.pool;
  if (count < INLINE_BELOW) {
    inline ??= createPool({ size: 0 });
    return inline;
  }
  return getDefaultPool();
}

function gather(parts: Evaluated[], count: number, tags: boolean): Evaluated {
  const elements = new Uint8Array(count * ELEMENT_BYTES);
  const tagBytes = tags ? new Uint8Array(count * TAG_BYTES) : undefined;
  let at = 0;
  for (const p of parts) {
    elements.set(p.elements, at * ELEMENT_BYTES);
    if (tagBytes !== undefined) tagBytes.set(p.tags!, at * TAG_BYTES);
    at += p.elements.length / ELEMENT_BYTES;
  }
  return tagBytes === undefined ? { elements } : { elements, tags: tagBytes };
}

/** [scalar]H(x) for every element's bytes (and their PRF tags when `tags`). */
export async function hashItems(
  suite: SuiteName,
  scalar: Uint8Array,
  bytes: readonly Uint8Array[],
  tags: boolean,
  options: ComputeOptions = {},
): Promise<Evaluated> {
  const count = bytes.length;
  if (count === 0) return gather([], 0, tags);
  const args: [SuiteName, Uint8Array, Uint8Array, Uint32Array, boolean][] = [];
  for (let from = 0; from < count; from += TASK_ITEMS) {
    const { data, offsets } = pack(bytes, from, Math.min(count, from + TASK_ITEMS));
    args.push([suite, scalar, data, offsets, tags]);
  }
  const parts = await poolFor(count, options).map(psiTasks, 'hash', args, {
    transfer: (a) => [a[2].buffer, a[3].buffer],
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return gather(parts, count, tags);
}

/** [scalar]P for every 32-byte element of `elements`, validated (and PRF tags when `tags`). */
export async function multiplyElements(
  suite: SuiteName,
  scalar: Uint8Array,
  elements: Uint8Array,
  tags: boolean,
  options: ComputeOptions = {},
): Promise<Evaluated> {
  const count = elements.length / ELEMENT_BYTES;
  if (count === 0) return gather([], 0, tags);
  const args: [SuiteName, Uint8Array, Uint8Array, number, boolean][] = [];
  for (let from = 0; from < count; from += TASK_ITEMS) {
    const to = Math.min(count, from + TASK_ITEMS);
    args.push([
      suite,
      scalar,
      elements.slice(from * ELEMENT_BYTES, to * ELEMENT_BYTES), // own buffer: transferred
      from,
      tags,
    ]);
  }
  const parts = await poolFor(count, options).map(psiTasks, 'multiply', args, {
    transfer: (a) => [a[2].buffer],
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return gather(parts, count, tags);
}

/** Values per Paillier task: each encryption costs milliseconds. */
const VALUES_PER_TASK = 64;

/** Paillier encryptions of `values` under a serialized public key, spread over the pool. */
export async function encryptValues(
  publicKey: Uint8Array,
  values: readonly bigint[],
  options: ComputeOptions = {},
): Promise<Uint8Array> {
  if (values.length === 0) return new Uint8Array(0);
  const args: [Uint8Array, bigint[]][] = [];
  for (let from = 0; from < values.length; from += VALUES_PER_TASK) {
    args.push([publicKey, values.slice(from, from + VALUES_PER_TASK)]);
  }
  const parts = await poolFor(values.length * 64, options).map(psiTasks, 'encryptValues', args, {
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  const size = parts[0]!.length / args[0]![1].length;
  const out = new Uint8Array(values.length * size);
  for (let i = 0; i < parts.length; i++) out.set(parts[i]!, i * VALUES_PER_TASK * size);
  return out;
}
