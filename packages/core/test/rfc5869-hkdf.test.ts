import { hkdfSync } from 'node:crypto';
import { bytesToHex, hexToBytes, hkdf, hkdfExpand, hkdfExtract, isUnseenError } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from './vectors/rfc5869-hkdf-sha256.json' with { type: 'json' };

describe('HKDF-SHA256 (RFC 5869)', () => {
  for (const v of vectors.cases) {
    it(`matches ${v.name}`, () => {
      const ikm = hexToBytes(v.ikm);
      const salt = hexToBytes(v.salt);
      const info = hexToBytes(v.info);
      expect(bytesToHex(hkdfExtract(ikm, salt))).toBe(v.prk);
      expect(bytesToHex(hkdfExpand(hexToBytes(v.prk), info, v.length))).toBe(v.okm);
      expect(bytesToHex(hkdf(ikm, salt, info, v.length))).toBe(v.okm);
    });
  }

  it('agrees with node:crypto hkdfSync on random inputs', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 100 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 1, max: 300 }),
        (ikm, salt, info, length) => {
          const ours = hkdf(ikm, salt, info, length);
          const theirs = new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
          expect(bytesToHex(ours)).toBe(bytesToHex(theirs));
        },
      ),
    );
  });

  it('takes strings as UTF-8', () => {
    const ikm = new Uint8Array(32).fill(7);
    expect(hkdf(ikm, 'salt', 'info ✓', 16)).toEqual(
      hkdf(ikm, new TextEncoder().encode('salt'), new TextEncoder().encode('info ✓'), 16),
    );
  });

  it('rejects lengths outside 1..8160', () => {
    const ikm = new Uint8Array(16);
    for (const bad of [0, 8161, 1.5, -1]) {
      try {
        hkdf(ikm, undefined, undefined, bad);
        expect.unreachable();
      } catch (e) {
        expect(isUnseenError(e, 'ERR_INVALID_ARGUMENT')).toBe(true);
      }
    }
  });
});
