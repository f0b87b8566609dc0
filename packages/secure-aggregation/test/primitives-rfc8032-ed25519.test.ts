import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes, randomBytes } from '@unseen/core';
import {
  type Ed25519Backend,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  generateSigningKey,
} from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';

const v = JSON.parse(
  readFileSync(new URL('./vectors/rfc8032-ed25519.json', import.meta.url), 'utf8'),
);
const BACKENDS: Ed25519Backend[] = ['node', 'noble'];

describe('Ed25519 (RFC 8032)', () => {
  for (const backend of BACKENDS) {
    it(`${backend}: RFC 8032 section 7.1 vectors`, () => {
      for (const t of v.tests) {
        const sk = hexToBytes(t.secretKey);
        expect(bytesToHex(ed25519PublicKey(sk, backend))).toBe(t.publicKey);
        expect(bytesToHex(ed25519Sign(sk, hexToBytes(t.message), backend))).toBe(t.signature);
        expect(
          ed25519Verify(
            hexToBytes(t.publicKey),
            hexToBytes(t.message),
            hexToBytes(t.signature),
            backend,
          ),
        ).toBe(true);
      }
    });

    it(`${backend}: altered messages, signatures and keys do not verify; hostile input returns false`, () => {
      const { secretKey, publicKey } = generateSigningKey(backend);
      const msg = randomBytes(40);
      const sig = ed25519Sign(secretKey, msg, backend);
      expect(ed25519Verify(publicKey, msg, sig, backend)).toBe(true);
      for (let i = 0; i < 64; i += 7) {
        const bad = sig.slice();
        bad[i]! ^= 1;
        expect(ed25519Verify(publicKey, msg, bad, backend)).toBe(false);
      }
      const m2 = msg.slice();
      m2[0]! ^= 1;
      expect(ed25519Verify(publicKey, m2, sig, backend)).toBe(false);
      expect(ed25519Verify(generateSigningKey().publicKey, msg, sig, backend)).toBe(false);
      expect(ed25519Verify(new Uint8Array(31), msg, sig, backend)).toBe(false);
      expect(ed25519Verify(publicKey, msg, sig.subarray(1), backend)).toBe(false);
      expect(ed25519Verify(new Uint8Array(32).fill(0xff), msg, sig, backend)).toBe(false);
      // S >= L (non-canonical) is refused by both (RFC 8032 section 5.1.7, step 1).
      const highS = sig.slice();
      highS.fill(0xff, 32, 63);
      highS[63] = 0x1f;
      expect(ed25519Verify(publicKey, msg, highS, backend)).toBe(false);
    });
  }

  it('node and noble agree', () => {
    for (let r = 0; r < 5; r++) {
      const { secretKey, publicKey } = generateSigningKey('noble');
      const msg = randomBytes(r * 10);
      const s1 = ed25519Sign(secretKey, msg, 'node');
      const s2 = ed25519Sign(secretKey, msg, 'noble');
      expect(bytesToHex(s1)).toBe(bytesToHex(s2)); // deterministic signatures
      expect(ed25519Verify(publicKey, msg, s1, 'noble')).toBe(true);
      expect(ed25519Verify(publicKey, msg, s2, 'node')).toBe(true);
    }
  });
});
