/**
 * Beaver multiplication and probabilistic truncation, simulated for n parties in one process:
 * the dealer's correlations, every party's local steps and the openings (sums of shares), each
 * checked against plain BigInt arithmetic.
 */
import { decodeFixedPoint, encodeFixedPoint, type RingBits } from '@unseen/core';
import {
  additive,
  asTriple,
  asTruncation,
  beaverFinish,
  beaverMask,
  type CorrelationSpec,
  correctionWords,
  dealCorrelation,
  decodeRingIntegers,
  encodeRingIntegers,
  expandCorrelation,
  truncationFinish,
  truncationMask,
} from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

async function partyMaterial(spec: CorrelationSpec, n: number): Promise<Uint32Array[][]> {
  const { seeds, correction } = await dealCorrelation(spec, n);
  expect(correction.length).toBe(correctionWords(spec));
  return Promise.all(
    seeds.map((s, p) => expandCorrelation(spec, p, n, s, p === n - 1 ? correction : undefined)),
  );
}

async function beaver(
  bits: RingBits,
  n: number,
  x: Uint32Array,
  y: Uint32Array,
): Promise<Uint32Array> {
  const length = x.length / (bits / 32);
  const triples = (await partyMaterial({ kind: 'triple', bits, length, shift: 0 }, n)).map(
    asTriple,
  );
  const sx = additive.share(x, { parties: n, bits });
  const sy = additive.share(y, { parties: n, bits });
  const opened = additive.reveal(
    triples.map((t, p) => beaverMask(bits, sx[p]!, sy[p]!, t)),
    bits,
  );
  return additive.reveal(
    triples.map((t, p) => beaverFinish(bits, p, t, opened)),
    bits,
  );
}

async function truncate(
  bits: RingBits,
  n: number,
  z: Uint32Array,
  m: number,
): Promise<Uint32Array> {
  const length = z.length / (bits / 32);
  const pairs = (await partyMaterial({ kind: 'truncation', bits, length, shift: m }, n)).map(
    asTruncation,
  );
  const sz = additive.share(z, { parties: n, bits });
  const opened = additive.reveal(
    pairs.map((pair, p) => truncationMask(bits, p, sz[p]!, pair)),
    bits,
  );
  return additive.reveal(
    pairs.map((pair, p) => truncationFinish(bits, p, m, opened, pair)),
    bits,
  );
}

const floorDiv = (z: bigint, m: number): bigint => {
  const d = 1n << BigInt(m);
  return z >= 0n ? z / d : -((-z + d - 1n) / d);
};

describe('dealer correlations', () => {
  for (const bits of [32, 64] as const) {
    it(`Z_2^${bits}: triples satisfy c = a * b and truncation pairs their relations, for 2..5 parties`, async () => {
      const mod = 1n << BigInt(bits);
      for (const n of [2, 3, 5]) {
        const triple = (await partyMaterial({ kind: 'triple', bits, length: 50, shift: 0 }, n)).map(
          asTriple,
        );
        const open = (k: 'a' | 'b' | 'c') =>
          decodeRingIntegers(
            bits,
            additive.reveal(
              triple.map((t) => t[k]),
              bits,
            ),
          );
        const [a, b, c] = [open('a'), open('b'), open('c')];
        expect(c.map((v) => (v + mod) % mod)).toEqual(
          a.map((v, i) => (((v * b[i]!) % mod) + mod) % mod),
        );
        const m = 13;
        const pair = (
          await partyMaterial({ kind: 'truncation', bits, length: 50, shift: m }, n)
        ).map(asTruncation);
        const openU = (k: 'r' | 'rTrunc' | 'rMsb') =>
          decodeRingIntegers(
            bits,
            additive.reveal(
              pair.map((t) => t[k]),
              bits,
            ),
          ).map((v) => (v + mod) % mod);
        const [r, rt, rb] = [openU('r'), openU('rTrunc'), openU('rMsb')];
        const half = mod / 2n;
        expect(rb).toEqual(r.map((v) => (v >= half ? 1n : 0n)));
        expect(rt).toEqual(r.map((v) => (v % half) >> BigInt(m)));
      }
    });
  }
});

