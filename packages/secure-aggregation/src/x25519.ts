/**
 * X25519 key agreement (RFC 7748), the key agreement KA of Bonawitz et al.: key pairs, public keys
 * from secret keys (the server needs them to check a reconstructed mask key), and one secret key
 * agreed with many public keys at once.
 *
 * Backends, fastest first: node:crypto `diffieHellman` with keys imported from JWK (measured here
 * about 15x faster than pure JavaScript), WebCrypto `deriveBits` (browsers, Deno, Bun), and
 * @noble/curves (audited, pure JavaScript) where neither has X25519. All give the same bytes; tests
 * check each against RFC 7748 section 6.1.
 *
 * Validation: a public key must be a canonical u-coordinate (below p = 2^255 - 19, top bit clear),
 * and an agreement must not be all zero, which is what every small-order point (and every point
 * with a small-order component, since X25519 scalars are multiples of the cofactor 8) yields.
 * Both raise `ERR_INVALID_POINT` with the index of the offending key.
 * @module
 */
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { abytes, randomBytes, UnseenError } from '@unseen/core';
import { nodeCrypto } from './platform.js';

/** Bytes of an X25519 secret key, public key and shared secret. */
export const X25519_BYTES = 32;

/** Which implementation computes X25519. */
export type X25519Backend = 'node' | 'webcrypto' | 'noble';

/** An X25519 key pair (raw 32-byte keys). */
export interface X25519KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

const node = nodeCrypto;

/** PKCS#8 DER prefix of an X25519 private key (RFC 8410 section 7): the 32 key bytes follow. */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

function pkcs8(secretKey: Uint8Array): Uint8Array<ArrayBuffer> {
  const der = new Uint8Array(PKCS8_PREFIX.length + X25519_BYTES);
  der.set(PKCS8_PREFIX);
  der.set(secretKey, PKCS8_PREFIX.length);
  return der;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64URL_INDEX[B64URL.charCodeAt(i)] = i;

/** base64url without padding (RFC 4648 section 5), as JWK wants it (RFC 8037). */
export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += B64URL[n >>> 18]! + B64URL[(n >>> 12) & 63]! + B64URL[(n >>> 6) & 63]!;
  }
  return s;
}

/** Decodes unpadded base64url of a known byte length. */
export function fromBase64Url(text: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length && o < length; i++) {
    const v = B64URL_INDEX[text.charCodeAt(i)] ?? -1;
    if (v < 0) throw new UnseenError('ERR_INTERNAL', 'invalid base64url from the platform');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (o !== length) throw new UnseenError('ERR_INTERNAL', 'short base64url from the platform');
  return out;
}

/** True when `bytes[offset..offset+32)` is a canonical u-coordinate: bit 255 clear, below p. */
export function isCanonicalX25519(bytes: Uint8Array, offset = 0): boolean {
  if (bytes[offset + 31]! & 0x80) return false;
  if (bytes[offset + 31] !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (bytes[offset + i] !== 0xff) return true;
  return bytes[offset]! < 0xed; // bytes 1..31 equal those of p = 2^255 - 19
}

/**
 * The canonical u-coordinates of the points of small order on Curve25519 and its twist (the
 * blacklist of libsodium's `has_small_order`): 0 (order 2), 1 and p - 1 (order 4), and the two
 * points of order 8. X25519 of any of them with any scalar is zero.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16)));

/**
 * True when the 32 bytes at `offset` are a canonical encoding of a point that is not of small
 * order: a valid public key. Cheaper than an agreement; constant time in the key.
 */
export function isValidX25519PublicKey(bytes: Uint8Array, offset = 0): boolean {
  if (bytes.length < offset + X25519_BYTES || !isCanonicalX25519(bytes, offset)) return false;
  for (const bad of SMALL_ORDER) {
    let diff = 0;
    for (let i = 0; i < X25519_BYTES; i++) diff |= bytes[offset + i]! ^ bad[i]!;
    if (diff === 0) return false;
  }
  return true;
}

function isZero(bytes: Uint8Array, offset: number): boolean {
  let acc = 0;
  for (let i = 0; i < X25519_BYTES; i++) acc |= bytes[offset + i]!;
  return acc === 0;
}

function invalidKey(index: number, reason: string, cause?: unknown): UnseenError {
  return new UnseenError('ERR_INVALID_POINT', `X25519 public key ${index}: ${reason}`, {
    details: { index },
    ...(cause === undefined ? {} : { cause }),
  });
}

let webSupport: Promise<boolean> | undefined;

/** True when this platform's WebCrypto implements X25519 (probed once). */
function webX25519(): Promise<boolean> {
  webSupport ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined) return false;
    try {
      await subtle.generateKey({ name: 'X25519' }, true, ['deriveBits']);
      return true;
    } catch {
      return false;
    }
  })();
  return webSupport;
}

/** The backend used when none is forced: node, else WebCrypto with X25519, else noble. */
export async function defaultX25519Backend(): Promise<X25519Backend> {
  if (node !== undefined) return 'node';
  return (await webX25519()) ? 'webcrypto' : 'noble';
}

