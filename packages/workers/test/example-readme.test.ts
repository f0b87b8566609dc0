import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const pkg = fileURLToPath(new URL('..', import.meta.url));

describe('README example', () => {
  it('runs as documented and prints what the README says', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'example/hash.ts'],
      { cwd: pkg, timeout: 60_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+ workers hashed 32768 records$/);
    expect(lines.slice(1)).toEqual([
      'moved, not copied: true',
      'record 3/5 matches: true',
      'error from the worker: ERR_INVALID_ARGUMENT - cannot cut 10 bytes into 3 slices',
    ]);
  }, 90_000);

  it('the README shows the example files as they are', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const file of ['hash-tasks.ts', 'hash.ts']) {
      const code = await readFile(new URL(`../example/${file}`, import.meta.url), 'utf8');
      // Compare statements without formatting and comments.
      const norm = (s: string) =>
        s
          .replace(/\/\/.*$/gm, '')
          .replace(/\/\*\*.*?\*\//gs, '')
          .replace(/\s+/g, '')
          .replace(/,([)\]}])/g, '$1');
      expect(norm(readme)).toContain(norm(code));
    }
  });
});
