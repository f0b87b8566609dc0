/**
 * Label encryption for the `labels` mode: the label of server item x is sealed with AES-256-GCM
 * (NIST SP 800-38D) under key = HKDF-SHA256 (RFC 5869) with ikm = F(x), salt = a random 32-byte
 * salt drawn afresh for every setup build, info = "unseen-psi-v1-label" || setup id (16 bytes)
 * || x, where F(x) is x's PRF value (the group element [k]H(x)). Only a party that holds x and
 * obtained F(x) from the server can derive the key. Every key seals one plaintext: within a
 * setup, x differs between labels; across setups, the salt differs, also when a server restarted
 * from its exported secret (same k, same setup id) seals new labels. So the fixed all-zero nonce
 * never meets one key twice (a repeated key and nonce would reveal label1 XOR label2 and the
 * GHASH key). Plaintexts are padded to a common length so that ciphertext sizes do not reveal
 * individual label lengths.
 *
 * node:crypto (synchronous, native) where present, WebCrypto elsewhere.
 * @module
 */
import { concatBytes, nodeCrypto, UnseenError, utf8ToBytes } from '@unseen/core';
import { ELEMENT_BYTES } from './group.js';

/** Bytes of plaintext framing: a kind byte (0 bytes, 1 UTF-8 string) and a u32 length. */
export const LABEL_FRAME = 5;
/** AES-GCM tag bytes. */
export const GCM_TAG = 16;

const INFO = utf8ToBytes('unseen-psi-v1-label');
const NONCE = new Uint8Array(12);

const node = nodeCrypto;

/** The sealing key of one label: HKDF-SHA256(F(x), salt, INFO || setup id || x), 32 bytes. */
export async function labelKey(
  element: Uint8Array,
  salt: Uint8Array,
  setupId: Uint8Array,
  item: Uint8Array,
): Promise<Uint8Array> {
  const info = new Uint8Array(concatBytes(INFO, setupId, item));
  if (node) return new Uint8Array(node.hkdfSync('sha256', element, salt, info, 32));
  const subtle = globalThis.crypto.subtle;
  const base = await subtle.importKey('raw', element.slice(), 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: salt.slice(), info },
    base,
    256,
  );
  return new Uint8Array(bits);
}

/** Frames a label: kind, length, bytes, zero padding to `padTo` label bytes. */
export function frameLabel(label: string | Uint8Array, padTo: number): Uint8Array {
  const bytes = typeof label === 'string' ? utf8ToBytes(label) : label;
  const out = new Uint8Array(LABEL_FRAME + padTo);
  out[0] = typeof label === 'string' ? 1 : 0;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, LABEL_FRAME);
  return out;
}

/** Parses a framed label; malformed frames (a bug or a hostile server) raise. */
export function unframeLabel(plain: Uint8Array): string | Uint8Array {
  const kind = plain[0];
  const len = new DataView(plain.buffer, plain.byteOffset, plain.byteLength).getUint32(1);
  if ((kind !== 0 && kind !== 1) || len > plain.length - LABEL_FRAME) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: malformed label plaintext');
  }
  for (let i = LABEL_FRAME + len; i < plain.length; i++) {
    if (plain[i] !== 0)
      throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: non-zero label padding');
  }
  const bytes = plain.slice(LABEL_FRAME, LABEL_FRAME + len);
  return kind === 1 ? new TextDecoder('utf-8', { fatal: true }).decode(bytes) : bytes;
}

/**
 * Seals framed labels: `plains` holds `count` frames of `frameBytes` each; `elements` the
 * matching PRF values; items packed in `data` / `offsets`; `salt` the setup's fresh label salt.
 * Returns `count` ciphertexts of `frameBytes + 16` bytes each.
 */
export async function sealLabels(
  elements: Uint8Array,
  data: Uint8Array,
  offsets: Uint32Array,
  plains: Uint8Array,
  frameBytes: number,
  setupId: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array> {
  const count = offsets.length - 1;
  const stride = frameBytes + GCM_TAG;
  const out = new Uint8Array(count * stride);
  for (let i = 0; i < count; i++) {
    const key = await labelKey(
      elements.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES),
      salt,
      setupId,
      data.subarray(offsets[i]!, offsets[i + 1]!),
    );
    const plain = plains.subarray(i * frameBytes, (i + 1) * frameBytes);
    if (node) {
      const c = node.createCipheriv('aes-256-gcm', key, NONCE);
      const body = c.update(plain);
      c.final();
      out.set(body, i * stride);
      out.set(c.getAuthTag(), i * stride + frameBytes);
    } else {
      const k = await globalThis.crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, [
        'encrypt',
      ]);
      const sealed = await globalThis.crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: NONCE },
        k,
        plain.slice(),
      );
      out.set(new Uint8Array(sealed), i * stride);
    }
  }
  return out;
}

/** Opens one sealed label; undefined when the tag does not verify (not this item's label). */
export async function openLabel(
  element: Uint8Array,
  item: Uint8Array,
  sealed: Uint8Array,
  setupId: Uint8Array,
  salt: Uint8Array,
): Promise<Uint8Array | undefined> {
  const key = await labelKey(element, salt, setupId, item);
  const body = sealed.subarray(0, sealed.length - GCM_TAG);
  if (node) {
    try {
      const d = node.createDecipheriv('aes-256-gcm', key, NONCE);
      d.setAuthTag(sealed.subarray(sealed.length - GCM_TAG));
      const plain = d.update(body);
      d.final();
      return new Uint8Array(plain);
    } catch {
      return undefined;
    }
  }
  try {
    const k = await globalThis.crypto.subtle.importKey('raw', key.slice(), 'AES-GCM', false, [
      'decrypt',
    ]);
    return new Uint8Array(
      await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: NONCE }, k, sealed.slice()),
    );
  } catch {
    return undefined;
  }
}
