/**
 * X25519 (RFC 7748 section 5): key pairs, public keys, and one secret key agreed with many
 * u-coordinates at once, over concatenated 32-byte elements. It is the key agreement of secure
 * aggregation and the scalar multiplication of the x25519 PSI suite.
 *
 * Backends, fastest first, all giving the same bytes (tests check each against RFC 7748 and
 * against the others):
 * - `node`: node:crypto `diffieHellman`. How keys are imported decides the speed: a public key
 *   from JWK costs about 9 us and from SPKI DER about 80 us (OpenSSL's decoder), against about
 *   37 us for the multiplication itself; a private key from JWK about 45 us and from PKCS#8 DER
 *   about 420 us. So every key goes in through JWK (RFC 8037): about 21k agreements per second
 *   per core in batches, about 20k public keys per second.
 * - `webcrypto`: `subtle.deriveBits` (browsers, Deno, Bun), 64 calls in flight.
 * - `noble`: @noble/curves (audited, pure JavaScript, about 30x slower) where neither exists.
 *
 * Validation, the same on every backend: an input must be a canonical u-coordinate (bit 255
 * clear and below p = 2^255 - 19), and an output must not be all zero, which is what X25519
 * yields for every point of small order (RFC 7748 section 6.1 allows this check). Its scalars
 * are multiples of the cofactor 8, so the small-order component of any other point is removed:
 * u(Q + T) with T of small order gives the result of u(Q). Both checks raise `ERR_INVALID_POINT`
 * with `details.index`, the lowest offending index; nothing is returned after an error.
 * @module
 */
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { base64UrlToBytes, bytesToBase64Url } from './base64url.js';
import { abytes, aint, aoneOf, UnseenError } from './errors.js';
import { type NodeKeyObject, nodeCrypto } from './platform.js';
import { randomBytes } from './random.js';

/** Bytes of an X25519 secret key, public key, u-coordinate and shared secret. */
export const X25519_BYTES = 32;

/** The X25519 implementations, fastest first. */
export const X25519_BACKENDS = ['node', 'webcrypto', 'noble'] as const;
/** Which implementation computes X25519. */
export type X25519Backend = (typeof X25519_BACKENDS)[number];

/** An X25519 key pair (raw 32-byte keys). */
export interface X25519KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Options of {@link x25519Agree}. */
export interface X25519AgreeOptions {
  /** Force a backend; by default {@link defaultX25519Backend}. */
  backend?: X25519Backend;
  /** Index of the first element in the caller's list, added to `details.index` of errors. */
  firstIndex?: number;
}

/** True when the 32 bytes at `offset` are a canonical u-coordinate: bit 255 clear, below p. */
export function isCanonicalX25519(bytes: Uint8Array, offset = 0): boolean {
  if (bytes[offset + 31]! & 0x80) return false;
  if (bytes[offset + 31] !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (bytes[offset + i] !== 0xff) return true;
  return bytes[offset]! < 0xed; // bytes 1..31 equal those of p = 2^255 - 19: compare the lowest
}

/**
 * The canonical u-coordinates of the points of small order on Curve25519 and its twist (the
 * list of libsodium's `has_small_order`): 0 (order 2), 1 (order 4 on the twist), the two points
 * of order 8, and p - 1 (order 4). X25519 of any of them with any scalar is zero.
 */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map((hex) => Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16)));

/**
 * True when the 32 bytes at `offset` are a canonical u-coordinate of a point that is not of
 * small order: a public key that {@link x25519Agree} accepts with any secret key. Cheaper than
 * an agreement; its time depends on the key only through where a non-canonical key fails.
 */
export function isValidX25519PublicKey(bytes: Uint8Array, offset = 0): boolean {
  if (bytes.length < offset + X25519_BYTES || !isCanonicalX25519(bytes, offset)) return false;
  let valid = 1;
  for (const bad of SMALL_ORDER) {
    let diff = 0;
    for (let i = 0; i < X25519_BYTES; i++) diff |= bytes[offset + i]! ^ bad[i]!;
    valid &= diff === 0 ? 0 : 1;
  }
  return valid === 1;
}

function invalidPoint(index: number, reason: string, cause?: unknown): UnseenError {
  return new UnseenError('ERR_INVALID_POINT', `X25519 point ${index}: ${reason}`, {
    details: { index },
    ...(cause === undefined ? {} : { cause }),
  });
}

// ---- node:crypto --------------------------------------------------------------------------------

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

function jwkPrivateKey(secretKey: Uint8Array): NodeKeyObject {
  // RFC 8037 wants `x` beside `d`; Node reads only `d` for a private key (and requires `x` to be
  // a string), which `jwkImportWorks` checks once against RFC 7748's key pair before relying on it.
  const key = { kty: 'OKP', crv: 'X25519', d: bytesToBase64Url(secretKey), x: '' };
  return node!.createPrivateKey({ key, format: 'jwk' });
}

