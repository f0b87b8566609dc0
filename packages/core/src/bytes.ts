/**
 * Byte helpers: concatenation, constant-time comparison, hex and UTF-8 codecs, and a
 * bounds-checked writer/reader pair that every wire format in unseen is built from.
 * @module
 */
import { abytes, ensureWellFormed, UnseenError } from './errors.js';

/** Concatenates byte arrays into one new array. */
export function concatBytes(...arrays: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const a of arrays) total += abytes(a, 'concatBytes').length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const a of arrays) {
    out.set(a, off);
    off += a.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths, never on where they
 * differ. Use it for MACs, tags and secret-derived values.
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  abytes(a, 'equalBytes');
  abytes(b, 'equalBytes');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * Lower-case hex encoding, as one flat string. (Appending with `+=` would make a rope of one
 * node per byte, which V8 keeps as it is: a 32-byte digest held as a Set key then costs about
 * 900 bytes instead of about 80.)
 */
export function bytesToHex(bytes: Uint8Array): string {
  abytes(bytes, 'bytesToHex');
  const parts = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) parts[i] = HEX[bytes[i]!]!;
  return parts.join('');
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Decodes hex (either case, no prefix, even length).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` on odd length or a non-hex character
 */
export function hexToBytes(hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'hexToBytes: expected an even-length string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(hex.charCodeAt(2 * i));
    const lo = hexNibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `hexToBytes: non-hex character at ${2 * i}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 encoding of a string. */
export function utf8ToBytes(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `utf8ToBytes: expected string, got ${typeof text}`,
    );
  }
  return encoder.encode(text);
}

/**
 * Strict UTF-8 decoding: invalid sequences raise instead of becoming U+FFFD.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE`
 */
export function bytesToUtf8(bytes: Uint8Array): string {
  abytes(bytes, 'bytesToUtf8');
  try {
    return strictDecoder.decode(bytes);
  } catch (cause) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'invalid UTF-8', { cause });
  }
}

/** A zero-copy Uint8Array view of any typed array's bytes. */
export function asBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * Grows a buffer as fields are appended; all integers are big-endian.
 * @example
 * ```ts
 * const w = new ByteWriter();
 * w.u8(1).u32(7).varBytes(payload);
 * const bytes = w.finish();
 * ```
 */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): number {
    const need = this.#len + n;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    const at = this.#len;
    this.#len = need;
    return at;
  }

  u8(v: number): this {
    const at = this.#reserve(1); // reserve first: it may replace the view
    this.#view.setUint8(at, v);
    return this;
  }

  u16(v: number): this {
    const at = this.#reserve(2); // reserve first: it may replace the view
    this.#view.setUint16(at, v);
    return this;
  }

  u32(v: number): this {
    const at = this.#reserve(4); // reserve first: it may replace the view
    this.#view.setUint32(at, v);
    return this;
  }

  /** A non-negative safe integer as 8 bytes. */
  u64(v: number): this {
    const at = this.#reserve(8);
    this.#view.setUint32(at, Math.floor(v / 2 ** 32));
    this.#view.setUint32(at + 4, v >>> 0);
    return this;
  }

  f64(v: number): this {
    const at = this.#reserve(8); // reserve first: it may replace the view
    this.#view.setFloat64(at, v);
    return this;
  }

  /** Raw bytes, no length prefix. */
  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length); // reserve first: it may replace the buffer
    this.#buf.set(b, at);
    return this;
  }

  /** Bytes with a u32 length prefix. */
  varBytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  /** A UTF-8 string with a u32 length prefix. */
  string(s: string): this {
    return this.varBytes(utf8ToBytes(s));
  }

  /** The written bytes (a copy sized exactly). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/**
 * Reads fields from untrusted bytes. Every read is bounds-checked and raises
 * `ERR_MALFORMED_MESSAGE` (with the field name) instead of returning garbage; `end()` checks
 * that nothing is left over, so extended inputs are rejected too.
 * @example
 * ```ts
 * const r = new ByteReader(bytes, 'psi request');
 * const count = r.u32('count');
 * const points = r.bytes(count * 32, 'points');
 * r.end();
 * ```
 */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  #pos = 0;

  constructor(bytes: Uint8Array, what = 'message') {
    abytes(bytes, what);
    // A plain Uint8Array over the same memory (no copy), so that fields read from a Node Buffer
    // are plain views too, whose slice() is a copy (Buffer#slice returns a view).
    this.#buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  get offset(): number {
    return this.#pos;
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #take(n: number, field: string): number {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.remaining) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        `${this.#what}: truncated at ${field}: need ${n} bytes, ${this.remaining} left`,
        { details: { field, need: n, remaining: this.remaining } },
      );
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  u8(field = 'u8'): number {
    return this.#view.getUint8(this.#take(1, field));
  }

  u16(field = 'u16'): number {
    return this.#view.getUint16(this.#take(2, field));
  }

  u32(field = 'u32'): number {
    return this.#view.getUint32(this.#take(4, field));
  }

  /** 8 bytes that must hold a safe integer. */
  u64(field = 'u64'): number {
    const at = this.#take(8, field);
    const hi = this.#view.getUint32(at);
    const lo = this.#view.getUint32(at + 4);
    ensureWellFormed(hi < 2 ** 21, `${this.#what}: ${field} exceeds 2^53`);
    return hi * 2 ** 32 + lo;
  }

  f64(field = 'f64'): number {
    return this.#view.getFloat64(this.#take(8, field));
  }

  /** `n` raw bytes as a view into the input (no copy; a plain Uint8Array, even from a Buffer). */
  bytes(n: number, field = 'bytes'): Uint8Array {
    const at = this.#take(n, field);
    return this.#buf.subarray(at, at + n);
  }

  /** u32-length-prefixed bytes, at most `max` long. */
  varBytes(field = 'bytes', max = this.remaining): Uint8Array {
    const n = this.u32(`${field} length`);
    if (n > max) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        `${this.#what}: ${field} length ${n} exceeds the limit ${max}`,
        { details: { field, length: n, max } },
      );
    }
    return this.bytes(n, field);
  }

  /** u32-length-prefixed strict UTF-8. */
  string(field = 'string', max = this.remaining): string {
    return bytesToUtf8(this.varBytes(field, max));
  }

  /** Raises `ERR_MALFORMED_MESSAGE` if bytes are left over. */
  end(): void {
    if (this.remaining !== 0) {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        `${this.#what}: ${this.remaining} unexpected trailing bytes`,
        { details: { trailing: this.remaining } },
      );
    }
  }
}