async function resolve(backend: X25519Backend | undefined): Promise<X25519Backend> {
  const b = backend ?? (await defaultX25519Backend());
  if (b === 'node' && node === undefined) {
    throw new UnseenError('ERR_UNSUPPORTED', 'node:crypto is not available here');
  }
  if (b === 'webcrypto' && !(await webX25519())) {
    throw new UnseenError('ERR_UNSUPPORTED', 'this platform has no WebCrypto X25519');
  }
  return b;
}

/**
 * The public key of a 32-byte secret key (any 32 bytes: X25519 clamps them).
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export async function x25519PublicKey(
  secretKey: Uint8Array,
  backend?: X25519Backend,
): Promise<Uint8Array> {
  abytes(secretKey, 'X25519 secret key', X25519_BYTES);
  const b = await resolve(backend);
  if (b === 'node') {
    const jwk = node!
      .createPublicKey(
        node!.createPrivateKey({ key: pkcs8(secretKey), format: 'der', type: 'pkcs8' }),
      )
      .export({ format: 'jwk' });
    return fromBase64Url(jwk.x!, X25519_BYTES);
  }
  if (b === 'webcrypto') {
    const subtle = globalThis.crypto.subtle;
    const key = await subtle.importKey('pkcs8', pkcs8(secretKey), { name: 'X25519' }, true, [
      'deriveBits',
    ]);
    const jwk = await subtle.exportKey('jwk', key);
    return fromBase64Url(jwk.x!, X25519_BYTES);
  }
  return nobleX25519.getPublicKey(secretKey);
}

/** A fresh key pair: 32 bytes from `crypto.getRandomValues` and their public key. */
export async function x25519KeyPair(backend?: X25519Backend): Promise<X25519KeyPair> {
  const secretKey = randomBytes(X25519_BYTES);
  return { secretKey, publicKey: await x25519PublicKey(secretKey, backend) };
}

/**
 * X25519(secretKey, publicKey_i) for every 32-byte public key in `publicKeys`, each validated.
 * @param publicKeys the keys back to back (32 * m bytes)
 * @param firstIndex index of the first key in the caller's list, for error details
 * @returns the m shared secrets back to back
 * @throws UnseenError `ERR_INVALID_POINT` (non-canonical or small-order key),
 *   `ERR_INVALID_ARGUMENT`, `ERR_UNSUPPORTED`
 */
export async function x25519Agree(
  secretKey: Uint8Array,
  publicKeys: Uint8Array,
  backend?: X25519Backend,
  firstIndex = 0,
): Promise<Uint8Array> {
  abytes(secretKey, 'X25519 secret key', X25519_BYTES);
  abytes(publicKeys, 'X25519 public keys');
  if (publicKeys.length % X25519_BYTES !== 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'X25519 public keys: not a multiple of 32 bytes');
  }
  const count = publicKeys.length / X25519_BYTES;
  for (let i = 0; i < count; i++) {
    if (!isCanonicalX25519(publicKeys, X25519_BYTES * i)) {
      throw invalidKey(firstIndex + i, 'non-canonical encoding');
    }
  }
  const out = new Uint8Array(publicKeys.length);
  const b = await resolve(backend);
  if (b === 'node') {
    const privateKey = node!.createPrivateKey({
      key: pkcs8(secretKey),
      format: 'der',
      type: 'pkcs8',
    });
    for (let i = 0; i < count; i++) {
      const at = X25519_BYTES * i;
      try {
        const publicKey = node!.createPublicKey({
          key: { kty: 'OKP', crv: 'X25519', x: toBase64Url(publicKeys.subarray(at, at + 32)) },
          format: 'jwk',
        });
        out.set(node!.diffieHellman({ privateKey, publicKey }), at);
      } catch (cause) {
        throw invalidKey(firstIndex + i, 'small-order point', cause); // OpenSSL refuses a zero result
      }
    }
  } else if (b === 'webcrypto') {
    const subtle = globalThis.crypto.subtle;
    const privateKey = await subtle.importKey(
      'pkcs8',
      pkcs8(secretKey),
      { name: 'X25519' },
      false,
      ['deriveBits'],
    );
    for (let i = 0; i < count; i++) {
      const at = X25519_BYTES * i;
      try {
        const publicKey = await subtle.importKey(
          'raw',
          publicKeys.slice(at, at + 32),
          { name: 'X25519' },
          false,
          [],
        );
        const bits = await subtle.deriveBits(
          { name: 'X25519', public: publicKey },
          privateKey,
          256,
        );
        out.set(new Uint8Array(bits), at);
      } catch (cause) {
        throw invalidKey(firstIndex + i, 'small-order point', cause);
      }
    }
  } else {
    for (let i = 0; i < count; i++) {
      const at = X25519_BYTES * i;
      try {
        out.set(nobleX25519.getSharedSecret(secretKey, publicKeys.subarray(at, at + 32)), at);
      } catch (cause) {
        throw invalidKey(firstIndex + i, 'small-order point', cause);
      }
    }
  }
  for (let i = 0; i < count; i++) {
    if (isZero(out, X25519_BYTES * i)) {
      out.fill(0);
      throw invalidKey(firstIndex + i, 'small-order point');
    }
  }
  return out;
}
