// A task module: the functions that run inside the pool's workers.
import { sha256, UnseenError } from '@unseen/core';
import { defineTasks } from '@unseen/workers';

export const hashTasks = defineTasks('@unseen/example/hash', import.meta.url, {
  /** SHA-256 of each of `count` equal slices of `chunk`. */
  digestSlices(chunk: Uint8Array, count: number): Uint8Array {
    if (!Number.isSafeInteger(count) || count < 1 || chunk.length % count !== 0) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `cannot cut ${chunk.length} bytes into ${count} slices`,
      );
    }
    const size = chunk.length / count;
    const out = new Uint8Array(32 * count);
    for (let i = 0; i < count; i++)
      out.set(sha256(chunk.subarray(i * size, (i + 1) * size)), 32 * i);
    return out; // a fresh array: its buffer moves back to the caller
  },
});
