/**
 * Ed25519 signatures (RFC 8032): long-term identities that sign protocol messages (contributions
 * to an encrypted aggregate, secure-aggregation keys, exchange requests) and the checks of them.
 *
 * node:crypto `sign`/`verify` where the platform has it (OpenSSL, many times faster than pure
 * JavaScript), else @noble/curves (audited); verification is RFC 8032 strict (`zip215: false`:
 * canonical S below L, canonical points), the rule OpenSSL applies too, so both backends accept
 * exactly the same signatures. Tests check both against RFC 8032 section 7.1.
 * @module
 */
import { ed25519 as noble } from '@noble/curves/ed25519.js';
import { base64UrlToBytes, bytesToBase64Url } from './base64url.js';
import { abytes, UnseenError } from './errors.js';
import { type NodeKeyObject, nodeCrypto } from './platform.js';
import { randomBytes } from './random.js';

/** Bytes of an Ed25519 secret key (the RFC 8032 seed). */
export const ED25519_SECRET_BYTES = 32;
/** Bytes of an Ed25519 public key. */
export const ED25519_PUBLIC_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const ED25519_SIGNATURE_BYTES = 64;

/** Which implementation signs and verifies. */
export type Ed25519Backend = 'node' | 'noble';

/** A signing identity: the secret seed and its public verification key. */
export interface SigningKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** DER prefix of a PKCS#8 Ed25519 private key (RFC 8410 section 7), the seed follows. */
const PKCS8_ED25519 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function pick(backend: Ed25519Backend | undefined): Ed25519Backend {
  const chosen = backend ?? (nodeCrypto === undefined ? 'noble' : 'node');
  if (chosen === 'node' && nodeCrypto === undefined) {
    throw new UnseenError('ERR_UNSUPPORTED', 'node:crypto is not available here');
  }
  return chosen;
}

function nodePrivateKey(secretKey: Uint8Array): NodeKeyObject {
  const der = new Uint8Array(PKCS8_ED25519.length + ED25519_SECRET_BYTES);
  der.set(PKCS8_ED25519);
  der.set(secretKey, PKCS8_ED25519.length);
  return nodeCrypto!.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/**
 * The public key of a 32-byte secret key.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for a key of another size
 */
export function ed25519PublicKey(secretKey: Uint8Array, backend?: Ed25519Backend): Uint8Array {
  abytes(secretKey, 'Ed25519 secret key', ED25519_SECRET_BYTES);
  if (pick(backend) === 'noble') return noble.getPublicKey(secretKey);
  const jwk = nodeCrypto!.createPublicKey(nodePrivateKey(secretKey)).export({ format: 'jwk' });
  if (jwk.x === undefined) throw new UnseenError('ERR_INTERNAL', 'node:crypto exported no key');
  return base64UrlToBytes(jwk.x, ED25519_PUBLIC_BYTES);
}

/**
 * A fresh signing identity from `crypto.getRandomValues`.
 * @example
 * ```ts
 * const { secretKey, publicKey } = generateSigningKey(); // publish publicKey, keep secretKey
 * ```
 */
export function generateSigningKey(backend?: Ed25519Backend): SigningKeyPair {
  const secretKey = randomBytes(ED25519_SECRET_BYTES);
  return { secretKey, publicKey: ed25519PublicKey(secretKey, backend) };
}

/**
 * The Ed25519 signature of `message` (RFC 8032 section 5.1.6; deterministic).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for a bad key or message type
 */
export function ed25519Sign(
  secretKey: Uint8Array,
  message: Uint8Array,
  backend?: Ed25519Backend,
): Uint8Array {
  abytes(secretKey, 'Ed25519 secret key', ED25519_SECRET_BYTES);
  abytes(message, 'message');
  if (pick(backend) === 'noble') return noble.sign(message, secretKey);
  return new Uint8Array(nodeCrypto!.sign(null, message, nodePrivateKey(secretKey)));
}

/**
 * Verifies an Ed25519 signature (RFC 8032 section 5.1.7, strict). Anything malformed (sizes,
 * non-canonical encodings, points off the curve) verifies as false; hostile input never throws.
 */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
  backend?: Ed25519Backend,
): boolean {
  if (
    !(publicKey instanceof Uint8Array) ||
    publicKey.length !== ED25519_PUBLIC_BYTES ||
    !(signature instanceof Uint8Array) ||
    signature.length !== ED25519_SIGNATURE_BYTES ||
    !(message instanceof Uint8Array)
  ) {
    return false;
  }
  try {
    if (pick(backend) === 'noble') {
      return noble.verify(signature, message, publicKey, { zip215: false });
    }
    const key = nodeCrypto!.createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: bytesToBase64Url(publicKey) },
      format: 'jwk',
    });
    return nodeCrypto!.verify(null, message, key, signature);
  } catch {
    return false;
  }
}
