/**
 * SHA-512 and SHA-256 for the hot loops of the PSI tasks: node:crypto's one-shot `crypto.hash`
 * where the platform has it (Node 20.12+, about 3x faster than a JavaScript SHA-2 on short
 * inputs), @noble/hashes elsewhere. Both compute the same FIPS 180-4 functions; the tests check
 * them against each other.
 * @module
 */
import { sha256 as nobleSha256, sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from '@unseen/core';

const native = typeof nodeCrypto?.hash === 'function' ? nodeCrypto.hash : undefined;

/** SHA-512 of `data`. */
export const sha512: (data: Uint8Array) => Uint8Array = native
  ? (data) => native('sha512', data, 'buffer')
  : (data) => nobleSha512(data);

/** SHA-256 of `data`. */
export const sha256: (data: Uint8Array) => Uint8Array = native
  ? (data) => native('sha256', data, 'buffer')
  : (data) => nobleSha256(data);

/** Which implementation backs {@link sha512} and {@link sha256}. */
export const shaBackend: 'node' | 'noble' = native ? 'node' : 'noble';
