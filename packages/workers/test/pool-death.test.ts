import { UnseenError } from '@unseen/core';
import { createPool, type Pool } from '@unseen/workers';
import { afterAll, describe, expect, it } from 'vitest';
import { testTasks } from './fixtures/tasks.js';

// comlink alone would leave these calls pending forever: the pool watches each worker's
// `error` and `exit` events, rejects the call it was running and replaces it.
describe('worker death', () => {
  const pool: Pool = createPool({ size: 2, resourceLimits: { maxOldGenerationSizeMb: 64 } });
  afterAll(() => pool.close());

  it('a task that exits its worker rejects with ERR_WORKER_DIED; the worker is replaced', async () => {
    const first = await pool.run(testTasks, 'info', []);
    const err = await pool.run(testTasks, 'exit', [3]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnseenError);
    expect(err).toMatchObject({ code: 'ERR_WORKER_DIED', details: { reason: 'exit code 3' } });
    // The pool goes on with a new worker.
    const threads = await pool.map(testTasks, 'sleep', [[20], [20], [20], [20]] as [number][]);
    expect(new Set(threads).size).toBe(2);
    expect(first.threadId).toBeGreaterThan(0);
  });

  it('out of memory (resourceLimits) rejects with ERR_WORKER_DIED', async () => {
    const err = await pool.run(testTasks, 'exhaustMemory', []).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_WORKER_DIED',
      details: { reason: 'ERR_WORKER_OUT_OF_MEMORY' },
    });
    expect((err as UnseenError).message).toMatch(/died/);
    await expect(pool.run(testTasks, 'add', [1, 2])).resolves.toBe(3);
  });

  it('only the call on the dying worker fails; calls on other workers complete', async () => {
    const slow = pool.run(testTasks, 'sleep', [200]);
    const dying = pool.run(testTasks, 'exit', [1]);
    await expect(dying).rejects.toMatchObject({ code: 'ERR_WORKER_DIED' });
    await expect(slow).resolves.toBeGreaterThan(0);
  });

  it('an uncaught error outside a call ends the worker; later calls run on a replacement', async () => {
    const dead = await pool.run(testTasks, 'throwLater', []);
    await new Promise((r) => setTimeout(r, 100)); // the error fires 5 ms after the call
    const results = await pool.map(
      testTasks,
      'add',
      Array.from({ length: 20 }, (_, i) => [i, 1] as [number, number]),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const threads = await pool.map(testTasks, 'sleep', [[30], [30]] as [number][]);
    expect(threads).not.toContain(dead);
  });

  it('a pool whose workers cannot start rejects calls instead of hanging', async () => {
    const broken = createPool({ size: 1, execArgv: ['--no-such-node-flag'] });
    try {
      await expect(broken.run(testTasks, 'add', [1, 2])).rejects.toMatchObject({
        code: 'ERR_WORKER_DIED',
      });
      await expect(broken.run(testTasks, 'add', [1, 2])).rejects.toMatchObject({
        code: 'ERR_WORKER_DIED',
      });
    } finally {
      await broken.close();
    }
  });
});
