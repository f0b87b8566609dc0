import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

// Tests elsewhere run on sources; this one builds dist/ (tsc -b, incremental) and runs a pool
// from it in a plain Node process, as a user of the published package would.
describe('pool from dist/', () => {
  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'packages/workers'], { cwd: root, timeout: 180_000 });
  }, 200_000);

  it('runs JavaScript and TypeScript task modules, keeps error codes, survives a death', async () => {
    const script = fileURLToPath(new URL('./fixtures/run-from-dist.mjs', import.meta.url));
    // No --conditions=source: @unseen/* resolves to dist/ in the process and in its workers.
    const { stdout } = await run(process.execPath, [script], { cwd: root, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(out.ok).toBe(true);
    expect(out.detached).toBe(true);
    expect(out.main).toMatch(/packages\/workers\/dist\/index\.js$/);
    expect(out.worker).toMatch(/packages\/workers\/dist\/index\.js$/);
    expect(out.sum).toBe(42);
    expect(out.failed).toEqual({ name: 'UnseenError', code: 'ERR_INTEGRITY', message: 'bad tag' });
    expect(out.died).toBe('ERR_WORKER_DIED');
  }, 90_000);
});
