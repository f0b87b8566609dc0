/**
 * X25519 (RFC 7748) on every backend: the section 5.2 vectors (single and iterated), the section
 * 6.1 Diffie-Hellman, a plain BigInt Montgomery ladder written from section 5 as an independent
 * implementation, identical bytes across backends (fast-check), and the rejections: small-order
 * points, non-canonical encodings, bad arguments.
 */
import {
  bytesToHex,
  concatBytes,
  defaultX25519Backend,
  hexToBytes,
  isCanonicalX25519,
  isUnseenError,
  isValidX25519PublicKey,
  randomBytes,
  X25519_BACKENDS,
  type X25519Backend,
  x25519Agree,
  x25519KeyPair,
  x25519PublicKey,
} from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import v from './vectors/rfc7748-x25519.json' with { type: 'json' };

const P = 2n ** 255n - 19n;

function decodeLE(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

function encodeLE(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((x >> BigInt(8 * i)) & 0xffn);
  return out;
}

const mod = (a: bigint) => ((a % P) + P) % P;

function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = mod(b);
  for (let k = e; k > 0n; k >>= 1n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
  }
  return r;
}

/** X25519 as RFC 7748 section 5 writes it: decodeScalar25519, decodeUCoordinate, the ladder. */
function referenceX25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  const s = Uint8Array.from(scalar);
  s[0]! &= 248;
  s[31]! &= 127;
  s[31]! |= 64;
  const k = decodeLE(s);
  const uu = Uint8Array.from(u);
  uu[31]! &= 127; // mask the most significant bit
  const x1 = mod(decodeLE(uu));
  let [x2, z2, x3, z3] = [1n, 0n, x1, 1n];
  let swap = 0n;
  for (let t = 254n; t >= 0n; t--) {
    const kt = (k >> t) & 1n;
    swap ^= kt;
    if (swap) [x2, x3, z2, z3] = [x3, x2, z3, z2];
    swap = kt;
    const A = x2 + z2;
    const AA = mod(A * A);
    const B = x2 - z2;
    const BB = mod(B * B);
    const E = AA - BB;
    const C = x3 + z3;
    const D = x3 - z3;
    const DA = mod(D * A);
    const CB = mod(C * B);
    x3 = mod((DA + CB) ** 2n);
    z3 = mod(x1 * (DA - CB) ** 2n);
    x2 = mod(AA * BB);
    z2 = mod(E * (AA + 121665n * E));
  }
  if (swap) [x2, z2] = [x3, z3];
  return encodeLE(mod(x2 * pow(z2, P - 2n)));
}

/** The canonical small-order u-coordinates (libsodium's `has_small_order` list). */
const SMALL_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

/** Encodings that are not canonical: p, p + 1 (non-canonical 1), 2^255 - 1, and bit 255 set. */
const NON_CANONICAL = [
  encodeLE(P),
  encodeLE(P + 1n),
  encodeLE(2n ** 255n - 1n),
  Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : i === 31 ? 0x80 : 0)),
];

async function failure(
  p: Promise<unknown>,
): Promise<{ code?: string; index?: number | undefined }> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isUnseenError(e)) return {};
  return { code: e.code, index: (e.details as { index?: number } | undefined)?.index };
}

const BACKENDS: readonly X25519Backend[] = X25519_BACKENDS;

