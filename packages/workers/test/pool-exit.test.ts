import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('process exit', () => {
  it('an idle pool never keeps a Node process alive (no close needed)', async () => {
    const script = fileURLToPath(new URL('./fixtures/exits-without-close.ts', import.meta.url));
    // execFile kills the child at the timeout and rejects: a hang fails this test.
    const { stdout } = await run(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', script],
      { timeout: 30_000 },
    );
    expect(JSON.parse(stdout.trim())).toMatchObject({ sums: [3, 7] });
  }, 40_000);
});