describe('Beaver multiplication equals the plain product', () => {
  for (const bits of [32, 64] as const) {
    const mod = 1n << BigInt(bits);
    it(`Z_2^${bits}, 2 to 5 parties (property)`, async () => {
      const big = bits === 32 ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.tuple(fc.integer({ min: -big, max: big }), fc.integer({ min: -big, max: big })),
            {
              minLength: 1,
              maxLength: 30,
            },
          ),
          fc.integer({ min: 2, max: 5 }),
          async (pairs, n) => {
            const x = encodeRingIntegers(
              bits,
              pairs.map((p) => p[0]),
            );
            const y = encodeRingIntegers(
              bits,
              pairs.map((p) => p[1]),
            );
            const z = decodeRingIntegers(bits, await beaver(bits, n, x, y));
            const want = pairs.map(([a, b]) => BigInt.asIntN(bits, (BigInt(a) * BigInt(b)) % mod));
            expect(z).toEqual(want);
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('a triple of the wrong length is refused', () => {
    const t = { a: new Uint32Array(2), b: new Uint32Array(2), c: new Uint32Array(2) };
    expect(codeOf(() => beaverMask(32, new Uint32Array(3), new Uint32Array(3), t))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    expect(codeOf(() => beaverFinish(32, 0, t, new Uint32Array(3)))).toBe('ERR_PARAMETER_MISMATCH');
  });
});

describe('probabilistic truncation', () => {
  for (const bits of [32, 64] as const) {
    const limit = 1n << BigInt(bits - 2);
    it(`Z_2^${bits}: floor(z / 2^m) or one more, for every |z| < 2^${bits - 2} (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.bigInt({ min: -limit + 1n, max: limit - 1n }), {
            minLength: 1,
            maxLength: 30,
          }),
          fc.integer({ min: 1, max: bits - 2 }),
          fc.integer({ min: 2, max: 4 }),
          async (zs, m, n) => {
            const edges = [
              0n,
              -1n,
              1n,
              limit - 1n,
              -limit + 1n,
              -(1n << BigInt(m)),
              (1n << BigInt(m)) - 1n,
            ];
            const all = [...zs, ...edges];
            const got = decodeRingIntegers(
              bits,
              await truncate(bits, n, encodeRingIntegers(bits, all), m),
            );
            got.forEach((g, i) => {
              const f = floorDiv(all[i]!, m);
              expect(g === f || g === f + 1n).toBe(true);
            });
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('rounds up with probability (z mod 2^m) / 2^m: unbiased (binomial test, 5 sigma)', async () => {
    const m = 8;
    const count = 40_000;
    for (const z of [1000n * 256n + 64n, -(77n * 256n) + 192n]) {
      const got = decodeRingIntegers(
        64,
        await truncate(64, 3, encodeRingIntegers(64, new Array(count).fill(z)), m),
      );
      const f = floorDiv(z, m);
      const ups = got.filter((g) => g === f + 1n).length;
      expect(got.every((g) => g === f || g === f + 1n)).toBe(true);
      const p = Number(((z % 256n) + 256n) % 256n) / 256;
      const sigma = Math.sqrt((p * (1 - p)) / count);
      expect(Math.abs(ups / count - p)).toBeLessThan(5 * sigma);
    }
  });

  it('fixed-point multiplication (Beaver, then truncation by f) is within 2^-f of the real product', async () => {
    const f = 16;
    const params = { bits: 64 as const, fractionalBits: f, clip: 2 ** 14 };
    const xs = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3000);
    const ys = Array.from({ length: 200 }, (_, i) => Math.cos(i * 7) * 100);
    const x = encodeFixedPoint(xs, params).data;
    const y = encodeFixedPoint(ys, params).data;
    const z = await truncate(64, 3, await beaver(64, 3, x, y), f);
    const got = decodeFixedPoint(z, params);
    const xq = decodeFixedPoint(x, params);
    const yq = decodeFixedPoint(y, params);
    for (const [i, v] of got.entries())
      expect(Math.abs(v - xq[i]! * yq[i]!)).toBeLessThanOrEqual(2 ** -f);
  });

  it('refuses shifts outside [1, k - 2] and mismatched pairs', () => {
    const pair = { r: new Uint32Array(1), rTrunc: new Uint32Array(1), rMsb: new Uint32Array(1) };
    expect(codeOf(() => truncationFinish(32, 0, 0, new Uint32Array(1), pair))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => truncationFinish(32, 0, 31, new Uint32Array(1), pair))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    expect(codeOf(() => truncationFinish(32, 0, 3, new Uint32Array(2), pair))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
    expect(codeOf(() => truncationMask(32, 0, new Uint32Array(2), pair))).toBe(
      'ERR_PARAMETER_MISMATCH',
    );
  });
});
