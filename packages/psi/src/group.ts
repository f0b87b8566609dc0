/**
 * The two group suites behind one interface, and the per-chunk computations the protocol runs
 * (in workers through `tasks.ts`, or inline): hash to the group, multiply by a scalar, and derive
 * the PRF tags that the server's setup stores and the client looks up.
 *
 * Domain separation (RFC 9380 section 3.1): hashes use the tag `unseen-psi-v1-` followed by the
 * RFC suite identifier; PRF tags are SHA-256 over `unseen-psi-v1-tag`, the suite byte and the
 * group element, so tags of different suites or purposes never collide.
 * @module
 */
import { utf8ToBytes, x25519Agree } from '@unseen/core';
import { decodeLE } from './field25519.js';
import { hashToCurve25519U } from './hash-curve25519.js';
import {
  ristrettoBlindingPair,
  ristrettoHash,
  ristrettoKey,
  ristrettoMultiply,
} from './ristretto.js';
import { sha256 } from './sha.js';
import { GROUP_ORDER, x25519BlindingPair, x25519Key } from './x25519.js';

/** The group suites: platform X25519 over curve25519, or ristretto255 in pure JavaScript. */
export const SUITES = ['x25519', 'ristretto255'] as const;
/** A group suite name. */
export type SuiteName = (typeof SUITES)[number];

/** Bytes of one encoded group element (both suites). */
export const ELEMENT_BYTES = 32;
/** Bytes of one PRF tag (SHA-256). */
export const TAG_BYTES = 32;

/** Wire identifier of each suite. */
export const SUITE_IDS: Record<SuiteName, number> = { x25519: 1, ristretto255: 2 };

/** RFC 9380 suite identifiers used in the hashing DSTs. */
export const HASH_SUITES: Record<SuiteName, string> = {
  x25519: 'curve25519_XMD:SHA-512_ELL2_RO_',
  ristretto255: 'ristretto255_XMD:SHA-512_R255MAP_RO_',
};

const DSTS: Record<SuiteName, Uint8Array> = {
  x25519: utf8ToBytes(`unseen-psi-v1-${HASH_SUITES.x25519}`),
  ristretto255: utf8ToBytes(`unseen-psi-v1-${HASH_SUITES.ristretto255}`),
};

/** The hash-to-group DST of a suite. */
export function hashDst(suite: SuiteName): Uint8Array {
  return DSTS[suite];
}

const TAG_PREFIX = utf8ToBytes('unseen-psi-v1-tag');

/** A new secret key for the server. */
export function newKey(suite: SuiteName): Uint8Array {
  return suite === 'x25519' ? x25519Key() : ristrettoKey();
}

/** True when `key` is a key {@link newKey} could have returned for `suite`. */
export function isValidKey(suite: SuiteName, key: Uint8Array): boolean {
  if (key.length !== 32) return false;
  if (suite === 'x25519') return (key[0]! & 7) === 0 && (key[31]! & 0xc0) === 0x40;
  const s = decodeLE(key);
  return s > 0n && s < GROUP_ORDER;
}

/** A client blinding pair: `unblind` undoes `blind` on the group. */
export function newBlindingPair(suite: SuiteName): { blind: Uint8Array; unblind: Uint8Array } {
  return suite === 'x25519' ? x25519BlindingPair() : ristrettoBlindingPair();
}

/** H(m) for each packed message, multiplied by `scalar` when given. */
export async function hashToGroup(
  suite: SuiteName,
  data: Uint8Array,
  offsets: Uint32Array,
  scalar?: Uint8Array,
): Promise<Uint8Array> {
  if (suite === 'ristretto255') return ristrettoHash(data, offsets, DSTS.ristretto255, scalar);
  const hashed = hashToCurve25519U(data, offsets, DSTS.x25519);
  return scalar === undefined ? hashed : x25519Agree(scalar, hashed);
}

/**
 * [scalar] times each encoded element, validating every input element.
 * @throws UnseenError `ERR_INVALID_POINT` (with the element's index from `firstIndex`)
 */
export async function multiply(
  suite: SuiteName,
  scalar: Uint8Array,
  points: Uint8Array,
  firstIndex = 0,
): Promise<Uint8Array> {
  return suite === 'x25519'
    ? x25519Agree(scalar, points, { firstIndex })
    : ristrettoMultiply(scalar, points, firstIndex);
}

/** The PRF tag SHA-256(`unseen-psi-v1-tag` || suite id || F) of every element F. */
export function prfTags(suite: SuiteName, elements: Uint8Array): Uint8Array {
  const count = elements.length / ELEMENT_BYTES;
  const out = new Uint8Array(count * TAG_BYTES);
  const input = new Uint8Array(TAG_PREFIX.length + 1 + ELEMENT_BYTES);
  input.set(TAG_PREFIX);
  input[TAG_PREFIX.length] = SUITE_IDS[suite];
  const at = TAG_PREFIX.length + 1;
  for (let i = 0; i < count; i++) {
    input.set(elements.subarray(ELEMENT_BYTES * i, ELEMENT_BYTES * (i + 1)), at);
    out.set(sha256(input), TAG_BYTES * i);
  }
  return out;
}
