/**
 * Runs in headless Chromium, bundled by esbuild with the `browser` condition: a pool of Web
 * Workers hashes chunks with SHA-256 (checked against WebCrypto), then exercises errors, a
 * worker that ends itself, abort and the default pool. Publishes a report on `window`.
 */
import { bytesToHex } from '@unseen/core';
import { configureDefaultPool, createPool, getDefaultPool } from '@unseen/workers';
import { browserTasks } from './tasks.js';

const workerUrl = new URL('./worker.js', import.meta.url);

async function errorOf(
  p: Promise<unknown>,
): Promise<{ name?: string | undefined; code?: string | undefined; message?: string | undefined }> {
  try {
    await p;
    return {};
  } catch (e) {
    const err = e as { name?: string; code?: string; message?: string };
    return { name: err.name, code: err.code, message: err.message };
  }
}

async function main() {
  const pool = createPool({ size: 2, workerUrl });
  // 16 chunks of 256 KiB with distinct contents, hashed in the workers.
  const chunks = Array.from({ length: 16 }, (_, i) => {
    const c = new Uint8Array(256 * 1024);
    for (let j = 0; j < c.length; j++) c[j] = (j * 31 + i * 7) & 0xff;
    return c;
  });
  const expected = await Promise.all(
    chunks.map(async (c) => bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', c)))),
  );
  const digests = await pool.map(
    browserTasks,
    'sha256',
    chunks.map((c) => [c] as [Uint8Array]),
    {
      transfer: ([c]) => [c.buffer],
    },
  );
  const thrown = await errorOf(pool.run(browserTasks, 'fail', ['ERR_INTEGRITY', 'tag mismatch']));
  const died = await errorOf(pool.run(browserTasks, 'closeSelf', [], { timeoutMs: 10_000 }));
  const afterDeath = await pool.run(browserTasks, 'sha256', [new Uint8Array(3)]);
  const ctrl = new AbortController();
  const t0 = performance.now();
  const spinning = pool.run(browserTasks, 'spin', [20_000], { signal: ctrl.signal });
  setTimeout(() => ctrl.abort(), 50);
  const aborted = await errorOf(spinning);
  const abortMs = performance.now() - t0;
  await pool.close();
  const afterClose = await errorOf(pool.run(browserTasks, 'spin', [1]));

  configureDefaultPool({ workerUrl });
  const shared = getDefaultPool();
  const sharedDigest = await shared.run(browserTasks, 'sha256', [new Uint8Array([97, 98, 99])]);
  await shared.close();

  return {
    size: pool.size,
    digestsMatch: digests.map(bytesToHex).every((d, i) => d === expected[i]),
    detached: chunks.every((c) => c.byteLength === 0),
    thrown,
    died,
    afterDeath: bytesToHex(afterDeath),
    aborted,
    abortMs,
    afterClose,
    defaultSize: shared.size,
    hardwareConcurrency: navigator.hardwareConcurrency,
    sharedDigest: bytesToHex(sharedDigest),
  };
}

const w = window as unknown as { __report?: unknown; __error?: string };
main().then(
  (r) => {
    w.__report = r;
  },
  (e: unknown) => {
    w.__error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e);
  },
);
