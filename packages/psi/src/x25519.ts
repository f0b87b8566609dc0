/**
 * The scalars of the `x25519` group suite: the prime-order subgroup of curve25519 seen through
 * u-coordinates, multiplied by @unseen/core's `x25519Agree` (RFC 7748; node:crypto with keys
 * imported from JWK, about 2.5x faster than WebCrypto and 30x faster than pure JavaScript, else
 * WebCrypto, else @noble/curves), which also validates every input element.
 *
 * Why u-coordinates suffice: X25519 computes u([c]Q) from u(Q), and u(-Q) = u(Q), so the suite is
 * the group G / {+-1} with G of prime order l; the map x -> u([k]H(x)) is a well-defined PRF for a
 * fixed key k, and blinding commutes with it: u([c2]([k]([c1]H(x)))) = u([c2 k c1]H(x)).
 *
 * Clamping (RFC 7748 section 5): X25519 uses the scalar 2^254 + 8m (m < 2^251), whatever bytes it
 * is given. On the prime-order subgroup a clamped c acts as c mod l, so every scalar this module
 * uses is a clamped value whose residue mod l is the one the protocol needs: the server key is any
 * clamped value; the client's blinding scalar c1 is drawn until the inverse of c1 mod l also has a
 * clamped representative c2 (about every second draw), so that [c2][c1] is the identity on the
 * subgroup. Because clamped scalars are multiples of the cofactor 8, a small-order input (or the
 * small-order part of a mixed one) is sent to the identity, which X25519 reports as an all-zero
 * output; core refuses that with `ERR_INVALID_POINT`, as it refuses non-canonical encodings.
 * @module
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@unseen/core';
import { decodeLE, encodeLE } from './field25519.js';

/** The prime order l of the curve25519 subgroup (RFC 7748 section 4.1). */
export const GROUP_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

const Fn = ristretto255.Point.Fn; // the field mod l (same l)
const TWO_254 = 1n << 254n;
const TWO_255 = 1n << 255n;
/** l^-1 mod 8: l = 5 (mod 8) and 5 * 5 = 25 = 1 (mod 8). */
const L_INV_MOD_8 = 5n;

/** RFC 7748 decodeScalar25519 applied to 32 bytes in place. */
export function clamp(bytes: Uint8Array): Uint8Array {
  bytes[0]! &= 248;
  bytes[31]! &= 127;
  bytes[31]! |= 64;
  return bytes;
}

/**
 * The clamped value (2^254 <= c < 2^255, 8 | c) congruent to `residue` mod l, if there is one.
 * Candidates are residue + j l; 8 | c fixes j mod 8, and the interval has room for one value of
 * that class at most (8l > 2^255), so at most one candidate exists.
 */
export function clampedRepresentative(residue: bigint): bigint | undefined {
  const t = residue % GROUP_ORDER;
  const j = (((-t * L_INV_MOD_8) % 8n) + 8n) % 8n; // t + j l = 0 (mod 8)
  const c = t + j * GROUP_ORDER;
  return c >= TWO_254 && c < TWO_255 ? c : undefined;
}

function toBytes(c: bigint): Uint8Array {
  const out = new Uint8Array(32);
  encodeLE(c, out, 0);
  return out;
}

/** A fresh server key: a uniformly random clamped scalar (32 bytes). */
export function x25519Key(): Uint8Array {
  return clamp(randomBytes(32));
}

/**
 * A blinding pair for the client: clamped scalars `blind` and `unblind` with
 * blind * unblind = 1 (mod l).
 */
export function x25519BlindingPair(): { blind: Uint8Array; unblind: Uint8Array } {
  for (;;) {
    const blind = clamp(randomBytes(32));
    const residue = decodeLE(blind) % GROUP_ORDER;
    if (residue === 0n) continue; // impossible for clamped values below 2^255, kept for clarity
    const inverse = clampedRepresentative(Fn.inv(residue));
    if (inverse !== undefined) return { blind, unblind: toBytes(inverse) };
  }
}
