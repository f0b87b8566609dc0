/**
 * The x25519 suite's scalars and point validation: clamped blinding pairs that invert each other
 * on the prime-order subgroup (RFC 7748 clamping accounted for), and ERR_INVALID_POINT for every
 * small-order, non-canonical or otherwise bad element in both suites, with its index (X25519
 * itself is tested in @unseen/core against RFC 7748).
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { bytesToHex, isUnseenError, utf8ToBytes } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLE, encodeLE, P } from '../src/field25519.js';
import { hashDst, hashToGroup, multiply, newBlindingPair, newKey } from '../src/group.js';
import { hashToCurve25519U } from '../src/hash-curve25519.js';
import { pack } from '../src/items.js';
import { clampedRepresentative, GROUP_ORDER, x25519BlindingPair } from '../src/x25519.js';

const isClamped = (b: Uint8Array) => (b[0]! & 7) === 0 && (b[31]! & 0xc0) === 0x40;

function le(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let t = x;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

/** u-coordinates of the points of order 1, 2, 4 and 8 on curve25519 and their non-canonical forms. */
const SMALL_ORDER_U = [
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
];
const NON_CANONICAL_U = [P, P + 1n, P + 18n, (1n << 255n) + 9n, (1n << 256n) - 1n];

function hashed(n: number): Uint8Array {
  const { data, offsets } = pack(Array.from({ length: n }, (_, i) => utf8ToBytes(`p${i}`)));
  return hashToCurve25519U(data, offsets, hashDst('x25519'));
}

async function expectInvalidPoint(p: Promise<unknown>, index: number): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isUnseenError(e, 'ERR_INVALID_POINT')).toBe(true);
  expect((e as { details: { index: number } }).details.index).toBe(index);
}

describe('x25519 clamped scalars', () => {
  it('clampedRepresentative finds the only clamped value of a residue class, when there is one', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: GROUP_ORDER - 1n }), (t) => {
        const c = clampedRepresentative(t);
        if (c === undefined) return;
        expect(c % GROUP_ORDER).toBe(t);
        expect(isClamped(le(c))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('blinding pairs are clamped and inverse modulo l', () => {
    for (let i = 0; i < 50; i++) {
      const { blind, unblind } = x25519BlindingPair();
      expect(isClamped(blind) && isClamped(unblind)).toBe(true);
      expect((decodeLE(blind) * decodeLE(unblind)) % GROUP_ORDER).toBe(1n);
    }
  });

  it('unblind undoes blind on hashed points, and blinding commutes with the server key', async () => {
    const points = hashed(20);
    const k = newKey('x25519');
    const { blind, unblind } = newBlindingPair('x25519');
    const direct = await multiply('x25519', k, points);
    const viaBlinding = await multiply(
      'x25519',
      unblind,
      await multiply('x25519', k, await multiply('x25519', blind, points)),
    );
    expect(bytesToHex(viaBlinding)).toBe(bytesToHex(direct));
    expect(
      bytesToHex(await multiply('x25519', unblind, await multiply('x25519', blind, points))),
    ).toBe(bytesToHex(points));
  });
});

describe('element validation (ERR_INVALID_POINT)', () => {
  it('x25519 rejects small-order and non-canonical u, reporting the index', async () => {
    const k = newKey('x25519');
    for (const u of [...SMALL_ORDER_U, ...NON_CANONICAL_U]) {
      const points = hashed(3);
      points.set(le(u).subarray(0, 32), 32); // element 1
      await expectInvalidPoint(multiply('x25519', k, points, 10), 11);
    }
  });

  it('x25519 kills the small-order part of a mixed point (clamped keys are multiples of 8)', async () => {
    // u of P + T for T of order 2 (0, 0): the torsion component does not change [k](P + T)
    const k = newKey('x25519');
    const p = hashed(1);
    const u = decodeLE(p);
    const mixed = new Uint8Array(32);
    encodeLE(invert(u), mixed, 0); // adding T = (0, 0) maps u to 1/u
    expect(bytesToHex(await multiply('x25519', k, mixed))).toBe(
      bytesToHex(await multiply('x25519', k, p)),
    );
  });

  it('ristretto255 rejects the identity, non-canonical and invalid encodings', async () => {
    const k = newKey('ristretto255');
    const good = ristretto255.Point.BASE.multiply(7n).toBytes();
    const bad = [
      new Uint8Array(32), // identity
      le(P - 1n + 2n), // non-canonical field element
      Uint8Array.from(good, (b, i) => (i === 0 ? b ^ 1 : b)), // negative s or off-curve
      Uint8Array.from({ length: 32 }, () => 0xff),
    ];
    for (const b of bad) {
      const points = new Uint8Array(64);
      points.set(good);
      points.set(b, 32);
      await expectInvalidPoint(multiply('ristretto255', k, points, 0), 1);
    }
  });

  it('ristretto255 blinding round trip', async () => {
    const { data, offsets } = pack([utf8ToBytes('x'), utf8ToBytes('y')]);
    const h = await hashToGroup('ristretto255', data, offsets);
    const { blind, unblind } = newBlindingPair('ristretto255');
    const back = await multiply('ristretto255', unblind, await multiply('ristretto255', blind, h));
    expect(bytesToHex(back)).toBe(bytesToHex(h));
  });
});

function invert(u: bigint): bigint {
  let r = 1n;
  let b = u % P;
  let e = P - 2n;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}
