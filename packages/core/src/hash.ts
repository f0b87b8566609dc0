/**
 * Hashing and key derivation: SHA-256, HMAC-SHA256 and HKDF-SHA256 (RFC 5869), all from
 * @noble/hashes (audited). One place for them so every package derives keys the same way.
 * @module
 */
import { expand, extract, hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from './bytes.js';
import { abytes, aint } from './errors.js';

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(abytes(data, 'sha256 input'));
}

/** HMAC-SHA256 of `data` under `key`. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(nobleSha256, abytes(key, 'hmac key'), abytes(data, 'hmac data'));
}

function toBytes(v: Uint8Array | string | undefined, title: string): Uint8Array | undefined {
  if (v === undefined) return undefined;
  return typeof v === 'string' ? utf8ToBytes(v) : abytes(v, title);
}

/**
 * HKDF-SHA256 (RFC 5869): extract a pseudo-random key from `ikm` and `salt`, then expand it to
 * `length` bytes bound to `info`. Strings are taken as UTF-8.
 * @param length 1 to 8160 (255 SHA-256 blocks)
 * @example
 * ```ts
 * const maskSeed = hkdf(sharedSecret, sessionId, 'unseen/secagg/pairwise-mask', 16);
 * ```
 */
export function hkdf(
  ikm: Uint8Array,
  salt: Uint8Array | string | undefined,
  info: Uint8Array | string | undefined,
  length: number,
): Uint8Array {
  aint(length, 'hkdf length', 1, 255 * 32);
  return nobleHkdf(
    nobleSha256,
    abytes(ikm, 'ikm'),
    toBytes(salt, 'salt'),
    toBytes(info, 'info'),
    length,
  );
}

/** HKDF-Extract (RFC 5869 section 2.2). */
export function hkdfExtract(ikm: Uint8Array, salt?: Uint8Array | string): Uint8Array {
  return extract(nobleSha256, abytes(ikm, 'ikm'), toBytes(salt, 'salt'));
}

/** HKDF-Expand (RFC 5869 section 2.3). */
export function hkdfExpand(
  prk: Uint8Array,
  info: Uint8Array | string | undefined,
  length: number,
): Uint8Array {
  aint(length, 'hkdf length', 1, 255 * 32);
  return expand(nobleSha256, abytes(prk, 'prk', 32), toBytes(info, 'info'), length);
}
