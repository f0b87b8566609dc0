/**
 * The README's example runs as written and prints what its comment says; the README's numbers
 * that are not measured elsewhere are checked here (the default Paillier size, the Bloom size).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from '@unseen/core';
import { describe, expect, it } from 'vitest';
import { bloomFilter } from '../src/filter.js';
import { TAG_BYTES } from '../src/group.js';
import * as psi from '../src/index.js';
import { decodeSetup } from '../src/setup.js';
import { DEFAULT_PAILLIER_BITS } from '../src/sum.js';
import { testPool } from './helpers.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pool = testPool(2);

describe('README', () => {
  it('the example runs and logs the intersection and its labels', async () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    expect(code).toContain("from '@unseen/psi'");
    const body = code.replace(/^import .*$/m, '').replaceAll('console.log(', 'log(');
    const logged: unknown[][] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
    await new AsyncFunction('PsiClient', 'PsiServer', 'log', body)(
      psi.PsiClient,
      psi.PsiServer,
      (...args: unknown[]) => logged.push(args),
    );
    expect(logged).toEqual([[['DE0002'], ['fraud-ring']]]);
    // the comment after the log call states the same
    expect(code).toMatch(/\/\/ \[ 'DE0002' \] \[ 'fraud-ring' \]/);
  });

  it('sum mode defaults to a 3072-bit Paillier modulus', async () => {
    expect(readme).toContain('3072-bit modulus by default');
    expect(DEFAULT_PAILLIER_BITS).toBe(3072);
    const server = await psi.PsiServer.create({ items: ['a'], values: [1], mode: 'sum', pool });
    const setup = decodeSetup(await server.setup());
    // public key: version u8, tag u8, bits u16, ...
    expect(new DataView(setup.publicKey!.buffer).getUint16(2)).toBe(3072);
    expect(setup.ciphertextBytes).toBe(768);
  }, 120_000);

  it('Bloom filters cost 1.44 log2(1/p) bits per element plus a margin of about 3.3/sqrt(m)', () => {
    for (const [n, p] of [
      [1000, 1e-6],
      [20_000, 1e-9],
      [20_000, 1e-4],
    ] as const) {
      const tags = randomBytes(n * TAG_BYTES);
      const { bits } = bloomFilter(tags, p);
      const base = (n * Math.log2(1 / p)) / Math.LN2;
      expect(bits).toBeGreaterThanOrEqual(base);
      expect(bits).toBeLessThanOrEqual(base * (1 + 4 / Math.sqrt(bits) + 0.001) + 64);
    }
  });
});
