/**
 * A copy that is always a plain Uint8Array owning its buffer. Node's `Buffer#slice` returns a
 * view (not a copy), and frames read from sockets are Buffers: anything kept, or moved to a
 * worker, must be copied this way.
 * @module
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