function derPrivateKey(secretKey: Uint8Array): NodeKeyObject {
  const der = pkcs8(secretKey);
  try {
    return node!.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
  }
}

let jwkImport: boolean | undefined;

/** True when a private key imported from `d` alone has the right public key (RFC 7748 6.1). */
function jwkImportWorks(): boolean {
  if (jwkImport === undefined) {
    try {
      const alice = Uint8Array.from(
        '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'.match(/../g)!,
        (h) => Number.parseInt(h, 16),
      );
      jwkImport =
        jwkPrivateKey(alice).export({ format: 'jwk' }).x ===
        'hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo';
    } catch {
      jwkImport = false;
    }
  }
  return jwkImport;
}

/** node:crypto private key object of 32 raw bytes, through JWK where it works (10x faster). */
function nodePrivateKey(secretKey: Uint8Array): NodeKeyObject {
  return jwkImportWorks() ? jwkPrivateKey(secretKey) : derPrivateKey(secretKey);
}

function nodeAgree(
  secretKey: Uint8Array,
  publicKeys: Uint8Array,
  out: Uint8Array,
  firstIndex: number,
): void {
  const privateKey = nodePrivateKey(secretKey);
  for (let at = 0; at < publicKeys.length; at += X25519_BYTES) {
    const x = bytesToBase64Url(publicKeys.subarray(at, at + X25519_BYTES));
    let shared: Uint8Array;
    try {
      const publicKey = node!.createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x },
        format: 'jwk',
      });
      shared = node!.diffieHellman({ privateKey, publicKey });
    } catch (cause) {
      // OpenSSL refuses an all-zero result (RFC 7748 section 6.1), i.e. a small-order point.
      throw invalidPoint(firstIndex + at / X25519_BYTES, 'small-order point', cause);
    }
    out.set(shared, at);
  }
}

// ---- WebCrypto ----------------------------------------------------------------------------------

let webSupport: Promise<boolean> | undefined;

/** True when this platform's WebCrypto implements X25519 (probed once). */
function webX25519(): Promise<boolean> {
  webSupport ??= (async () => {
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined) return false;
    try {
      await subtle.generateKey({ name: 'X25519' }, false, ['deriveBits']);
      return true;
    } catch {
      return false;
    }
  })();
  return webSupport;
}

/** WebCrypto calls in flight: enough to amortise the promise machinery (1.35x over one). */
const WEB_WINDOW = 64;

async function webAgree(
  secretKey: Uint8Array,
  publicKeys: Uint8Array,
  out: Uint8Array,
  firstIndex: number,
): Promise<void> {
  const subtle = globalThis.crypto.subtle;
  const der = pkcs8(secretKey);
  let privateKey: CryptoKey;
  try {
    privateKey = await subtle.importKey('pkcs8', der, { name: 'X25519' }, false, ['deriveBits']);
  } finally {
    der.fill(0);
  }
  const count = publicKeys.length / X25519_BYTES;
  const one = async (i: number): Promise<unknown> => {
    try {
      const at = X25519_BYTES * i;
      const raw = publicKeys.slice(at, at + X25519_BYTES);
      const publicKey = await subtle.importKey('raw', raw, { name: 'X25519' }, false, []);
      const bits = await subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 256);
      out.set(new Uint8Array(bits), at);
      return undefined;
    } catch (cause) {
      return cause ?? new Error('deriveBits failed');
    }
  };
  for (let start = 0; start < count; start += WEB_WINDOW) {
    const end = Math.min(count, start + WEB_WINDOW);
    const jobs: Promise<unknown>[] = [];
    for (let i = start; i < end; i++) jobs.push(one(i));
    const causes = await Promise.all(jobs);
    const failed = causes.findIndex((c) => c !== undefined); // the lowest index of the window
    if (failed >= 0)
      throw invalidPoint(firstIndex + start + failed, 'small-order point', causes[failed]);
  }
}

// ---- noble --------------------------------------------------------------------------------------

function nobleAgree(
  secretKey: Uint8Array,
  publicKeys: Uint8Array,
  out: Uint8Array,
  firstIndex: number,
): void {
  for (let at = 0; at < publicKeys.length; at += X25519_BYTES) {
    try {
      out.set(nobleX25519.scalarMult(secretKey, publicKeys.subarray(at, at + X25519_BYTES)), at);
    } catch (cause) {
      throw invalidPoint(firstIndex + at / X25519_BYTES, 'small-order point', cause); // zero result
    }
  }
}

// ---- API ----------------------------------------------------------------------------------------

/** The backend used when none is forced: node, else WebCrypto with X25519, else noble. */
export async function defaultX25519Backend(): Promise<X25519Backend> {
  if (node !== undefined) return 'node';
  return (await webX25519()) ? 'webcrypto' : 'noble';
}

