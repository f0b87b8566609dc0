/**
 * The `ristretto255` group suite (RFC 9496): a prime-order group with canonical 32-byte
 * encodings, in pure JavaScript through @noble/curves, so it runs wherever JavaScript does.
 * Hashing is `hash_to_ristretto255` (RFC 9380 appendix B: expand_message_xmd with SHA-512 to 64
 * bytes, then the RFC 9496 section 4.3.4 element derivation); decoding rejects non-canonical
 * encodings (noble follows RFC 9496 4.3.1) and this module also rejects the identity.
 * @module
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { randomBytes, UnseenError } from '@unseen/core';
import { decodeLE, encodeLE } from './field25519.js';
import { dstPrime, expandMessageXmd } from './xmd.js';

const Point = ristretto255.Point;
const Fn = Point.Fn;

/** A uniformly random non-zero scalar mod l, 32 bytes little-endian (64 random bytes reduced). */
export function ristrettoKey(): Uint8Array {
  for (;;) {
    const wide = randomBytes(64);
    const s = (decodeLE(wide, 0) + (decodeLE(wide, 32) << 256n)) % Fn.ORDER;
    if (s !== 0n) return scalarBytes(s);
  }
}

function scalarBytes(s: bigint): Uint8Array {
  const out = new Uint8Array(32);
  encodeLE(s, out, 0);
  return out;
}

/** A blinding pair: a random scalar and its inverse mod l. */
export function ristrettoBlindingPair(): { blind: Uint8Array; unblind: Uint8Array } {
  const blind = ristrettoKey();
  return { blind, unblind: scalarBytes(Fn.inv(decodeLE(blind))) };
}

/**
 * hash_to_ristretto255 of every message (packed as in `hashToCurve25519U`), each multiplied by
 * `scalar` when one is given, as 32-byte encodings.
 */
export function ristrettoHash(
  data: Uint8Array,
  offsets: Uint32Array,
  dst: Uint8Array,
  scalar?: Uint8Array,
): Uint8Array {
  const count = offsets.length - 1;
  const out = new Uint8Array(32 * count);
  const prime = dstPrime(dst);
  const s = scalar === undefined ? undefined : decodeLE(scalar);
  for (let i = 0; i < count; i++) {
    const uniform = expandMessageXmd(data.subarray(offsets[i]!, offsets[i + 1]!), prime, 64);
    let p = ristretto255_hasher.deriveToCurve!(uniform);
    if (s !== undefined) p = p.multiply(s);
    out.set(p.toBytes(), 32 * i);
  }
  return out;
}

function invalidPoint(index: number, reason: string, cause?: unknown): UnseenError {
  return new UnseenError('ERR_INVALID_POINT', `ristretto255 element ${index}: ${reason}`, {
    details: { index },
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Decodes every 32-byte element of `points`, rejecting invalid or non-canonical encodings and
 * the identity, and returns the encodings of [scalar] times each.
 * @throws UnseenError `ERR_INVALID_POINT`
 */
export function ristrettoMultiply(
  scalar: Uint8Array,
  points: Uint8Array,
  firstIndex = 0,
): Uint8Array {
  const count = points.length / 32;
  const out = new Uint8Array(points.length);
  const s = decodeLE(scalar);
  for (let i = 0; i < count; i++) {
    let p: InstanceType<typeof Point>;
    try {
      p = Point.fromBytes(points.subarray(32 * i, 32 * i + 32));
    } catch (cause) {
      throw invalidPoint(firstIndex + i, 'not a canonical ristretto255 encoding', cause);
    }
    if (p.is0()) throw invalidPoint(firstIndex + i, 'the identity');
    out.set(p.multiply(s).toBytes(), 32 * i);
  }
  return out;
}
