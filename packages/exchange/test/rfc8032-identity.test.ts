import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@unseen/core';
import {
  Identity,
  keyIdOf,
  parsePublicIdentity,
  parsePublicKey,
  verifySignature,
} from '@unseen/exchange';
import { describe, expect, it } from 'vitest';
import vectors from './vectors/rfc8032-ed25519.json' with { type: 'json' };

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

describe('identities (RFC 8032 ed25519)', () => {
  it('derives the RFC 8032 public keys and signatures', () => {
    for (const v of vectors.vectors) {
      const id = Identity.fromSecretKey('provider', 'p', hexToBytes(v.secretKey));
      expect(bytesToHex(id.publicKey)).toBe(v.publicKey);
      expect(bytesToHex(ed25519.sign(hexToBytes(v.message), hexToBytes(v.secretKey)))).toBe(
        v.signature,
      );
    }
  });

  it('signs domain || 0x00 || message exactly as node:crypto does', () => {
    for (const v of vectors.vectors) {
      const id = Identity.fromSecretKey('consumer', 'c', hexToBytes(v.secretKey));
      const key = createPrivateKey({
        key: {
          kty: 'OKP',
          crv: 'Ed25519',
          d: b64url(hexToBytes(v.secretKey)),
          x: b64url(id.publicKey),
        },
        format: 'jwk',
      });
      const msg = hexToBytes(v.message);
      const framed = concatBytes(utf8ToBytes('unseen/test/v1'), new Uint8Array(1), msg);
      const sig = id.sign('unseen/test/v1', msg);
      expect(bytesToHex(sig)).toBe(bytesToHex(nodeSign(null, framed, key)));
      expect(verifySignature(id.publicKey, 'unseen/test/v1', msg, sig)).toBe(true);
      // Another domain, message or key never verifies.
      expect(verifySignature(id.publicKey, 'unseen/test/v2', msg, sig)).toBe(false);
      expect(
        verifySignature(id.publicKey, 'unseen/test/v1', concatBytes(msg, new Uint8Array(1)), sig),
      ).toBe(false);
      expect(
        verifySignature(Identity.generate('consumer', 'x').publicKey, 'unseen/test/v1', msg, sig),
      ).toBe(false);
    }
  });

  it('verification is strict: malleated S (S + L) and malformed inputs are refused', () => {
    const id = Identity.generate('operator', 'op');
    const msg = utf8ToBytes('hello');
    const sig = id.sign('d', msg);
    // S' = S + L encodes the same scalar mod L; RFC 8032 section 5.1.7 requires S < L.
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    const s2 = s + L;
    const mal = sig.slice();
    let t = s2;
    for (let i = 32; i < 64; i++) {
      mal[i] = Number(t & 0xffn);
      t >>= 8n;
    }
    if (t === 0n) expect(verifySignature(id.publicKey, 'd', msg, mal)).toBe(false);
    expect(verifySignature(id.publicKey, 'd', msg, sig.subarray(0, 63))).toBe(false);
    expect(verifySignature(new Uint8Array(32), 'd', msg, sig)).toBe(false);
  });

  it('refuses public keys that are not valid, canonical, full-order points', () => {
    expect(() => parsePublicKey('00'.repeat(32))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_POINT' }),
    );
    // The identity point (small order).
    expect(() => parsePublicKey(`01${'00'.repeat(31)}`)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_POINT' }),
    );
    expect(() => parsePublicKey('zz')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    const id = Identity.generate('provider', 'bank');
    expect(parsePublicKey(bytesToHex(id.publicKey))).toEqual(id.publicKey);
  });

  it('key ids name keys; key files round-trip and are checked', () => {
    const id = Identity.generate('provider', 'bank-1');
    expect(id.keyId).toBe(keyIdOf(id.publicKey));
    expect(id.keyId).toMatch(/^[0-9a-f]{32}$/);
    const back = Identity.fromKeyFile(JSON.parse(JSON.stringify(id.toKeyFile())));
    expect(back.keyId).toBe(id.keyId);
    expect(() =>
      Identity.fromKeyFile({
        ...id.toKeyFile(),
        publicKey: bytesToHex(Identity.generate('provider', 'x').publicKey),
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INTEGRITY' }));
    expect(() => parsePublicIdentity({ ...id.public, keyId: '0'.repeat(32) })).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY' }),
    );
    expect(() => Identity.generate('provider', 'bad name!')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => Identity.generate('root' as 'provider', 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
