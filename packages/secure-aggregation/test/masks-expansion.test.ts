import { fillRandom, Prg, randomBytes, ringAddInto, ringSubInto } from '@unseen/core';
import { createPool } from '@unseen/workers';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { combineMasks, type MaskTerm } from '../src/masks.js';
import { maskRange } from '../src/tasks.js';
import { inline } from './helpers.js';

const pool = createPool({ size: 2 });
afterAll(() => pool.close());

/** The masks computed the plain way: each seed's whole stream from core's Prg, added or subtracted. */
async function reference(
  bits: 32 | 64,
  words: number,
  terms: MaskTerm[],
  base: Uint32Array,
): Promise<Uint32Array> {
  const out = base.slice();
  for (const t of terms) {
    const stream = await (await Prg.create(t.seed)).uint32s(words);
    if (t.sign > 0) ringAddInto(bits, out, stream);
    else ringSubInto(bits, out, stream);
  }
  return out;
}

function terms(count: number): MaskTerm[] {
  return Array.from({ length: count }, (_, i) => ({
    seed: randomBytes(16),
    sign: i % 3 === 0 ? -1 : 1,
  }));
}

describe('mask expansion', () => {
  it('a range started mid-stream equals the same words of the whole stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 3000 }),
        async (startBlock, len) => {
          const start = 4 * startBlock;
          const words = 2 * len;
          const seed = randomBytes(16);
          const whole = await (await Prg.create(seed)).uint32s(start + words);
          const part = await maskRange(64, start, words, seed, Int8Array.of(1), null);
          expect(Array.from(part)).toEqual(Array.from(whole.subarray(start)));
        },
      ),
      { numRuns: 30 },
    );
  });

  for (const bits of [32, 64] as const) {
    it(`Z_2^${bits}: inline and pooled chunks equal the plain computation`, async () => {
      for (const words of [8, 1000, 70_000, 200_002]) {
        const base = fillRandom(new Uint32Array(words));
        const t = terms(words > 100_000 ? 3 : 7);
        const want = await reference(bits, words, t, base);
        const copy = base.slice();
        expect(Array.from(await combineMasks(bits, words, t, base, { pool: inline }))).toEqual(
          Array.from(want),
        );
        expect(Array.from(await combineMasks(bits, words, t, base, { pool }))).toEqual(
          Array.from(want),
        );
        expect(Array.from(base)).toEqual(Array.from(copy)); // the input is not modified
      }
    });
  }

  it('masks that are added and subtracted cancel, with carries in Z_2^64', async () => {
    const seed = randomBytes(16);
    const base = fillRandom(new Uint32Array(50_000));
    const out = await combineMasks(
      64,
      50_000,
      [
        { seed, sign: 1 },
        { seed, sign: -1 },
      ],
      base,
      { pool },
    );
    expect(Array.from(out)).toEqual(Array.from(base));
  });
});
