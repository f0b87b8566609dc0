import {
  concatBytes,
  decodeMessage,
  encodeMessage,
  HEADER_BYTES,
  isUnseenError,
  newSessionId,
  SESSION_ID_BYTES,
} from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isUnseenError(e) ? e.code : `foreign: ${String(e)}`;
  }
  return undefined;
}

const message = fc.record({
  version: fc.integer({ min: 0, max: 255 }),
  type: fc.integer({ min: 0, max: 255 }),
  session: fc.uint8Array({ minLength: SESSION_ID_BYTES, maxLength: SESSION_ID_BYTES }),
  body: fc.uint8Array({ maxLength: 300 }),
});

describe('message envelope', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m);
        expect(bytes.length).toBe(HEADER_BYTES + m.body.length);
        const back = decodeMessage(bytes, { version: m.version, type: m.type, session: m.session });
        expect(back.version).toBe(m.version);
        expect(back.type).toBe(m.type);
        expect(back.session).toEqual(m.session);
        expect(back.body).toEqual(m.body);
      }),
    );
  });

  it('rejects every truncation and any extension', () => {
    fc.assert(
      fc.property(message, fc.uint8Array({ minLength: 1, maxLength: 10 }), (m, extra) => {
        const bytes = encodeMessage(m);
        for (let cut = 0; cut < bytes.length; cut++) {
          expect(codeOf(() => decodeMessage(bytes.subarray(0, cut)))).toBe('ERR_MALFORMED_MESSAGE');
        }
        expect(codeOf(() => decodeMessage(concatBytes(bytes, extra)))).toBe(
          'ERR_MALFORMED_MESSAGE',
        );
      }),
      { numRuns: 40 },
    );
  });

  it('a flipped bit in the header gives the code of the field it hits', () => {
    fc.assert(
      fc.property(message, fc.integer({ min: 0, max: HEADER_BYTES * 8 - 1 }), (m, bit) => {
        const bytes = encodeMessage(m);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        const expect_ = { version: m.version, type: m.type, session: m.session };
        const byte = bit >> 3;
        const expected =
          byte === 0
            ? 'ERR_UNSUPPORTED_VERSION'
            : byte === 1
              ? 'ERR_UNEXPECTED_MESSAGE'
              : byte < 2 + SESSION_ID_BYTES
                ? 'ERR_SESSION_MISMATCH'
                : // A changed length no longer matches the bytes that follow, or exceeds the limit.
                  ['ERR_MALFORMED_MESSAGE', 'ERR_MESSAGE_TOO_LARGE'];
        const got = codeOf(() => decodeMessage(bytes, expect_));
        if (Array.isArray(expected)) expect(expected).toContain(got);
        else expect(got).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('a flipped bit anywhere never escapes as a foreign exception', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, pick) => {
        const bytes = encodeMessage(m);
        const bit = pick % (bytes.length * 8);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        const got = codeOf(() =>
          decodeMessage(bytes, { version: m.version, type: m.type, session: m.session }),
        );
        // A flip inside the body is the protocol's to detect; the envelope must not throw foreign errors.
        expect(got === undefined || !got.startsWith('foreign')).toBe(true);
      }),
    );
  });

  it('enforces the body size limit before reading the body', () => {
    const m = { version: 1, type: 1, session: newSessionId(), body: new Uint8Array(1000) };
    expect(codeOf(() => decodeMessage(encodeMessage(m), { maxBody: 999 }))).toBe(
      'ERR_MESSAGE_TOO_LARGE',
    );
    // A header that announces 4 GiB with nothing behind it is refused as too large, not awaited.
    const header = encodeMessage({ ...m, body: new Uint8Array(0) });
    header.set([0xff, 0xff, 0xff, 0xff], HEADER_BYTES - 4);
    expect(codeOf(() => decodeMessage(header))).toBe('ERR_MESSAGE_TOO_LARGE');
  });

  it('accepts any of several expected types', () => {
    const bytes = encodeMessage({
      version: 1,
      type: 3,
      session: newSessionId(),
      body: new Uint8Array(),
    });
    expect(decodeMessage(bytes, { type: [2, 3] }).type).toBe(3);
    expect(codeOf(() => decodeMessage(bytes, { type: [1, 2] }))).toBe('ERR_UNEXPECTED_MESSAGE');
  });

  it('refuses invalid fields on encode', () => {
    const session = newSessionId();
    expect(
      codeOf(() => encodeMessage({ version: 256, type: 0, session, body: new Uint8Array() })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(
      codeOf(() =>
        encodeMessage({ version: 1, type: 0, session: new Uint8Array(8), body: new Uint8Array() }),
      ),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => decodeMessage('x' as unknown as Uint8Array))).toBe('ERR_MALFORMED_MESSAGE');
  });
});
