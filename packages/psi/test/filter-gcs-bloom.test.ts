/**
 * The setup filters: Golomb-compressed sets round-trip exactly (fast-check), reject corrupted
 * streams, cost about log2(M) + 1.5 bits per element, and both filters show the false-positive
 * rate they were sized for.
 */
import { isUnseenError, randomBytes } from '@unseen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bloomGeometry,
  bloomHas,
  buildBloom,
  buildGcs,
  decodeGcs,
  encodeGcs,
  gcsLookup,
} from '../src/filter.js';
import { TAG_BYTES } from '../src/group.js';
import { gcsRange } from '../src/setup.js';

describe('Golomb-compressed set', () => {
  it('round-trips and finds every element (random sizes and ranges)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 50 }), (n, logM) => {
        const m = 3 * Math.ceil(2 ** logM / 3);
        const tags = randomBytes(n * TAG_BYTES);
        const { gcs, order } = buildGcs(tags, n, m);
        const decoded = decodeGcs(encodeGcs(gcs), n, n, m);
        expect(decoded.start).toEqual(gcs.start);
        expect(decoded.remainders).toEqual(gcs.remainders);
        for (let i = 0; i < n; i++) expect(gcsLookup(decoded, tags, i)).toContain(order.indexOf(i));
      }),
      { numRuns: 60 },
    );
  });

  it('costs about log2(M) + 1.47 bits per element', () => {
    const n = 20_000;
    const m = gcsRange(1e-6, 2 ** 16);
    const { gcs } = buildGcs(randomBytes(n * TAG_BYTES), n, m);
    const bits = (encodeGcs(gcs).length * 8) / n;
    expect(bits).toBeGreaterThan(Math.log2(m) + 1.35);
    expect(bits).toBeLessThan(Math.log2(m) + 1.55);
  });

  it('false positives occur at about 1/M per lookup', () => {
    const n = 5000;
    const m = 2001;
    const { gcs } = buildGcs(randomBytes(n * TAG_BYTES), n, m);
    const queries = randomBytes(200_000 * TAG_BYTES);
    let hits = 0;
    for (let i = 0; i < 200_000; i++) if (gcsLookup(gcs, queries, i).length > 0) hits++;
    expect(hits / 200_000).toBeGreaterThan(0.5 / m);
    expect(hits / 200_000).toBeLessThan(1.5 / m);
  });

  it('rejects truncated streams, trailing bits and counts the bytes cannot hold', () => {
    const n = 300;
    const m = 3 * 2 ** 18;
    const bytes = encodeGcs(buildGcs(randomBytes(n * TAG_BYTES), n, m).gcs);
    const codes = [
      () => decodeGcs(bytes.slice(0, bytes.length - 3), n, n, m),
      () => decodeGcs(new Uint8Array([...bytes, 0]), n, n, m),
      () => decodeGcs(bytes, n + 5, n, m),
      () => decodeGcs(bytes, n, 1, m),
    ].map((f) => {
      try {
        f();
        return 'none';
      } catch (e) {
        return isUnseenError(e) ? e.code : 'other';
      }
    });
    expect(codes).toEqual(Array(4).fill('ERR_MALFORMED_MESSAGE'));
  });

  it('refuses parameters below 5 / 2^53 (about 2^-50.7) per lookup', () => {
    expect(() => gcsRange(1e-12, 2 ** 20)).toThrow(/2\^-50\.7/);
    expect(() => gcsRange(4.9 * 2 ** -53, 1)).toThrow(/2\^-50\.7/);
    expect(gcsRange(6 * 2 ** -53, 1)).toBeLessThanOrEqual(2 ** 51);
  });
});

describe('Bloom filter', () => {
  it('has no false negatives and about the designed false-positive rate', () => {
    const n = 3000;
    const p = 1e-3;
    const { bits, probes } = bloomGeometry(n, p);
    const tags = randomBytes(n * TAG_BYTES);
    const filter = buildBloom(tags, bits, probes);
    for (let i = 0; i < n; i++) expect(bloomHas(filter, bits, probes, tags, i)).toBe(true);
    const queries = randomBytes(100_000 * TAG_BYTES);
    let hits = 0;
    for (let i = 0; i < 100_000; i++) if (bloomHas(filter, bits, probes, queries, i)) hits++;
    expect(hits / 100_000).toBeLessThan(2.5 * p);
  });
});
