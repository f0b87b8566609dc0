/**
 * The heavy loops of PSI as worker tasks (`@unseen/workers`): each call handles one chunk of
 * items, so that `pool.map` spreads a set over every core. The same functions run inline when
 * the pool has no workers.
 * @module
 */
import { defineTasks } from '@unseen/workers';
import { hashToGroup, multiply, prfTags, type SuiteName } from './group.js';
import { encryptValuesTask } from './paillier-task.js';

/** Elements (32 bytes each) and, when asked for, their PRF tags (32 bytes each). */
export interface Evaluated {
  elements: Uint8Array;
  tags?: Uint8Array;
}

/** The task module of @unseen/psi. */
export const psiTasks = defineTasks('@unseen/psi', import.meta.url, {
  /** Hashes packed items to the group and multiplies them by `scalar` (client blinding, server PRF). */
  async hash(
    suite: SuiteName,
    scalar: Uint8Array,
    data: Uint8Array,
    offsets: Uint32Array,
    tags: boolean,
  ): Promise<Evaluated> {
    const elements = await hashToGroup(suite, data, offsets, scalar);
    return tags ? { elements, tags: prfTags(suite, elements) } : { elements };
  },
  /** Multiplies received elements by `scalar`, validating each (server response, client unblinding). */
  async multiply(
    suite: SuiteName,
    scalar: Uint8Array,
    points: Uint8Array,
    firstIndex: number,
    tags: boolean,
  ): Promise<Evaluated> {
    const elements = await multiply(suite, scalar, points, firstIndex);
    return tags ? { elements, tags: prfTags(suite, elements) } : { elements };
  },
  /** Paillier-encrypts sum-mode values under a serialized public key. */
  encryptValues(publicKey: Uint8Array, values: bigint[]): Promise<Uint8Array> {
    return encryptValuesTask(publicKey, values);
  },
});
