import { concatBytes, encodeFrame, FrameDecoder, isUnseenError } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('length-prefixed framing', () => {
  it('reassembles frames from chunks cut anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const stream = concatBytes(...frames.map(encodeFrame));
          const decoder = new FrameDecoder();
          const out: Uint8Array[] = [];
          let off = 0;
          let c = 0;
          while (off < stream.length) {
            const n = cuts[c++ % cuts.length]!;
            out.push(...decoder.push(stream.subarray(off, off + n)));
            off += n;
          }
          expect(out.map((f) => Array.from(f))).toEqual(frames.map((f) => Array.from(f)));
          expect(decoder.buffered).toBe(0);
        },
      ),
    );
  });

  it('refuses an oversized frame from its header alone and then stays failed', () => {
    const decoder = new FrameDecoder({ maxFrame: 10 });
    expect(decoder.push(encodeFrame(new Uint8Array(10))).length).toBe(1);
    const header = encodeFrame(new Uint8Array(11)).subarray(0, 4);
    try {
      decoder.push(header);
      expect.unreachable();
    } catch (e) {
      expect(isUnseenError(e, 'ERR_MESSAGE_TOO_LARGE')).toBe(true);
    }
    expect(() => decoder.push(new Uint8Array(1))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
  });
});

describe('frames never alias their input', () => {
  it('copies out of Node Buffers, whose slice() returns a view', () => {
    const chunk = Buffer.from(encodeFrame(new Uint8Array([1, 2, 3])));
    const [frame] = new FrameDecoder().push(chunk);
    expect(Array.from(frame!)).toEqual([1, 2, 3]);
    expect(frame!.buffer).not.toBe(chunk.buffer);
    chunk.fill(0);
    expect(Array.from(frame!)).toEqual([1, 2, 3]);
  });
});
