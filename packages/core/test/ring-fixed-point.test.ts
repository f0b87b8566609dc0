import {
  decodeFixedPoint,
  encodeFixedPoint,
  type FixedPointParams,
  fixedPointCapacity,
  fixedPointError,
  isUnseenError,
  ringAdd,
  ringNegInto,
  ringSub,
  ringZeros,
} from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/** Ring vector -> BigInt elements, the independent reference. */
function toBig(bits: 32 | 64, v: Uint32Array): bigint[] {
  if (bits === 32) return Array.from(v, (x) => BigInt(x));
  const out: bigint[] = [];
  for (let i = 0; i < v.length; i += 2) out.push(BigInt(v[i]!) + (BigInt(v[i + 1]!) << 32n));
  return out;
}

describe('ring arithmetic matches BigInt modulo 2^bits', () => {
  for (const bits of [32, 64] as const) {
    it(`Z_2^${bits}: add, sub, neg`, () => {
      const mod = 1n << BigInt(bits);
      const words = bits / 32;
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 20 }),
          fc.infiniteStream(fc.integer({ min: 0, max: 0xffffffff })),
          (n, s) => {
            const it = s[Symbol.iterator]();
            const a = Uint32Array.from({ length: n * words }, () => it.next().value as number);
            const b = Uint32Array.from({ length: n * words }, () => it.next().value as number);
            const A = toBig(bits, a);
            const B = toBig(bits, b);
            expect(toBig(bits, ringAdd(bits, a, b))).toEqual(A.map((x, i) => (x + B[i]!) % mod));
            expect(toBig(bits, ringSub(bits, a, b))).toEqual(
              A.map((x, i) => (((x - B[i]!) % mod) + mod) % mod),
            );
            expect(toBig(bits, ringNegInto(bits, a.slice()))).toEqual(
              A.map((x) => (mod - x) % mod),
            );
          },
        ),
      );
    });
  }

  it('refuses vectors of different lengths', () => {
    try {
      ringAdd(32, ringZeros(32, 3), ringZeros(32, 4));
      expect.unreachable();
    } catch (e) {
      expect(isUnseenError(e, 'ERR_PARAMETER_MISMATCH')).toBe(true);
    }
  });
});

