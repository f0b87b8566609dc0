/**
 * What the headless-Chromium tests share: where Debian's Chromium is, its flags, whether the
 * suite runs, and a static server for the bundled page. Import it by relative path
 * (`../../../test/utils/chromium.js`); each test launches Chromium with its own playwright-core.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

/** Debian's chromium package (`apt-get install chromium`; CI installs it). */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, sandbox-free headless run in a container. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * On CI the browser run is mandatory (a missing Chromium fails the suite's setup); locally the
 * suite is skipped, with `reason` in its name, only when Chromium is not installed.
 */
export function chromiumSuite<D extends { skip: unknown }>(
  describe: D,
): { suite: D | D['skip']; reason: string; required: boolean } {
  const present = existsSync(CHROMIUM);
  const onCi = process.env.CI === 'true';
  return present || onCi
    ? { suite: describe, reason: '', required: true }
    : {
        suite: describe.skip,
        reason: ` (skipped: ${CHROMIUM} not found; apt-get install chromium)`,
        required: false,
      };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
};

/** Serves the files under `root` on 127.0.0.1 (`/` is index.html; nothing outside `root`). */
export async function serveDirectory(
  root: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = join(root, path === '/' ? 'index.html' : path);
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
