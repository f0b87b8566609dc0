/**
 * Word vectors on the wire: 32-bit words in little-endian byte order, copied in bulk (every
 * mainstream JS platform is little-endian; a big-endian one takes the byte-swapping path).
 * @module
 */
import type { ByteReader, ByteWriter } from '@unseen/core';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Appends `words` as 4 * length little-endian bytes (no length prefix). */
export function writeWords(w: ByteWriter, words: Uint32Array): ByteWriter {
  if (LITTLE_ENDIAN)
    return w.bytes(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(4 * i, words[i]!, true);
  return w.bytes(bytes);
}

/** Reads `count` little-endian words (a fresh, aligned copy). */
export function readWords(r: ByteReader, count: number, field: string): Uint32Array {
  const bytes = r.bytes(count * 4, field);
  const out = new Uint32Array(count);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}
