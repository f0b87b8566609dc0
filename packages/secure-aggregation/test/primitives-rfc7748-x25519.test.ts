import { readFileSync } from 'node:fs';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes, randomBytes } from '@unseen/core';
import {
  defaultX25519Backend,
  type X25519Backend,
  x25519Agree,
  x25519KeyPair,
  x25519PublicKey,
} from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { isValidX25519PublicKey } from '../src/x25519.js';
import { codeOf } from './helpers.js';

const v = JSON.parse(
  readFileSync(new URL('./vectors/rfc7748-x25519.json', import.meta.url), 'utf8'),
);
const BACKENDS: X25519Backend[] = ['node', 'webcrypto', 'noble'];

/** The canonical small-order u-coordinates (libsodium's blacklist). */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

describe('X25519 (RFC 7748)', () => {
  it('prefers node:crypto on Node', async () => {
    expect(await defaultX25519Backend()).toBe('node');
  });

  for (const backend of BACKENDS) {
    it(`${backend}: RFC 7748 section 6.1 public keys and shared secret`, async () => {
      expect(bytesToHex(await x25519PublicKey(hexToBytes(v.alicePrivate), backend))).toBe(
        v.alicePublic,
      );
      expect(bytesToHex(await x25519PublicKey(hexToBytes(v.bobPrivate), backend))).toBe(
        v.bobPublic,
      );
      const ab = await x25519Agree(hexToBytes(v.alicePrivate), hexToBytes(v.bobPublic), backend);
      const ba = await x25519Agree(hexToBytes(v.bobPrivate), hexToBytes(v.alicePublic), backend);
      expect(bytesToHex(ab)).toBe(v.shared);
      expect(bytesToHex(ba)).toBe(v.shared);
    });

    it(`${backend}: refuses every small-order point and non-canonical encodings`, async () => {
      const sk = randomBytes(32);
      for (const [i, hex] of SMALL_ORDER.entries()) {
        const keys = new Uint8Array(96);
        keys.set((await x25519KeyPair()).publicKey, 0);
        keys.set(hexToBytes(hex), 32);
        const err = await x25519Agree(sk, keys, backend).catch((e) => e);
        expect(err.code, `point ${i}`).toBe('ERR_INVALID_POINT');
        expect(err.details.index).toBe(1);
      }
      // p = 2^255 - 19 itself and a key with the top bit set are not canonical.
      const p = hexToBytes('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
      expect(await codeOf(() => x25519Agree(sk, p, backend))).toBe('ERR_INVALID_POINT');
      const top = (await x25519KeyPair()).publicKey;
      top[31]! |= 0x80;
      expect(await codeOf(() => x25519Agree(sk, top, backend))).toBe('ERR_INVALID_POINT');
    });
  }

  it('the three backends agree on random keys (and with noble directly)', async () => {
    for (let r = 0; r < 5; r++) {
      const a = await x25519KeyPair();
      const bs = await Promise.all([0, 1, 2].map(() => x25519KeyPair()));
      const pubs = new Uint8Array(96);
      bs.forEach((b, i) => {
        pubs.set(b.publicKey, 32 * i);
      });
      const results = await Promise.all(BACKENDS.map((b) => x25519Agree(a.secretKey, pubs, b)));
      for (const res of results) expect(bytesToHex(res)).toBe(bytesToHex(results[0]!));
      for (let i = 0; i < 3; i++) {
        expect(bytesToHex(results[0]!.subarray(32 * i, 32 * i + 32))).toBe(
          bytesToHex(nobleX25519.getSharedSecret(bs[i]!.secretKey, a.publicKey)),
        );
      }
    }
  });

  it('the small-order blacklist is exactly the points X25519 sends to zero', () => {
    const sk = nobleX25519.utils.randomSecretKey();
    for (const hex of SMALL_ORDER) {
      let zero = false;
      try {
        zero = nobleX25519.getSharedSecret(sk, hexToBytes(hex)).every((b) => b === 0);
      } catch {
        zero = true; // noble refuses a zero result
      }
      expect(zero, hex).toBe(true);
      expect(isValidX25519PublicKey(hexToBytes(hex))).toBe(false);
    }
    for (let r = 0; r < 20; r++) {
      expect(
        isValidX25519PublicKey(nobleX25519.getPublicKey(nobleX25519.utils.randomSecretKey())),
      ).toBe(true);
    }
  });

  it('rejects bad arguments with ERR_INVALID_ARGUMENT', async () => {
    expect(await codeOf(() => x25519Agree(new Uint8Array(31), new Uint8Array(32)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => x25519Agree(new Uint8Array(32), new Uint8Array(33)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await codeOf(() => x25519PublicKey(new Uint8Array(3)))).toBe('ERR_INVALID_ARGUMENT');
  });
});
