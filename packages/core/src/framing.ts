/**
 * Length-prefixed framing for byte streams (TCP sockets, pipes): each frame is a 4-byte
 * big-endian length followed by that many bytes. {@link FrameDecoder} reassembles frames from
 * chunks of any size and refuses frames above its limit before buffering them.
 * @module
 */
import { abytes, aint, UnseenError } from './errors.js';

/** Default upper bound on one frame: 256 MiB. */
export const DEFAULT_MAX_FRAME = 256 * 1024 * 1024;

/** Prefixes `payload` with its u32 big-endian length. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  abytes(payload, 'frame payload');
  if (payload.length > 0xffffffff) {
    throw new UnseenError('ERR_MESSAGE_TOO_LARGE', 'frame payload exceeds 2^32 - 1 bytes');
  }
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

/**
 * Reassembles length-prefixed frames from a stream.
 * @example
 * ```ts
 * const decoder = new FrameDecoder({ maxFrame: 1 << 20 });
 * socket.on('data', (chunk) => { for (const frame of decoder.push(chunk)) handle(frame); });
 * ```
 */
export class FrameDecoder {
  readonly maxFrame: number;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #failed = false;

  constructor(options: { maxFrame?: number } = {}) {
    this.maxFrame = aint(options.maxFrame ?? DEFAULT_MAX_FRAME, 'maxFrame', 0, 0xffffffff);
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds a chunk and returns every frame it completes, in order.
   * @throws UnseenError `ERR_MESSAGE_TOO_LARGE` when a frame announces more than `maxFrame`
   * bytes; the decoder is unusable afterwards (the stream cannot be resynchronised).
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw new UnseenError('ERR_INVALID_STATE', 'frame decoder has failed');
    abytes(chunk, 'chunk');
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#buffered < 4) break;
      const head = this.#peek(4);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (len > this.maxFrame) {
        this.#failed = true;
        this.#chunks = [];
        throw new UnseenError(
          'ERR_MESSAGE_TOO_LARGE',
          `frame of ${len} bytes exceeds the limit of ${this.maxFrame}`,
          { details: { length: len, max: this.maxFrame } },
        );
      }
      if (this.#buffered < 4 + len) break;
      this.#consume(4);
      frames.push(this.#consume(len));
    }
    return frames;
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let off = 0;
    for (const c of this.#chunks) {
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (off === n) break;
    }
    return out;
  }

  #consume(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) {
      // A copy, never a view: on a Node Buffer, slice() would share the socket's memory.
      const out = new Uint8Array(first.subarray(0, n));
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return out;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.#chunks[0]!;
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (take === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(take);
    }
    return out;
  }
}