describe('X25519 (RFC 7748)', () => {
  it('prefers node:crypto on Node', async () => {
    expect(await defaultX25519Backend()).toBe('node');
  });

  it('the reference ladder reproduces RFC 7748 section 5.2 (so it can judge the backends)', () => {
    for (const t of v.scalarMultiplication) {
      expect(bytesToHex(referenceX25519(hexToBytes(t.scalar), hexToBytes(t.u)))).toBe(t.output);
    }
  });

  for (const backend of BACKENDS) {
    describe(backend, () => {
      it('section 5.2: scalar multiplication vectors', async () => {
        const [one, two] = v.scalarMultiplication;
        const out = await x25519Agree(hexToBytes(one!.scalar), hexToBytes(one!.u), { backend });
        expect(bytesToHex(out)).toBe(one!.output);
        // The second vector's u has bit 255 set: RFC 7748 masks it, unseen refuses such
        // encodings (no honest party sends one); masked, it gives the published output.
        const u = hexToBytes(two!.u);
        expect(await failure(x25519Agree(hexToBytes(two!.scalar), u, { backend }))).toEqual({
          code: 'ERR_INVALID_POINT',
          index: 0,
        });
        u[31]! &= 0x7f;
        const masked = await x25519Agree(hexToBytes(two!.scalar), u, { backend });
        expect(bytesToHex(masked)).toBe(two!.output);
      });

      it('section 5.2: after 1 and 1,000 iterations', async () => {
        let k = hexToBytes(v.iterated.start);
        let u = hexToBytes(v.iterated.start);
        for (let i = 1; i <= 1000; i++) {
          const next = await x25519Agree(k, u, { backend });
          u = k;
          k = next;
          if (i === 1) expect(bytesToHex(k)).toBe(v.iterated.after1);
        }
        expect(bytesToHex(k)).toBe(v.iterated.after1000);
      }, 60_000);

      it('section 6.1: public keys and the shared secret, both ways', async () => {
        const d = v.diffieHellman;
        expect(bytesToHex(await x25519PublicKey(hexToBytes(d.alicePrivate), backend))).toBe(
          d.alicePublic,
        );
        expect(bytesToHex(await x25519PublicKey(hexToBytes(d.bobPrivate), backend))).toBe(
          d.bobPublic,
        );
        const ab = await x25519Agree(hexToBytes(d.alicePrivate), hexToBytes(d.bobPublic), {
          backend,
        });
        const ba = await x25519Agree(hexToBytes(d.bobPrivate), hexToBytes(d.alicePublic), {
          backend,
        });
        expect(bytesToHex(ab)).toBe(d.shared);
        expect(bytesToHex(ba)).toBe(d.shared);
      });

      it('refuses every small-order point with its index, and returns nothing', async () => {
        const sk = randomBytes(32);
        for (const [i, hex] of SMALL_ORDER.entries()) {
          const keys = concatBytes(
            (await x25519KeyPair()).publicKey,
            (await x25519KeyPair()).publicKey,
            hexToBytes(hex),
          );
          const got = await failure(x25519Agree(sk, keys, { backend, firstIndex: 10 }));
          expect(got, `point ${i}`).toEqual({ code: 'ERR_INVALID_POINT', index: 12 });
        }
      });

      it('refuses non-canonical encodings before using the secret key', async () => {
        const sk = randomBytes(32);
        const good = (await x25519KeyPair()).publicKey;
        for (const bad of NON_CANONICAL) {
          const got = await failure(x25519Agree(sk, concatBytes(good, bad), { backend }));
          expect(got).toEqual({ code: 'ERR_INVALID_POINT', index: 1 });
        }
      });

      it('reports the lowest bad index of a batch wider than the WebCrypto window', async () => {
        const sk = randomBytes(32);
        const keys = new Uint8Array(32 * 150);
        const pk = (await x25519KeyPair()).publicKey;
        for (let i = 0; i < 150; i++) keys.set(pk, 32 * i);
        keys.set(hexToBytes(SMALL_ORDER[3]!), 32 * 130);
        keys.set(hexToBytes(SMALL_ORDER[2]!), 32 * 100);
        expect(await failure(x25519Agree(sk, keys, { backend }))).toEqual({
          code: 'ERR_INVALID_POINT',
          index: 100,
        });
      });

      it('accepts a point with a small-order component: clamped scalars kill it', async () => {
        // Adding T = (0, 0) of order 2 maps u to 1/u: [k](Q + T) = [k]Q since 8 | k.
        const sk = randomBytes(32);
        const q = (await x25519KeyPair()).publicKey;
        const mixed = encodeLE(pow(decodeLE(q), P - 2n));
        expect(isValidX25519PublicKey(mixed)).toBe(true);
        expect(bytesToHex(await x25519Agree(sk, mixed, { backend }))).toBe(
          bytesToHex(await x25519Agree(sk, q, { backend })),
        );
      });
    });
  }

  it('every backend gives the bytes of the reference ladder, on batches (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 0, maxLength: 4 }),
        async (sk, peerSecrets) => {
          const pubs = concatBytes(...peerSecrets.map((s) => referenceX25519(s, encodeLE(9n))));
          const want = bytesToHex(
            concatBytes(
              ...peerSecrets.map((_, i) => referenceX25519(sk, pubs.subarray(32 * i, 32 * i + 32))),
            ),
          );
          for (const backend of BACKENDS) {
            expect(bytesToHex(await x25519Agree(sk, pubs, { backend })), backend).toBe(want);
            expect(bytesToHex(await x25519PublicKey(sk, backend)), backend).toBe(
              bytesToHex(referenceX25519(sk, encodeLE(9n))),
            );
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('arbitrary u below p: the backends agree with the ladder or all refuse (fast-check)', async () => {
    // Most u are on the twist: X25519 is defined there too (RFC 7748 section 5).
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.bigInt({ min: 0n, max: P - 1n }),
        async (sk, u) => {
          const point = encodeLE(u);
          const want = referenceX25519(sk, point);
          const zero = want.every((b) => b === 0);
          for (const backend of BACKENDS) {
            const p = x25519Agree(sk, point, { backend });
            if (zero) expect(await failure(p)).toEqual({ code: 'ERR_INVALID_POINT', index: 0 });
            else expect(bytesToHex(await p)).toBe(bytesToHex(want));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('isValidX25519PublicKey: exactly the canonical points X25519 does not send to zero', () => {
    const sk = randomBytes(32);
    for (const hex of SMALL_ORDER) {
      expect(
        referenceX25519(sk, hexToBytes(hex)).every((b) => b === 0),
        hex,
      ).toBe(true);
      expect(isValidX25519PublicKey(hexToBytes(hex)), hex).toBe(false);
    }
    for (const bad of NON_CANONICAL) {
      expect(isCanonicalX25519(bad)).toBe(false);
      expect(isValidX25519PublicKey(bad)).toBe(false);
    }
    expect(isCanonicalX25519(encodeLE(P - 1n))).toBe(true);
    expect(isValidX25519PublicKey(new Uint8Array(31))).toBe(false);
    const pk = referenceX25519(randomBytes(32), encodeLE(9n));
    expect(isValidX25519PublicKey(pk)).toBe(true);
    expect(isValidX25519PublicKey(concatBytes(new Uint8Array(5), pk), 5)).toBe(true);
  });

  it('an empty batch gives an empty result', async () => {
    for (const backend of BACKENDS) {
      expect((await x25519Agree(randomBytes(32), new Uint8Array(0), { backend })).length).toBe(0);
    }
  });

  it('rejects bad arguments with ERR_INVALID_ARGUMENT', async () => {
    const code = async (p: () => Promise<unknown>) => (await failure(p())).code;
    expect(await code(() => x25519Agree(new Uint8Array(31), new Uint8Array(32)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(await code(() => x25519Agree(new Uint8Array(32), new Uint8Array(33)))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(
      await code(() => x25519Agree(new Uint8Array(32), new Uint8Array(32), { firstIndex: -1 })),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(
      await code(() =>
        x25519Agree(new Uint8Array(32), new Uint8Array(32), {
          backend: 'openssl' as X25519Backend,
        }),
      ),
    ).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(() => x25519PublicKey(new Uint8Array(3)))).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(() => x25519PublicKey('00'.repeat(32) as unknown as Uint8Array))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
  });
});
