/** The README's example runs as written (in a child process, on a temp database). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the README example prints a noisy mean, a receipt, a denial and a verified ledger', () => {
  const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const dir = mkdtempSync(join(tmpdir(), 'unseen-readme-'));
  // Inside the package folder, so that '@unseen/exchange' and '@unseen/core' resolve.
  const file = fileURLToPath(new URL(`./.readme-${process.pid}.ts`, import.meta.url));
  try {
    writeFileSync(file, code.replace('/tmp/unseen-example.db', join(dir, 'example.db')));
    const r = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', import.meta.resolve('tsx'), file],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("computation: 'aggregate.mean'");
    expect(r.stdout).toContain('1 finished');
    expect(r.stdout).toContain('ERR_POLICY_DENIED computation-not-allowed');
    expect(r.stdout.trim().endsWith('true')).toBe(true);
  } finally {
    rmSync(file, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