describe('fixed point', () => {
  const params = fc
    .oneof(
      fc.record({
        bits: fc.constant(32 as const),
        fractionalBits: fc.integer({ min: 0, max: 20 }),
        clip: fc.double({ min: 0.5, max: 100, noNaN: true }),
      }),
      fc.record({
        bits: fc.constant(64 as const),
        fractionalBits: fc.integer({ min: 0, max: 40 }),
        clip: fc.double({ min: 0.5, max: 1000, noNaN: true }),
      }),
    )
    .filter((p) => {
      const m = Math.round(p.clip * 2 ** p.fractionalBits);
      return m >= 1 && m <= (p.bits === 32 ? 2 ** 31 - 1 : 2 ** 53);
    });

  it('a sum of k encoded vectors decodes within k * 2^-(f+1) of the sum of clipped inputs', () => {
    fc.assert(
      fc.property(
        params,
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 16 }),
        fc.infiniteStream(fc.double({ min: -2000, max: 2000, noNaN: true })),
        (p, kWanted, n, stream) => {
          const k = Math.min(kWanted, fixedPointCapacity(p));
          const it = stream[Symbol.iterator]();
          const sum = ringZeros(p.bits, n);
          const plain = new Float64Array(n);
          let clippedSeen = 0;
          for (let j = 0; j < k; j++) {
            const v = Float64Array.from({ length: n }, () => it.next().value as number);
            const enc = encodeFixedPoint(v, p);
            clippedSeen += enc.clipped;
            expect(enc.clipped).toBe(v.filter((x) => Math.abs(x) > p.clip).length);
            sum.set(ringAdd(p.bits, sum, enc.data));
            v.forEach((x, i) => {
              plain[i] = plain[i]! + Math.max(-p.clip, Math.min(p.clip, x));
            });
          }
          const decoded = decodeFixedPoint(sum, p, k);
          const bound = fixedPointError(p, k);
          decoded.forEach((d, i) => {
            // The decoded double itself rounds at 2^-52 relative; allow for that on top.
            const slack = Math.abs(plain[i]!) * 2 ** -50;
            expect(Math.abs(d - plain[i]!)).toBeLessThanOrEqual(bound + slack);
          });
          expect(clippedSeen).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('capacity is the exact overflow limit: k extremes fit, k + 1 would wrap', () => {
    const p: FixedPointParams = { bits: 32, fractionalBits: 16, clip: 1 };
    const k = fixedPointCapacity(p);
    expect(k).toBe(Math.floor((2 ** 31 - 1) / 2 ** 16)); // 32767
    const ones = encodeFixedPoint(new Float64Array([1, -1]), p).data;
    let sum = ringZeros(32, 2);
    for (let i = 0; i < k; i++) sum = ringAdd(32, sum, ones);
    expect(Array.from(decodeFixedPoint(sum, p, k))).toEqual([k, -k]);
    // One more contribution wraps around: this is exactly what decode refuses.
    const wrapped = decodeFixedPoint(ringAdd(32, sum, ones), p, k);
    expect(wrapped[0]).toBe(-(k + 1));
    try {
      decodeFixedPoint(sum, p, k + 1);
      expect.unreachable();
    } catch (e) {
      expect(isUnseenError(e, 'ERR_OVERFLOW')).toBe(true);
    }
  });

  it('64-bit rings hold far more contributions', () => {
    const p: FixedPointParams = { bits: 64, fractionalBits: 16, clip: 1 };
    expect(fixedPointCapacity(p)).toBe(2 ** 47 - 1); // floor((2^63 - 1) / 2^16), exactly
  });

  it('reports clipping, including infinities, and rejects NaN', () => {
    const p: FixedPointParams = { bits: 32, fractionalBits: 8, clip: 2 };
    const { data, clipped } = encodeFixedPoint([5, -Infinity, 1, Infinity], p);
    expect(clipped).toBe(3);
    expect(Array.from(decodeFixedPoint(data, p))).toEqual([2, -2, 1, 2]);
    expect(() => encodeFixedPoint([Number.NaN], p)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('rejects parameters that cannot represent one value', () => {
    for (const bad of [
      { bits: 32, fractionalBits: 31, clip: 1 },
      { bits: 32, fractionalBits: 20, clip: 4096 },
      { bits: 64, fractionalBits: 40, clip: 2 ** 20 },
      { bits: 48, fractionalBits: 8, clip: 1 },
      { bits: 32, fractionalBits: 8, clip: 0 },
    ]) {
      expect(() => encodeFixedPoint([0], bad as FixedPointParams)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('fixed point at the edges of Z_2^64', () => {
  it('capacity is exact where 2^63 - 1 is not a double (f = 40, clip = 1)', () => {
    const p: FixedPointParams = { bits: 64, fractionalBits: 40, clip: 1 };
    const k = fixedPointCapacity(p);
    // (2^63 - 1) / 2^40 = 2^23 - 2^-40: at most 2^23 - 1 summands of 1 fit.
    expect(k).toBe(2 ** 23 - 1);
    // The sum of k ones, built as one ring element: k * 2^40 in (low, high) words.
    const sum = new Uint32Array([0, k * 2 ** 8]);
    expect(Array.from(decodeFixedPoint(sum, p, k))).toEqual([k]);
    // One more would wrap to -2^23, which is why decode refuses that count.
    expect(Array.from(decodeFixedPoint(new Uint32Array([0, 2 ** 31]), p, 1))).toEqual([-(2 ** 23)]);
    expect(() => decodeFixedPoint(sum, p, k + 1)).toThrow(
      expect.objectContaining({ code: 'ERR_OVERFLOW' }),
    );
  });

  it('decodes 64-bit sums above 2^53 units to the nearest double', () => {
    const p: FixedPointParams = { bits: 64, fractionalBits: 2, clip: 2 ** 50 };
    // 2^62 - 1 units = 2^60 - 0.25, whose nearest double is 2^60.
    expect(decodeFixedPoint(new Uint32Array([0xffffffff, 0x3fffffff]), p)[0]).toBe(2 ** 60);
  });
});
