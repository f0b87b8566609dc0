/**
 * The stated false-positive rate is an upper bound (audit H3 and L5).
 *
 * - GCS: a tag's bucket and remainder are its words reduced exactly modulo n and M, and the range
 *   `gcsRange` picks keeps the exact per-lookup bound (1 + n/2^53) ceil(2^53/M) / 2^53 at or below
 *   p, also where 2^53/M is small (near 2^-51) and quantisation used to add up to 25 %.
 * - Bloom: probe positions are independent and uniform, so a built filter's rate is (X/m)^k with
 *   X its set bits; the server only publishes filters with (X/m)^k <= p; measured rates at
 *   p = 1e-4 over 300,000 queries per filter agree with (X/m)^k and stay below p, also for tiny
 *   filters where double hashing had a floor of about 1/m.
 *
 * Tags and queries come from core's seeded PRG, so the statistical checks are reproducible.
 */
import { prgBytes } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bloomFilter,
  bloomHas,
  bloomRate,
  buildGcs,
  gcsLookup,
  gcsValue,
  MAX_GCS_RANGE,
} from '../src/filter.js';
import { TAG_BYTES } from '../src/group.js';
import { gcsRange, MAX_SETUP_ENTRIES, MIN_LOOKUP_FPR } from '../src/setup.js';

const seed = (n: number) => new Uint8Array(16).fill(n);

/** The exact per-lookup bound of a GCS of range m over at most 2^28 elements. */
function gcsBound(m: number): number {
  const preimages = (2n ** 53n + BigInt(m) - 1n) / BigInt(m); // ceil(2^53 / m)
  return (1 + MAX_SETUP_ENTRIES / 2 ** 53) * (Number(preimages) / 2 ** 53);
}

/** p + 5 standard deviations of a binomial count, divided back: a one-sided 1e-6 test. */
function upper(rate: number, queries: number): number {
  const mean = rate * queries;
  return mean + 5 * Math.sqrt(mean) + 1;
}

describe('GCS false-positive bound', () => {
  it('the range meets p exactly, near the 2^-51 floor and everywhere else', () => {
    const rates: number[] = [];
    // near the floor, where ceil(2^53 / M) is 5 or 6 and rounding used to cost up to 25 %
    for (let c = 5.001; c < 40; c += 0.37) rates.push(c / 2 ** 53);
    for (let e = -50.6; e < -1; e += 0.173) rates.push(2 ** e);
    rates.push(MIN_LOOKUP_FPR, 1e-9 / 1000, 1e-6 / 65536, 0.5);
    for (const p of rates) {
      const m = gcsRange(p, 1);
      expect(m % 3).toBe(0);
      expect(m).toBeLessThanOrEqual(MAX_GCS_RANGE);
      expect(gcsBound(m)).toBeLessThanOrEqual(p);
    }
    fc.assert(
      fc.property(
        fc.double({ min: 1e-12, max: 0.5, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 20 }),
        (fpr, clients) => {
          const p = fpr / clients;
          if (p < MIN_LOOKUP_FPR) return;
          const m = gcsRange(fpr, clients);
          expect(gcsBound(m)).toBeLessThanOrEqual(p);
          // and not wastefully: one multiple of 3 less would break the bound or the floor
          expect(m === 3 || gcsBound(m - 3) > p * (1 - 2 ** -23)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a tag maps to its two 53-bit words reduced exactly modulo n and M', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: TAG_BYTES, maxLength: TAG_BYTES }),
        fc.integer({ min: 1, max: 2 ** 28 }),
        fc.integer({ min: 1, max: Math.floor(MAX_GCS_RANGE / 3) }),
        (tag, n, third) => {
          const m = 3 * third;
          const word = (at: number) =>
            BigInt(`0x${Buffer.from(tag.subarray(at, at + 7)).toString('hex')}`) & (2n ** 53n - 1n);
          const [b, l] = gcsValue(tag, 0, n, m);
          expect(BigInt(b)).toBe(word(0) % BigInt(n));
          expect(BigInt(l)).toBe(word(8) % BigInt(m));
        },
      ),
      { numRuns: 2000 },
    );
    // the largest words, where a floating-point scaling would round up
    const top = new Uint8Array(TAG_BYTES).fill(0xff);
    const m = MAX_GCS_RANGE - 2; // 2^51 - 2, a multiple of 3
    expect(gcsValue(top, 0, 1, m)[1]).toBe(Number((2n ** 53n - 1n) % BigInt(m)));
  });

  it('measured: at most p per lookup at p = 1e-4 (1,000,000 queries)', async () => {
    const n = 4000;
    const p = 1e-4;
    const m = gcsRange(p, 1);
    const { gcs } = buildGcs(await prgBytes(seed(1), n * TAG_BYTES), n, m);
    const q = 1_000_000;
    const queries = await prgBytes(seed(2), q * TAG_BYTES);
    let hits = 0;
    for (let i = 0; i < q; i++) if (gcsLookup(gcs, queries, i).length > 0) hits++;
    expect(hits).toBeLessThanOrEqual(upper(p, q));
    expect(hits).toBeGreaterThan(0.5 * p * q); // the filter is not trivially empty
  });
});

describe('Bloom filter false-positive bound', () => {
  it('measured rates equal (X/m)^k and stay at or below p = 1e-4, also for tiny filters', async () => {
    const p = 1e-4;
    const q = 300_000;
    let s = 10;
    for (const n of [1, 3, 5, 10, 40, 200, 3000]) {
      const tags = await prgBytes(seed(s++), n * TAG_BYTES);
      const { bits, probes, filter } = bloomFilter(tags, p);
      for (let i = 0; i < n; i++) expect(bloomHas(filter, bits, probes, tags, i)).toBe(true);
      const rate = bloomRate(filter, bits, probes);
      expect(rate).toBeLessThanOrEqual(p);
      const queries = await prgBytes(seed(s++), q * TAG_BYTES);
      let hits = 0;
      for (let i = 0; i < q; i++) if (bloomHas(filter, bits, probes, queries, i)) hits++;
      expect(hits, `n = ${n}, ${bits} bits, ${probes} probes`).toBeLessThanOrEqual(upper(p, q));
      // two-sided against the filter's own exact rate: the probes are independent and uniform
      expect(Math.abs(hits - rate * q)).toBeLessThanOrEqual(5 * Math.sqrt(rate * q) + 1);
    }
  }, 120_000);

  it('every published filter meets p and has no false negatives (random sizes and rates)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3000 }),
        fc.double({ min: 2 ** -50, max: 0.3, noNaN: true }),
        fc.integer({ min: 0, max: 255 }),
        async (n, p, s) => {
          const tags = await prgBytes(seed(s), n * TAG_BYTES);
          const { bits, probes, filter } = bloomFilter(tags, p);
          expect(probes).toBeLessThanOrEqual(64);
          expect(filter.length).toBe(Math.ceil(bits / 8));
          if (n > 0) expect(bloomRate(filter, bits, probes)).toBeLessThanOrEqual(p);
          for (let i = 0; i < n; i++) expect(bloomHas(filter, bits, probes, tags, i)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
