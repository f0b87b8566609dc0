/**
 * core: the PRG against the platform's raw randomness, HKDF against node:crypto, and the
 * fixed-point codec against a plain float copy.
 */
import { hkdfSync } from 'node:crypto';
import {
  decodeFixedPoint,
  encodeFixedPoint,
  type FixedPointParams,
  fillRandom,
  hkdf,
  Prg,
  randomBytes,
} from '@unseen/core';
import { defineSuite } from '../src/harness.js';

export default defineSuite({
  name: 'core',
  title: '@unseen/core primitives',
  async run(ctx) {
    const mib = ctx.full ? 16 : 1;
    const bytes = mib * 1024 * 1024;
    const out = new Uint8Array(bytes);
    const seed = randomBytes(16);
    const nodePrg = await Prg.create(seed, { backend: 'node' });
    const webPrg = await Prg.create(seed, { backend: 'webcrypto' });
    const prg = await ctx.group({
      name: `PRG: ${mib} MiB of mask bytes`,
      description:
        'Seeded AES-128-CTR keystream (deterministic) against crypto.getRandomValues (not seedable).',
      unit: 'bytes',
      tasks: [
        {
          name: 'Prg (node:crypto AES-CTR)',
          role: 'unseen',
          items: bytes,
          fn: () => nodePrg.fill(out),
        },
        {
          name: 'Prg (WebCrypto AES-CTR)',
          role: 'unseen',
          items: bytes,
          fn: () => webPrg.fill(out),
        },
        {
          name: 'crypto.getRandomValues',
          role: 'baseline',
          items: bytes,
          fn: () => fillRandom(out),
        },
      ],
    });
    for (const t of prg.tasks) ctx.metric(`${t.name} MB/s`, (t.itemsPerSec ?? 0) / 1e6);

    const ikm = randomBytes(32);
    const salt = randomBytes(16);
    await ctx.group({
      name: 'HKDF-SHA256, 32-byte output',
      tasks: [
        { name: 'hkdf (@noble/hashes)', role: 'unseen', fn: () => hkdf(ikm, salt, 'bench', 32) },
        {
          name: 'node:crypto hkdfSync',
          role: 'peer',
          fn: () => hkdfSync('sha256', ikm, salt, 'bench', 32),
        },
      ],
    });

    const n = ctx.full ? 1_000_000 : 100_000;
    const values = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1.5);
    const p32: FixedPointParams = { bits: 32, fractionalBits: 16, clip: 1 };
    const p64: FixedPointParams = { bits: 64, fractionalBits: 32, clip: 1 };
    const e32 = encodeFixedPoint(values, p32).data;
    const e64 = encodeFixedPoint(values, p64).data;
    await ctx.group({
      name: `fixed point: ${n.toLocaleString('en')} values`,
      description:
        'Encode clips and scales into the ring; the baseline copies the floats (no encoding).',
      unit: 'values',
      tasks: [
        {
          name: 'encode Z_2^32',
          role: 'unseen',
          items: n,
          fn: () => encodeFixedPoint(values, p32),
        },
        {
          name: 'encode Z_2^64',
          role: 'unseen',
          items: n,
          fn: () => encodeFixedPoint(values, p64),
        },
        { name: 'decode Z_2^32', role: 'unseen', items: n, fn: () => decodeFixedPoint(e32, p32) },
        { name: 'decode Z_2^64', role: 'unseen', items: n, fn: () => decodeFixedPoint(e64, p64) },
        { name: 'Float64Array copy', role: 'baseline', items: n, fn: () => values.slice() },
      ],
    });
  },
});
