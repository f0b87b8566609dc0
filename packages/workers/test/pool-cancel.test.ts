import type { ErrorCode, UnseenError } from '@unseen/core';
import { createPool, type Pool } from '@unseen/workers';
import { afterAll, describe, expect, it } from 'vitest';
import { testTasks } from './fixtures/tasks.js';

describe('cancellation, timeouts and close', () => {
  const pool: Pool = createPool({ size: 1 });
  afterAll(() => pool.close());

  it('a signal that is already aborted rejects before anything moves', async () => {
    const ctrl = new AbortController();
    ctrl.abort(new Error('stop'));
    const bytes = new Uint8Array(8);
    const err = await pool
      .run(testTasks, 'byteLengths', [bytes], { transfer: [bytes.buffer], signal: ctrl.signal })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_ABORTED' });
    expect((err as UnseenError).cause).toEqual(new Error('stop'));
    expect(bytes.byteLength).toBe(8); // not transferred
  });

  it('aborting a running CPU-bound call rejects at once and frees the worker', async () => {
    const before = await pool.run(testTasks, 'info', []);
    const ctrl = new AbortController();
    const t0 = performance.now();
    const running = pool.run(testTasks, 'spin', [30_000], { signal: ctrl.signal });
    const queued = pool.run(testTasks, 'add', [1, 2], { signal: ctrl.signal });
    const other = pool.run(testTasks, 'add', [3, 4]); // not aborted: must still run
    setTimeout(() => ctrl.abort(), 100);
    await expect(running).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    await expect(queued).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    // The 30 s spin was stopped by ending its worker; a new worker serves the next call.
    await expect(other).resolves.toBe(7);
    expect(performance.now() - t0).toBeLessThan(15_000);
    const after = await pool.run(testTasks, 'info', []);
    expect(after.threadId).not.toBe(before.threadId);
  });

  it('aborting a map rejects it and drops its queued calls', async () => {
    const ctrl = new AbortController();
    const mapped = pool.map(
      testTasks,
      'sleep',
      Array.from({ length: 10 }, () => [50] as [number]),
      { signal: ctrl.signal },
    );
    setTimeout(() => ctrl.abort(), 60);
    await expect(mapped).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(pool.pending).toBe(0);
  });

  it('timeoutMs rejects a call that runs too long with ERR_TIMEOUT', async () => {
    await expect(pool.run(testTasks, 'spin', [30_000], { timeoutMs: 100 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    await expect(pool.run(testTasks, 'add', [2, 2], { timeoutMs: 10_000 })).resolves.toBe(4);
  });

  it('a failing map call drops the calls of that map that have not started', async () => {
    const started: number[] = [];
    const args: [number][] = Array.from({ length: 6 }, (_, i) => [i]);
    const mapped = pool.map(testTasks, 'sleep', args, {
      transfer: (_a, i) => {
        started.push(i);
        return [];
      },
      timeoutMs: 5_000,
    });
    await expect(mapped).resolves.toHaveLength(6);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    const failing = pool.map(testTasks, 'fail', [
      ['ERR_OVERFLOW', 'first'],
      ...Array.from({ length: 7 }, (): [ErrorCode, string] => ['ERR_INTEGRITY', 'later']),
    ]);
    await expect(failing).rejects.toMatchObject({ code: 'ERR_OVERFLOW' });
    // At most the next call of the map was already posted to the worker; the other six are
    // dropped without running.
    expect(pool.pending).toBeLessThanOrEqual(1);
    await expect(pool.run(testTasks, 'add', [1, 1])).resolves.toBe(2);
    expect(pool.pending).toBe(0);
  });

  it('close rejects queued and running calls, ends the workers, and refuses new calls', async () => {
    const closing = createPool({ size: 2 });
    await closing.run(testTasks, 'add', [0, 0]);
    const calls = [
      closing.run(testTasks, 'spin', [30_000]),
      closing.run(testTasks, 'sleep', [30_000]),
      closing.run(testTasks, 'add', [1, 1]), // queued behind them
    ];
    expect(closing.pending).toBe(3);
    const outcomes = Promise.allSettled(calls);
    const t0 = performance.now();
    await closing.close();
    expect(performance.now() - t0).toBeLessThan(10_000);
    for (const o of await outcomes) {
      expect(o).toMatchObject({ status: 'rejected', reason: { code: 'ERR_INVALID_STATE' } });
    }
    expect(closing.closed).toBe(true);
    expect(closing.pending).toBe(0);
    await expect(closing.run(testTasks, 'add', [1, 1])).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
    });
    await closing.close(); // idempotent
  });
});
