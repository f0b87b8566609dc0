/**
 * `expand_message_xmd` with SHA-512 (RFC 9380 section 5.3.1), the expander of every hash-to-curve
 * suite this package uses. Written out here so that it runs on the platform's SHA-512 (see
 * `sha.ts`); the tests check it against @noble/curves' implementation and RFC 9380 K.3 vectors
 * through the full suites.
 * @module
 */
import { sha512 } from './sha.js';

/** SHA-512 output size b_in_bytes and block size s_in_bytes. */
const B_IN_BYTES = 64;
const S_IN_BYTES = 128;

/** A prepared DST: DST_prime = DST || I2OSP(len(DST), 1). */
export function dstPrime(dst: Uint8Array): Uint8Array {
  if (dst.length > 255) throw new RangeError('expand_message_xmd: DST longer than 255 bytes');
  const out = new Uint8Array(dst.length + 1);
  out.set(dst);
  out[dst.length] = dst.length;
  return out;
}

/**
 * RFC 9380 5.3.1 `expand_message_xmd(msg, DST, len_in_bytes)` over SHA-512.
 * @param prime DST_prime from {@link dstPrime}
 */
export function expandMessageXmd(
  msg: Uint8Array,
  prime: Uint8Array,
  lenInBytes: number,
): Uint8Array {
  const ell = Math.ceil(lenInBytes / B_IN_BYTES); // 1. ell = ceil(len_in_bytes / b_in_bytes)
  if (ell > 255 || lenInBytes > 65535) throw new RangeError('expand_message_xmd: output too long');
  // 7. msg_prime = Z_pad || msg || l_i_b_str || I2OSP(0, 1) || DST_prime
  const msgPrime = new Uint8Array(S_IN_BYTES + msg.length + 3 + prime.length);
  msgPrime.set(msg, S_IN_BYTES);
  let at = S_IN_BYTES + msg.length;
  msgPrime[at++] = lenInBytes >>> 8;
  msgPrime[at++] = lenInBytes & 0xff;
  msgPrime[at++] = 0;
  msgPrime.set(prime, at);
  const b0 = sha512(msgPrime); // 8. b_0 = H(msg_prime)
  const out = new Uint8Array(ell * B_IN_BYTES);
  const block = new Uint8Array(B_IN_BYTES + 1 + prime.length);
  block.set(prime, B_IN_BYTES + 1);
  // 9. b_1 = H(b_0 || I2OSP(1, 1) || DST_prime)
  // 10-11. b_i = H(strxor(b_0, b_(i - 1)) || I2OSP(i, 1) || DST_prime)
  for (let i = 1; i <= ell; i++) {
    for (let j = 0; j < B_IN_BYTES; j++) {
      block[j] = i === 1 ? b0[j]! : b0[j]! ^ out[(i - 2) * B_IN_BYTES + j]!;
    }
    block[B_IN_BYTES] = i;
    out.set(sha512(block), (i - 1) * B_IN_BYTES);
  }
  return ell * B_IN_BYTES === lenInBytes ? out : out.slice(0, lenInBytes);
}
