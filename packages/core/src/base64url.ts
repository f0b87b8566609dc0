/**
 * base64url without padding (RFC 4648 section 5), the encoding of JWK key material (RFC 7517,
 * RFC 8037) and of compact tokens. The decoder is strict: only the 64 URL-safe characters, no
 * padding, no whitespace, and the unused low bits of the last character must be zero, so every
 * byte string has exactly one accepted encoding.
 * @module
 */
import { abytes, UnseenError } from './errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

/**
 * base64url of `bytes`, unpadded.
 * @example
 * ```ts
 * bytesToBase64Url(new Uint8Array([251, 255])); // '-_8'
 * ```
 */
export function bytesToBase64Url(bytes: Uint8Array): string {
  abytes(bytes, 'bytesToBase64Url');
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s +=
      ALPHABET[n >>> 18]! +
      ALPHABET[(n >>> 12) & 63]! +
      ALPHABET[(n >>> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return s;
}

/**
 * Decodes unpadded base64url.
 * @param length when given, the number of bytes the text must decode to
 * @throws UnseenError `ERR_INVALID_ARGUMENT` on a character outside the alphabet, an impossible
 *   length, non-zero unused bits, or another length than `length`
 */
export function base64UrlToBytes(text: string, length?: number): Uint8Array {
  if (typeof text !== 'string') {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `base64url: expected string, got ${typeof text}`);
  }
  const rest = text.length % 4;
  if (rest === 1) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `base64url: impossible length ${text.length}`);
  }
  const size = ((text.length - rest) / 4) * 3 + (rest === 0 ? 0 : rest - 1);
  if (length !== undefined && size !== length) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `base64url: expected ${length} bytes, got ${size}`,
      { details: { expected: length, actual: size } },
    );
  }
  const out = new Uint8Array(size);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? INDEX[c]! : -1;
    if (v < 0) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `base64url: invalid character at ${i}`);
    }
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'base64url: non-zero unused bits');
  }
  return out;
}
