import { availableParallelism } from 'node:os';
import * as workers from '@unseen/workers';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { otherTasks } from './fixtures/other-tasks.js';
import { testTasks } from './fixtures/tasks.js';

describe('default pool', () => {
  afterAll(() => workers.getDefaultPool().close());

  it('is one pool per process, sized to the cores', () => {
    const pool = workers.getDefaultPool();
    expect(workers.getDefaultPool()).toBe(pool);
    expect(pool.size).toBe(availableParallelism());
  });

  it('is shared by a second copy of the package (kept on globalThis)', async () => {
    vi.resetModules();
    const copy = (await import('@unseen/workers')) as typeof workers;
    expect(copy).not.toBe(workers); // a fresh module instance...
    expect(copy.getDefaultPool()).toBe(workers.getDefaultPool()); // ...same pool
  });

  it('two packages using it never start more workers than cores', async () => {
    const pool = workers.getDefaultPool();
    const n = 4 * availableParallelism();
    const [a, b] = await Promise.all([
      pool.map(
        testTasks,
        'spin',
        Array.from({ length: n }, () => [20] as [number]),
      ),
      pool.map(
        otherTasks,
        'spin',
        Array.from({ length: n }, () => [20] as [number]),
      ),
    ]);
    const threads = new Set([...a, ...b]);
    expect(threads.size).toBeLessThanOrEqual(availableParallelism());
    expect(threads.has(0)).toBe(false);
  });

  it('cannot be reconfigured while in use; after close a fresh one is made', async () => {
    const pool = workers.getDefaultPool();
    expect(() => workers.configureDefaultPool({ size: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_STATE' }),
    );
    await pool.close();
    workers.configureDefaultPool({ size: 1 });
    const fresh = workers.getDefaultPool();
    expect(fresh).not.toBe(pool);
    expect(fresh.size).toBe(1);
    await expect(fresh.run(testTasks, 'add', [1, 2])).resolves.toBe(3);
    await fresh.close();
    workers.configureDefaultPool({});
    expect(workers.getDefaultPool().size).toBe(availableParallelism());
  });
});
