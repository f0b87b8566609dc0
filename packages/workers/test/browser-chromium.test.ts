import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  chromiumSuite,
  serveDirectory,
} from '../../../test/utils/chromium.js';

const { suite, reason } = chromiumSuite(describe);

suite(`pool in headless Chromium (Web Workers)${reason}`, () => {
  let dir = '';
  let www: Awaited<ReturnType<typeof serveDirectory>> | undefined;
  let origin = '';

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is required when CI=true`).toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'unseen-workers-browser-'));
    const here = fileURLToPath(new URL('./browser/', import.meta.url));
    // Bundle the page and the worker script as the browser build would: `browser` condition,
    // and `source` so that @unseen/* comes from src/ like the rest of the tests.
    await build({
      entryPoints: { page: join(here, 'page.ts'), worker: join(here, 'worker.ts') },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['source'],
      outdir: join(dir, 'www'),
      sourcemap: true,
      logLevel: 'silent',
    });
    await writeFile(
      join(dir, 'www', 'index.html'),
      '<!doctype html><meta charset="utf-8"><title>unseen workers</title><script type="module" src="./page.js"></script>\n',
    );
    www = await serveDirectory(join(dir, 'www'));
    origin = www.origin;
  }, 60_000);

  afterAll(async () => {
    await www?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hashes chunks in Web Workers and handles errors, death, abort and close', async () => {
    const profile = join(dir, 'profile');
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60_000,
    });
    try {
      const page = await context.newPage();
      const logs: string[] = [];
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
      await page.goto(`${origin}/`);
      await page.waitForFunction(
        () => {
          const w = window as unknown as { __report?: unknown; __error?: string };
          return w.__report !== undefined || w.__error !== undefined;
        },
        undefined,
        { timeout: 60_000 },
      );
      const { report, error } = await page.evaluate(() => {
        const w = window as unknown as { __report?: unknown; __error?: string };
        return { report: w.__report, error: w.__error };
      });
      expect(error, logs.join('\n')).toBeUndefined();
      const r = report as Record<string, unknown>;
      expect(r.size).toBe(2);
      expect(r.digestsMatch).toBe(true);
      expect(r.detached).toBe(true);
      expect(r.thrown).toEqual({
        name: 'UnseenError',
        code: 'ERR_INTEGRITY',
        message: 'tag mismatch',
      });
      // self.close() fires no event; the pool learns of it through the worker's Web Lock.
      expect(r.died).toMatchObject({ name: 'UnseenError', code: 'ERR_WORKER_DIED' });
      expect(r.afterDeath).toBe(
        '709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c', // SHA-256(00 00 00)
      );
      expect(r.aborted).toMatchObject({ code: 'ERR_ABORTED' });
      expect(r.abortMs as number).toBeLessThan(10_000);
      expect(r.afterClose).toMatchObject({ code: 'ERR_INVALID_STATE' });
      expect(r.defaultSize).toBe(r.hardwareConcurrency);
      expect(r.sharedDigest).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', // FIPS 180-2 "abc"
      );
    } finally {
      await context.close();
    }
  }, 120_000);
});
