import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes, randomBytes } from '@unseen/core';
import { type AeadBackend, aesGcmDecrypt, aesGcmEncrypt } from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

const v = JSON.parse(readFileSync(new URL('./vectors/gcm-aes256.json', import.meta.url), 'utf8'));
const BACKENDS: AeadBackend[] = ['node', 'webcrypto'];

describe('AES-256-GCM', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: GCM specification test cases 13 and 14`, async () => {
      for (const t of v.tests) {
        const out = await aesGcmEncrypt(
          hexToBytes(t.key),
          hexToBytes(t.nonce),
          hexToBytes(t.plaintext),
          hexToBytes(t.aad),
          backend,
        );
        expect(bytesToHex(out)).toBe(t.ciphertext + t.tag);
        const back = await aesGcmDecrypt(
          hexToBytes(t.key),
          hexToBytes(t.nonce),
          out,
          hexToBytes(t.aad),
          backend,
        );
        expect(bytesToHex(back)).toBe(t.plaintext);
      }
    });

    it(`${backend}: any altered byte, a wrong key, nonce or associated data is ERR_INTEGRITY`, async () => {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(20);
      const pt = randomBytes(50);
      const ct = await aesGcmEncrypt(key, nonce, pt, aad, backend);
      expect(bytesToHex(await aesGcmDecrypt(key, nonce, ct, aad, backend))).toBe(bytesToHex(pt));
      for (let i = 0; i < ct.length; i += 5) {
        const bad = ct.slice();
        bad[i]! ^= 0x40;
        expect(await codeOf(() => aesGcmDecrypt(key, nonce, bad, aad, backend))).toBe(
          'ERR_INTEGRITY',
        );
      }
      const aad2 = aad.slice();
      aad2[3]! ^= 1;
      expect(await codeOf(() => aesGcmDecrypt(key, nonce, ct, aad2, backend))).toBe(
        'ERR_INTEGRITY',
      );
      expect(await codeOf(() => aesGcmDecrypt(randomBytes(32), nonce, ct, aad, backend))).toBe(
        'ERR_INTEGRITY',
      );
      expect(await codeOf(() => aesGcmDecrypt(key, randomBytes(12), ct, aad, backend))).toBe(
        'ERR_INTEGRITY',
      );
      expect(await codeOf(() => aesGcmDecrypt(key, nonce, ct.subarray(0, 10), aad, backend))).toBe(
        'ERR_INTEGRITY',
      );
      expect(await codeOf(() => aesGcmDecrypt(key, nonce, ct.subarray(0, 15), aad, backend))).toBe(
        'ERR_INTEGRITY',
      );
    });
  }

  it('node:crypto and WebCrypto produce the same bytes with associated data', async () => {
    for (let r = 0; r < 10; r++) {
      const key = randomBytes(32);
      const nonce = randomBytes(12);
      const aad = randomBytes(r * 3);
      const pt = randomBytes(r * 17);
      const a = await aesGcmEncrypt(key, nonce, pt, aad, 'node');
      const b = await aesGcmEncrypt(key, nonce, pt, aad, 'webcrypto');
      expect(bytesToHex(a)).toBe(bytesToHex(b));
      expect(bytesToHex(await aesGcmDecrypt(key, nonce, a, aad, 'webcrypto'))).toBe(bytesToHex(pt));
    }
  });

  it('rejects malformed arguments with ERR_INVALID_ARGUMENT', async () => {
    expect(
      await codeOf(() =>
        aesGcmEncrypt(randomBytes(16), randomBytes(12), randomBytes(1), randomBytes(1)),
      ),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(
      await codeOf(() =>
        aesGcmEncrypt(randomBytes(32), randomBytes(16), randomBytes(1), randomBytes(1)),
      ),
    ).toBe('ERR_INVALID_ARGUMENT');
  });
});
