/**
 * base64url without padding (RFC 4648 section 5): the section 10 test vectors (unpadded, and
 * they use no character where base64 and base64url differ), Node's Buffer as a peer on random
 * bytes, and the strict decoder's rejections.
 */
import { base64UrlToBytes, bytesToBase64Url, isUnseenError, utf8ToBytes } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const RFC4648_SECTION_10: [string, string][] = [
  ['', ''],
  ['f', 'Zg'],
  ['fo', 'Zm8'],
  ['foo', 'Zm9v'],
  ['foob', 'Zm9vYg'],
  ['fooba', 'Zm9vYmE'],
  ['foobar', 'Zm9vYmFy'],
];

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isUnseenError(e) ? e.code : 'not an UnseenError';
  }
  return undefined;
}

describe('base64url (RFC 4648 section 5)', () => {
  it('section 10 test vectors, without padding', () => {
    for (const [plain, encoded] of RFC4648_SECTION_10) {
      expect(bytesToBase64Url(utf8ToBytes(plain))).toBe(encoded);
      expect(base64UrlToBytes(encoded)).toEqual(utf8ToBytes(plain));
    }
  });

  it('the URL-safe characters: 62 is -, 63 is _', () => {
    expect(bytesToBase64Url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(base64UrlToBytes('-_8')).toEqual(Uint8Array.of(0xfb, 0xff));
  });

  it("matches Node's Buffer both ways on random bytes (fast-check)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = Buffer.from(bytes).toString('base64url');
        expect(bytesToBase64Url(bytes)).toBe(text);
        expect(base64UrlToBytes(text, bytes.length)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects what is not the one encoding of some bytes', () => {
    // padding, whitespace, base64's + and /, impossible lengths, non-zero unused bits, non-ASCII
    for (const bad of ['Zg==', 'Zm9v YmFy', 'Zm9+', 'Zm9/', 'Z', 'Zm9vY', 'Zh', 'Zm9', 'é']) {
      expect(
        codeOf(() => base64UrlToBytes(bad)),
        bad,
      ).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(codeOf(() => base64UrlToBytes('Zm9v', 4))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => base64UrlToBytes(3 as unknown as string))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => bytesToBase64Url([1, 2] as unknown as Uint8Array))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });
});
