/**
 * RFC 9380 hash-to-curve as the suites use it: the batched curve25519_XMD:SHA-512_ELL2_RO_ path
 * against the RFC's appendix J.7.1 vectors and against @noble/curves on random inputs, and
 * hash_to_ristretto255 against the RFC 9496 A.3 element-derivation vectors and noble.
 */
import { expand_message_xmd } from '@noble/curves/abstract/hash-to-curve.js';
import { ed25519, ed25519_hasher, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as F from '../src/field25519.js';
import { hashToCurve25519U } from '../src/hash-curve25519.js';
import { pack } from '../src/items.js';
import { ristrettoHash } from '../src/ristretto.js';
import { sha256, sha512 } from '../src/sha.js';
import { dstPrime, expandMessageXmd } from '../src/xmd.js';
import curveVectors from './vectors/rfc9380-curve25519_XMD-SHA-512_ELL2_RO_.json' with {
  type: 'json',
};
import ristrettoVectors from './vectors/rfc9496-ristretto255-element-derivation.json' with {
  type: 'json',
};

type Vector = { msg?: string; msgRepeat?: [string, string, number]; Px: string; Py: string };

function message(v: Vector): string {
  if (v.msg !== undefined) return v.msg;
  const [prefix, ch, n] = v.msgRepeat!;
  return prefix + ch.repeat(n);
}

/** u of noble's edwards25519 hash through the RFC 7748 birational map u = (1 + y) / (1 - y). */
function nobleU(msg: Uint8Array, dst: Uint8Array): bigint {
  const { y } = ed25519_hasher.hashToCurve(msg, { DST: dst }).toAffine();
  return F.canon(F.mul(F.add(1n, y), F.invert(F.canon(F.sub(1n, y)))));
}

describe('curve25519_XMD:SHA-512_ELL2_RO_ (RFC 9380 J.7.1)', () => {
  const dst = utf8ToBytes(curveVectors.dst);

  it('matches every RFC vector, hashed as one batch', () => {
    const msgs = (curveVectors.vectors as Vector[]).map((v) => utf8ToBytes(message(v)));
    const { data, offsets } = pack(msgs);
    const out = hashToCurve25519U(data, offsets, dst);
    (curveVectors.vectors as Vector[]).forEach((v, i) => {
      expect(
        F.decodeLE(out, 32 * i)
          .toString(16)
          .padStart(64, '0'),
      ).toBe(v.Px);
    });
  });

  it('matches the RFC vectors one by one (batch of one: no shared inversion)', () => {
    for (const v of curveVectors.vectors as Vector[]) {
      const { data, offsets } = pack([utf8ToBytes(message(v))]);
      const u = F.decodeLE(hashToCurve25519U(data, offsets, dst));
      expect(u.toString(16).padStart(64, '0')).toBe(v.Px);
      // P.y is consistent with P.x on v^2 = u^3 + A u^2 + u
      const y = BigInt(`0x${v.Py}`);
      const rhs = F.canon(F.add(F.add(F.mul(F.sqr(u), u), F.mul(486662n, F.sqr(u))), u));
      expect(F.canon(F.sqr(y))).toBe(rhs);
    }
  });

  it('equals @noble/curves (edwards25519 RO, birational map) on random messages and DSTs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 12 }),
        fc.uint8Array({ minLength: 1, maxLength: 60 }),
        (msgs, tag) => {
          const { data, offsets } = pack(msgs);
          const out = hashToCurve25519U(data, offsets, tag);
          msgs.forEach((m, i) => {
            expect(F.decodeLE(out, 32 * i)).toBe(nobleU(m, tag));
          });
        },
      ),
      { numRuns: 25 },
    );
  });

  it('outputs lie in the prime-order subgroup: [l]P is the identity', () => {
    const { data, offsets } = pack([utf8ToBytes('a'), utf8ToBytes('b')]);
    const out = hashToCurve25519U(data, offsets, dst);
    for (let i = 0; i < 2; i++) {
      // Montgomery u back to an Edwards point (y = (u - 1) / (u + 1)); noble checks torsion.
      const u = F.decodeLE(out, 32 * i);
      const y = F.canon(F.mul(F.sub(u, 1n), F.invert(F.canon(F.add(u, 1n)))));
      const yBytes = new Uint8Array(32);
      F.encodeLE(y, yBytes, 0);
      const p = ed25519.Point.fromBytes(yBytes);
      expect(p.isTorsionFree()).toBe(true);
    }
  });
});

describe('expand_message_xmd (RFC 9380 5.3.1) and SHA-2 backends', () => {
  it('equals noble for random inputs and lengths', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ minLength: 1, maxLength: 255 }),
        fc.integer({ min: 1, max: 500 }),
        (msg, dst, len) => {
          expect(bytesToHex(expandMessageXmd(msg, dstPrime(dst), len))).toBe(
            bytesToHex(expand_message_xmd(msg, dst, len, nobleSha512)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('platform SHA-512 / SHA-256 equal noble', async () => {
    const { sha256: n256 } = await import('@noble/hashes/sha2.js');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (d) => {
        expect(bytesToHex(sha512(d))).toBe(bytesToHex(nobleSha512(d)));
        expect(bytesToHex(sha256(d))).toBe(bytesToHex(n256(d)));
      }),
      { numRuns: 50 },
    );
  });
});

describe('GF(2^255 - 19) helpers', () => {
  const Fp = ed25519.Point.Fp;
  const elem = fc.bigInt({ min: 0n, max: F.P - 1n });
  it('mul, sqr, invert, pow22523 and batchInvert equal noble', () => {
    fc.assert(
      fc.property(elem, elem, (a, b) => {
        expect(F.canon(F.mul(a, b))).toBe(Fp.mul(a, b));
        expect(F.canon(F.sqr(a))).toBe(Fp.sqr(a));
        expect(F.canon(F.pow22523(a))).toBe(Fp.pow(a, (F.P - 5n) / 8n));
        if (a !== 0n) expect(F.invert(a)).toBe(Fp.inv(a));
        const xs = [a, 0n, b, 1n];
        F.batchInvert(xs);
        expect(xs).toEqual([a === 0n ? 0n : Fp.inv(a), 0n, b === 0n ? 0n : Fp.inv(b), 1n]);
      }),
      { numRuns: 50 },
    );
  });
});

describe('hash_to_ristretto255 (RFC 9380 appendix B, RFC 9496)', () => {
  it('derives the RFC 9496 A.3 elements from their 64 uniform bytes', () => {
    for (const v of ristrettoVectors.vectors) {
      const uniform = nobleSha512(utf8ToBytes(v.label));
      expect(bytesToHex(ristretto255_hasher.deriveToCurve!(uniform).toBytes())).toBe(v.element);
    }
  });

  it('equals noble hashToCurve (expand_message_xmd to 64 bytes, then element derivation)', () => {
    const dst = utf8ToBytes('unseen-test-ristretto255_XMD:SHA-512_R255MAP_RO_');
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 5 }),
        (msgs) => {
          const { data, offsets } = pack(msgs);
          const out = ristrettoHash(data, offsets, dst);
          msgs.forEach((m, i) => {
            expect(bytesToHex(out.subarray(32 * i, 32 * i + 32))).toBe(
              bytesToHex(ristretto255_hasher.hashToCurve(m, { DST: dst }).toBytes()),
            );
          });
        },
      ),
      { numRuns: 10 },
    );
  });
});
