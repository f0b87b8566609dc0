import {
  ByteReader,
  ByteWriter,
  bytesToHex,
  bytesToUtf8,
  concatBytes,
  equalBytes,
  hexToBytes,
  isUnseenError,
  utf8ToBytes,
} from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isUnseenError(e) ? e.code : `not an UnseenError: ${String(e)}`;
  }
  return undefined;
}

describe('byte codecs', () => {
  it('hex round-trips and agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const hex = bytesToHex(bytes);
        expect(hex).toBe(Buffer.from(bytes).toString('hex'));
        expect(hexToBytes(hex)).toEqual(bytes);
        expect(hexToBytes(hex.toUpperCase())).toEqual(bytes);
      }),
    );
  });

  it('rejects odd-length and non-hex strings', () => {
    expect(code(() => hexToBytes('abc'))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => hexToBytes('zz'))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => hexToBytes('0g'))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('UTF-8 round-trips any string and rejects invalid sequences', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(bytesToUtf8(utf8ToBytes(s))).toBe(s);
      }),
    );
    expect(code(() => bytesToUtf8(new Uint8Array([0xc3])))).toBe('ERR_MALFORMED_MESSAGE');
    expect(code(() => bytesToUtf8(new Uint8Array([0xed, 0xa0, 0x80])))).toBe(
      'ERR_MALFORMED_MESSAGE',
    );
  });

  it('concatenates', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 6 }), (parts) => {
        expect(concatBytes(...parts)).toEqual(new Uint8Array(Buffer.concat(parts)));
      }),
    );
  });

  it('equalBytes agrees with element-wise comparison', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (a, b) => {
        expect(equalBytes(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
        expect(equalBytes(a, a.slice())).toBe(true);
      }),
    );
  });
});

describe('ByteWriter / ByteReader', () => {
  const record = fc.record({
    a: fc.integer({ min: 0, max: 255 }),
    b: fc.integer({ min: 0, max: 0xffff }),
    c: fc.integer({ min: 0, max: 0xffffffff }),
    d: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    e: fc.double({ noNaN: true }),
    f: fc.uint8Array({ maxLength: 64 }),
    g: fc.string(),
  });

  interface Rec {
    a: number;
    b: number;
    c: number;
    d: number;
    e: number;
    f: Uint8Array;
    g: string;
  }

  function write(v: Rec): Uint8Array {
    return new ByteWriter(1)
      .u8(v.a)
      .u16(v.b)
      .u32(v.c)
      .u64(v.d)
      .f64(v.e)
      .varBytes(v.f)
      .string(v.g)
      .finish();
  }

  function read(bytes: Uint8Array) {
    const r = new ByteReader(bytes, 'record');
    const out = {
      a: r.u8(),
      b: r.u16(),
      c: r.u32(),
      d: r.u64(),
      e: r.f64(),
      f: r.varBytes(),
      g: r.string(),
    };
    r.end();
    return out;
  }

  it('round-trips every field type', () => {
    fc.assert(
      fc.property(record, (v) => {
        const back = read(write(v));
        expect({ ...back, f: Array.from(back.f) }).toEqual({ ...v, f: Array.from(v.f) });
      }),
    );
  });

  it('rejects every truncation and every extension with ERR_MALFORMED_MESSAGE', () => {
    fc.assert(
      fc.property(record, fc.uint8Array({ minLength: 1, maxLength: 8 }), (v, extra) => {
        const bytes = write(v);
        for (let cut = 0; cut < bytes.length; cut++) {
          expect(code(() => read(bytes.subarray(0, cut)))).toBe('ERR_MALFORMED_MESSAGE');
        }
        expect(code(() => read(concatBytes(bytes, extra)))).toBe('ERR_MALFORMED_MESSAGE');
      }),
      { numRuns: 30 },
    );
  });

  it('bounds variable-length fields', () => {
    const bytes = new ByteWriter().varBytes(new Uint8Array(100)).finish();
    expect(code(() => new ByteReader(bytes).varBytes('field', 99))).toBe('ERR_MALFORMED_MESSAGE');
    const huge = new ByteWriter().u32(0xffffffff).finish();
    expect(code(() => new ByteReader(huge).varBytes())).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('refuses u64 values above 2^53', () => {
    const bytes = new Uint8Array(8).fill(0xff);
    expect(code(() => new ByteReader(bytes).u64())).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('reads plain Uint8Array views out of a Node Buffer, so that slice() copies', () => {
    const buffer = Buffer.from(
      new ByteWriter()
        .u8(1)
        .varBytes(Uint8Array.of(5, 6, 7))
        .finish(),
    );
    const r = new ByteReader(buffer);
    expect(r.u8()).toBe(1);
    const field = r.varBytes();
    expect(Object.getPrototypeOf(field)).toBe(Uint8Array.prototype);
    expect(field.buffer).toBe(buffer.buffer); // still a view: no copy on read
    const kept = field.slice();
    buffer.fill(0);
    expect([...kept]).toEqual([5, 6, 7]);
    expect(kept.buffer).not.toBe(buffer.buffer);
  });
});
