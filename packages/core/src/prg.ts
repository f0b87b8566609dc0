/**
 * A seeded pseudo-random generator for masks and shares: the AES-128-CTR keystream (NIST SP
 * 800-38A, section 6.5) under a 16-byte seed. The same seed gives the same stream in Node and in
 * browsers; tests check it against the SP 800-38A F.5.1 vector and across both backends.
 *
 * Backends: Node's `node:crypto` (synchronous, about 2.5 GB/s with AES-NI) where
 * `process.getBuiltinModule` exists, otherwise WebCrypto `subtle.encrypt` (browsers, Deno).
 * Security: the output is indistinguishable from uniform as long as AES-128 is a PRP and fewer
 * than 2^64 blocks are drawn from one seed; derive one seed per use with HKDF.
 * @module
 */
import { abytes, aint, aoneOf, UnseenError } from './errors.js';
import { type NodeCipher, nodeCrypto } from './platform.js';

/** Size of a PRG seed: one AES-128 key. */
export const PRG_SEED_BYTES = 16;

/** Which AES-CTR implementation backs a {@link Prg}. */
export type PrgBackend = 'node' | 'webcrypto';

/** Options of {@link Prg.create}. */
export interface PrgOptions {
  /** Initial 128-bit counter block (default all zero). */
  nonce?: Uint8Array;
  /** Force a backend; by default `node` where available, else `webcrypto`. */
  backend?: PrgBackend;
}

/** True on little-endian platforms (all that JavaScript runs on in practice). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes per keystream call: large enough to amortise the call, small enough to stay in cache. */
const CHUNK = 64 * 1024;

/** Adds `blocks` to a 128-bit big-endian counter, modulo 2^128. */
function addCounter(counter: Uint8Array, blocks: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(counter); // a copy, also when given a Node Buffer
  let carry = blocks;
  for (let i = 15; i >= 0 && carry > 0; i--) {
    const sum = out[i]! + (carry % 256);
    out[i] = sum & 0xff;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
  return out;
}

/**
 * A deterministic stream of pseudo-random bytes from a 16-byte seed.
 * @example
 * ```ts
 * const prg = await Prg.create(seed);
 * const mask = await prg.uint32s(100_000); // the same seed always gives the same mask
 * ```
 */
export class Prg {
  /** Which implementation produces the stream. */
  readonly backend: PrgBackend;
  readonly #nonce: Uint8Array;
  readonly #node: NodeCipher | undefined;
  readonly #web: CryptoKey | undefined;
  #position = 0;
  #zeros: Uint8Array<ArrayBuffer> = new Uint8Array(0);

  private constructor(backend: PrgBackend, nonce: Uint8Array, node?: NodeCipher, web?: CryptoKey) {
    this.backend = backend;
    this.#nonce = nonce;
    this.#node = node;
    this.#web = web;
  }

  /**
   * @param seed 16 bytes, e.g. from {@link randomBytes} or {@link hkdf}
   * @throws UnseenError `ERR_INVALID_ARGUMENT` on a bad seed or nonce; `ERR_UNSUPPORTED` when no
   * backend exists
   */
  static async create(seed: Uint8Array, options: PrgOptions = {}): Promise<Prg> {
    abytes(seed, 'PRG seed', PRG_SEED_BYTES);
    const nonce =
      options.nonce === undefined
        ? new Uint8Array(16)
        : new Uint8Array(abytes(options.nonce, 'nonce', 16));
    const node = nodeCrypto;
    const backend =
      options.backend === undefined
        ? node
          ? 'node'
          : 'webcrypto'
        : aoneOf(options.backend, ['node', 'webcrypto'] as const, 'backend');
    if (backend === 'node') {
      if (!node) throw new UnseenError('ERR_UNSUPPORTED', 'node:crypto is not available here');
      return new Prg('node', nonce, node.createCipheriv('aes-128-ctr', seed, nonce));
    }
    const subtle = globalThis.crypto?.subtle;
    if (subtle === undefined)
      throw new UnseenError('ERR_UNSUPPORTED', 'WebCrypto is not available');
    const key = await subtle.importKey('raw', new Uint8Array(seed), { name: 'AES-CTR' }, false, [
      'encrypt',
    ]);
    return new Prg('webcrypto', nonce, undefined, key);
  }

  /** Number of bytes drawn so far. */
  get position(): number {
    return this.#position;
  }

  #zeroBuffer(n: number): Uint8Array<ArrayBuffer> {
    if (this.#zeros.length < n) this.#zeros = new Uint8Array(n);
    return this.#zeros.subarray(0, n);
  }

  /**
   * Fills `out` (any typed array) with the next `out.byteLength` bytes of the stream.
   * @returns `out`
   */
  async fill<T extends ArrayBufferView>(out: T): Promise<T> {
    const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    // Reserve this call's stretch of the stream before any await, so that concurrent calls
    // get consecutive, never overlapping, stretches.
    const start = this.#position;
    this.#position += bytes.length;
    if (this.#node !== undefined) {
      for (let off = 0; off < bytes.length; off += CHUNK) {
        const n = Math.min(CHUNK, bytes.length - off);
        bytes.set(this.#node.update(this.#zeroBuffer(n)), off);
      }
    } else {
      await this.#fillWeb(bytes, start);
    }
    return out;
  }

  async #fillWeb(bytes: Uint8Array, start: number): Promise<void> {
    const subtle = globalThis.crypto.subtle;
    const STEP = 1024 * 1024;
    for (let off = 0; off < bytes.length; off += STEP) {
      const n = Math.min(STEP, bytes.length - off);
      const pos = start + off;
      const skip = pos % 16;
      const counter = addCounter(this.#nonce, Math.floor(pos / 16));
      const stream = await subtle.encrypt(
        { name: 'AES-CTR', counter, length: 128 },
        this.#web!,
        this.#zeroBuffer(skip + n),
      );
      bytes.set(new Uint8Array(stream, skip, n), off);
    }
  }

  /** The next `n` bytes of the stream. */
  bytes(n: number): Promise<Uint8Array> {
    return this.fill(new Uint8Array(aint(n, 'length', 0)));
  }

  /**
   * The next `4n` bytes as `n` uniform 32-bit words, read little-endian on every platform (so a
   * seed expands to the same words everywhere).
   */
  async uint32s(n: number): Promise<Uint32Array> {
    const words = await this.fill(new Uint32Array(aint(n, 'length', 0)));
    if (!LITTLE_ENDIAN) {
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        words[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
      }
    }
    return words;
  }
}

/**
 * The first `length` bytes of the PRG stream for `seed`: `expand(seed, n)` equals
 * `(await Prg.create(seed)).bytes(n)`.
 */
export async function prgBytes(seed: Uint8Array, length: number): Promise<Uint8Array> {
  return (await Prg.create(seed)).bytes(length);
}
