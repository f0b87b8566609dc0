/**
 * Ed25519 signatures (RFC 8032), the SIG scheme of the active-adversary variant of Bonawitz et al.
 * (Figure 4, the parts marked for the active model): every client signs its advertised keys and, in the
 * consistency check, the set of survivors it was shown; peers verify with long-term verification
 * keys they obtained from a PKI (the paper's trusted third party).
 *
 * node:crypto `sign`/`verify` where present (measured here 15-25x faster than pure JavaScript),
 * else @noble/curves (audited) with RFC 8032 strict verification (`zip215: false`), the rule
 * OpenSSL applies too. Tests check both against RFC 8032 section 7.1.
 * @module
 */
import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js';
import { abytes, randomBytes, UnseenError } from '@unseen/core';
import { type NodeKeyObject, nodeCrypto } from './platform.js';
import { fromBase64Url, toBase64Url } from './x25519.js';

/** Bytes of an Ed25519 secret key (the RFC 8032 seed), public key and signature. */
export const ED25519_SECRET_BYTES = 32;
export const ED25519_PUBLIC_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

/** Which implementation signs and verifies. */
export type Ed25519Backend = 'node' | 'noble';

/** A long-term signing identity: the secret seed and its public verification key. */
export interface SigningKeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

const node = nodeCrypto;

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 section 7). */
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function backendOf(backend: Ed25519Backend | undefined): Ed25519Backend {
  const b = backend ?? (node !== undefined ? 'node' : 'noble');
  if (b === 'node' && node === undefined) {
    throw new UnseenError('ERR_UNSUPPORTED', 'node:crypto is not available here');
  }
  return b;
}

function privateKeyObject(secretKey: Uint8Array): NodeKeyObject {
  const der = new Uint8Array(PKCS8_PREFIX.length + ED25519_SECRET_BYTES);
  der.set(PKCS8_PREFIX);
  der.set(secretKey, PKCS8_PREFIX.length);
  return node!.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The verification key of a 32-byte Ed25519 secret key. */
export function ed25519PublicKey(secretKey: Uint8Array, backend?: Ed25519Backend): Uint8Array {
  abytes(secretKey, 'Ed25519 secret key', ED25519_SECRET_BYTES);
  if (backendOf(backend) === 'node') {
    const jwk = node!.createPublicKey(privateKeyObject(secretKey)).export({ format: 'jwk' });
    return fromBase64Url(jwk.x!, ED25519_PUBLIC_BYTES);
  }
  return nobleEd25519.getPublicKey(secretKey);
}

/**
 * A fresh signing identity for a client of the active variant. Distribute `publicKey` to the
 * server and the other clients through your PKI; keep `secretKey` on the client.
 * @example
 * ```ts
 * const identity = generateSigningKey();
 * ```
 */
export function generateSigningKey(backend?: Ed25519Backend): SigningKeyPair {
  const secretKey = randomBytes(ED25519_SECRET_BYTES);
  return { secretKey, publicKey: ed25519PublicKey(secretKey, backend) };
}

/** An Ed25519 signature of `message` (RFC 8032 section 5.1.6). */
export function ed25519Sign(
  secretKey: Uint8Array,
  message: Uint8Array,
  backend?: Ed25519Backend,
): Uint8Array {
  abytes(secretKey, 'Ed25519 secret key', ED25519_SECRET_BYTES);
  abytes(message, 'message');
  if (backendOf(backend) === 'node') {
    return new Uint8Array(node!.sign(null, message, privateKeyObject(secretKey)));
  }
  return nobleEd25519.sign(message, secretKey);
}

/**
 * Verifies an Ed25519 signature (RFC 8032 section 5.1.7). Malformed keys or signatures verify as
 * false; nothing throws for hostile input.
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
    if (backendOf(backend) === 'node') {
      const key = node!.createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) },
        format: 'jwk',
      });
      return node!.verify(null, message, key, signature);
    }
    return nobleEd25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
