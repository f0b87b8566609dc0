/**
 * AES-256-GCM (NIST SP 800-38D), the authenticated encryption AE of Bonawitz et al.
 * that protects the Shamir shares one client sends another through the server. The associated
 * data binds the session, the sender and the receiver, so that a share relayed to the wrong
 * client, replayed from another session or altered fails with `ERR_INTEGRITY`.
 *
 * node:crypto (synchronous, AES-NI) where present, WebCrypto `subtle.encrypt` elsewhere; tests
 * check both against the GCM specification's test vectors and against each other.
 * @module
 */
import { abytes, nodeCrypto, UnseenError } from '@unseen/core';

/** Key, nonce and tag sizes. */
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

/** Which implementation runs AES-GCM. */
export type AeadBackend = 'node' | 'webcrypto';

const node = nodeCrypto;

function backendOf(backend: AeadBackend | undefined): AeadBackend {
  const b = backend ?? (node !== undefined ? 'node' : 'webcrypto');
  if (b === 'node' && node === undefined) {
    throw new UnseenError('ERR_UNSUPPORTED', 'node:crypto is not available here');
  }
  if (b === 'webcrypto' && globalThis.crypto?.subtle === undefined) {
    throw new UnseenError('ERR_UNSUPPORTED', 'WebCrypto is not available');
  }
  return b;
}

function checkInputs(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, aad: Uint8Array): void {
  abytes(key, 'AES-GCM key', AEAD_KEY_BYTES);
  abytes(nonce, 'AES-GCM nonce', AEAD_NONCE_BYTES);
  abytes(data, 'AES-GCM data');
  abytes(aad, 'AES-GCM associated data');
}

/**
 * Encrypts `plaintext`; returns ciphertext || 16-byte tag.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`, `ERR_UNSUPPORTED`
 */
export async function aesGcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  backend?: AeadBackend,
): Promise<Uint8Array> {
  checkInputs(key, nonce, plaintext, aad);
  if (backendOf(backend) === 'node') {
    const cipher = node!.createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad);
    const body = cipher.update(plaintext);
    const last = cipher.final();
    const out = new Uint8Array(body.length + last.length + AEAD_TAG_BYTES);
    out.set(body);
    out.set(last, body.length);
    out.set(cipher.getAuthTag(), body.length + last.length);
    return out;
  }
  const subtle = globalThis.crypto.subtle;
  const k = await subtle.importKey('raw', key.slice(), { name: 'AES-GCM' }, false, ['encrypt']);
  const ct = await subtle.encrypt(
    { name: 'AES-GCM', iv: nonce.slice(), additionalData: aad.slice(), tagLength: 128 },
    k,
    plaintext.slice(),
  );
  return new Uint8Array(ct);
}

/**
 * Decrypts ciphertext || tag.
 * @throws UnseenError `ERR_INTEGRITY` when the tag does not verify (wrong key, nonce, associated
 *   data, or altered bytes); `ERR_INVALID_ARGUMENT`, `ERR_UNSUPPORTED`
 */
export async function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  backend?: AeadBackend,
): Promise<Uint8Array> {
  checkInputs(key, nonce, ciphertext, aad);
  if (ciphertext.length < AEAD_TAG_BYTES) {
    throw new UnseenError('ERR_INTEGRITY', 'AES-GCM: ciphertext shorter than its tag');
  }
  const split = ciphertext.length - AEAD_TAG_BYTES;
  try {
    if (backendOf(backend) === 'node') {
      const decipher = node!.createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAuthTag(ciphertext.subarray(split));
      decipher.setAAD(aad);
      const body = decipher.update(ciphertext.subarray(0, split));
      const last = decipher.final(); // throws when the tag does not verify
      if (last.length === 0) return new Uint8Array(body);
      const out = new Uint8Array(body.length + last.length);
      out.set(body);
      out.set(last, body.length);
      return out;
    }
    const subtle = globalThis.crypto.subtle;
    const k = await subtle.importKey('raw', key.slice(), { name: 'AES-GCM' }, false, ['decrypt']);
    const pt = await subtle.decrypt(
      { name: 'AES-GCM', iv: nonce.slice(), additionalData: aad.slice(), tagLength: 128 },
      k,
      ciphertext.slice(),
    );
    return new Uint8Array(pt);
  } catch (cause) {
    if (cause instanceof UnseenError) throw cause;
    throw new UnseenError('ERR_INTEGRITY', 'AES-GCM: authentication failed', { cause });
  }
}
