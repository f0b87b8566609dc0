// Ed25519 (RFC 8032 section 7.1) on both backends, against each other, and on hostile input.
import { readFileSync } from 'node:fs';
import {
  bytesToHex,
  type Ed25519Backend,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  generateSigningKey,
  hexToBytes,
  randomBytes,
} from '@unseen/core';
import { describe, expect, it } from 'vitest';

const vectors = JSON.parse(
  readFileSync(new URL('./vectors/rfc8032-ed25519.json', import.meta.url), 'utf8'),
) as { tests: { secretKey: string; publicKey: string; message: string; signature: string }[] };

describe('Ed25519 (RFC 8032)', () => {
  for (const backend of ['node', 'noble'] as Ed25519Backend[]) {
    it(`${backend}: the section 7.1 vectors`, () => {
      expect(vectors.tests.length).toBeGreaterThanOrEqual(3);
      for (const t of vectors.tests) {
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

    it(`${backend}: altered messages, signatures and keys fail; hostile input is false`, () => {
      const { secretKey, publicKey } = generateSigningKey(backend);
      const msg = randomBytes(40);
      const sig = ed25519Sign(secretKey, msg, backend);
      expect(ed25519Verify(publicKey, msg, sig, backend)).toBe(true);
      for (let i = 0; i < 64; i += 5) {
        const bad = sig.slice();
        bad[i]! ^= 1;
        expect(ed25519Verify(publicKey, msg, bad, backend)).toBe(false);
      }
      const other = msg.slice();
      other[3]! ^= 0x80;
      expect(ed25519Verify(publicKey, other, sig, backend)).toBe(false);
      expect(ed25519Verify(generateSigningKey().publicKey, msg, sig, backend)).toBe(false);
      expect(ed25519Verify(new Uint8Array(31), msg, sig, backend)).toBe(false);
      expect(ed25519Verify(publicKey, msg, sig.subarray(1), backend)).toBe(false);
      expect(ed25519Verify(new Uint8Array(32).fill(0xff), msg, sig, backend)).toBe(false);
      expect(ed25519Verify('key' as never, msg, sig, backend)).toBe(false);
      // S >= L is not canonical (section 5.1.7, step 1).
      const highS = sig.slice();
      highS.fill(0xff, 32, 63);
      highS[63] = 0x1f;
      expect(ed25519Verify(publicKey, msg, highS, backend)).toBe(false);
    });
  }

  it('the backends agree (deterministic signatures)', () => {
    for (let r = 0; r < 5; r++) {
      const { secretKey, publicKey } = generateSigningKey('noble');
      expect(ed25519PublicKey(secretKey, 'node')).toEqual(publicKey);
      const msg = randomBytes(r * 13);
      const a = ed25519Sign(secretKey, msg, 'node');
      expect(ed25519Sign(secretKey, msg, 'noble')).toEqual(a);
      expect(ed25519Verify(publicKey, msg, a, 'noble')).toBe(true);
    }
  });
});