async function resolve(backend: X25519Backend | undefined): Promise<X25519Backend> {
  if (backend === undefined) return defaultX25519Backend();
  aoneOf(backend, X25519_BACKENDS, 'X25519 backend');
  if (backend === 'node' && node === undefined) {
    throw new UnseenError('ERR_UNSUPPORTED', 'node:crypto is not available here');
  }
  if (backend === 'webcrypto' && !(await webX25519())) {
    throw new UnseenError('ERR_UNSUPPORTED', 'this platform has no WebCrypto X25519');
  }
  return backend;
}

/**
 * The public key X25519(secretKey, 9) of a 32-byte secret key (any 32 bytes: X25519 clamps them,
 * RFC 7748 section 5).
 * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_UNSUPPORTED`
 * @example
 * ```ts
 * const publicKey = await x25519PublicKey(randomBytes(32));
 * ```
 */
export async function x25519PublicKey(
  secretKey: Uint8Array,
  backend?: X25519Backend,
): Promise<Uint8Array> {
  abytes(secretKey, 'X25519 secret key', X25519_BYTES);
  const b = await resolve(backend);
  if (b === 'node') {
    return base64UrlToBytes(nodePrivateKey(secretKey).export({ format: 'jwk' }).x!, X25519_BYTES);
  }
  if (b === 'webcrypto') {
    const der = pkcs8(secretKey);
    try {
      const subtle = globalThis.crypto.subtle;
      const key = await subtle.importKey('pkcs8', der, { name: 'X25519' }, true, ['deriveBits']);
      return base64UrlToBytes((await subtle.exportKey('jwk', key)).x!, X25519_BYTES);
    } finally {
      der.fill(0);
    }
  }
  return nobleX25519.getPublicKey(secretKey);
}

/**
 * A fresh key pair: 32 bytes from `crypto.getRandomValues` and their public key.
 * @example
 * ```ts
 * const alice = await x25519KeyPair();
 * const bob = await x25519KeyPair();
 * const shared = await x25519Agree(alice.secretKey, bob.publicKey); // = agree(bob, alice)
 * ```
 */
export async function x25519KeyPair(backend?: X25519Backend): Promise<X25519KeyPair> {
  const secretKey = randomBytes(X25519_BYTES);
  return { secretKey, publicKey: await x25519PublicKey(secretKey, backend) };
}

/**
 * X25519(secretKey, u_i) for every 32-byte u-coordinate `u_i` of `publicKeys`, each validated:
 * canonical encoding first (all of them, before the secret key is used), then a non-zero result.
 * @param secretKey 32 bytes (X25519 clamps them)
 * @param publicKeys the u-coordinates back to back, 32 * m bytes (m may be 0)
 * @returns the m results back to back
 * @throws UnseenError `ERR_INVALID_POINT` (non-canonical or small-order element, lowest index in
 *   `details.index`), `ERR_INVALID_ARGUMENT`, `ERR_UNSUPPORTED`
 * @example
 * ```ts
 * const shared = await x25519Agree(mine.secretKey, concatBytes(pkA, pkB, pkC)); // 96 bytes
 * ```
 */
export async function x25519Agree(
  secretKey: Uint8Array,
  publicKeys: Uint8Array,
  options: X25519AgreeOptions = {},
): Promise<Uint8Array> {
  abytes(secretKey, 'X25519 secret key', X25519_BYTES);
  abytes(publicKeys, 'X25519 public keys');
  if (publicKeys.length % X25519_BYTES !== 0) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `X25519 public keys: expected a multiple of 32 bytes, got ${publicKeys.length}`,
    );
  }
  const firstIndex = aint(options.firstIndex ?? 0, 'firstIndex', 0);
  for (let at = 0; at < publicKeys.length; at += X25519_BYTES) {
    if (!isCanonicalX25519(publicKeys, at)) {
      throw invalidPoint(firstIndex + at / X25519_BYTES, 'non-canonical encoding');
    }
  }
  const b = await resolve(options.backend);
  const out = new Uint8Array(publicKeys.length);
  try {
    if (b === 'node') nodeAgree(secretKey, publicKeys, out, firstIndex);
    else if (b === 'webcrypto') await webAgree(secretKey, publicKeys, out, firstIndex);
    else nobleAgree(secretKey, publicKeys, out, firstIndex);
    // Every backend refuses a zero result today; check anyway, in constant time per element.
    for (let at = 0; at < out.length; at += X25519_BYTES) {
      let acc = 0;
      for (let i = 0; i < X25519_BYTES; i++) acc |= out[at + i]!;
      if (acc === 0) throw invalidPoint(firstIndex + at / X25519_BYTES, 'small-order point');
    }
  } catch (e) {
    out.fill(0); // no shared secret outlives a failed batch
    throw e;
  }
  return out;
}
