import { sha256 } from '@unseen/core';
import { createPool, type PoolOptions } from '@unseen/workers';
import { describe, expect, it } from 'vitest';
import { testTasks } from './fixtures/tasks.js';

describe('inline pool (size 0)', () => {
  it('runs tasks on the calling thread with the same API', async () => {
    const pool = createPool({ size: 0 });
    expect(pool.size).toBe(0);
    await expect(pool.run(testTasks, 'add', [2, 3])).resolves.toBe(5);
    expect((await pool.run(testTasks, 'info', [])).threadId).toBe(0); // main thread
    const chunks = [new Uint8Array(3).fill(7), new Uint8Array(5).fill(9)];
    const digests = await pool.map(
      testTasks,
      'sha256',
      chunks.map((c) => [c] as [Uint8Array]),
    );
    expect(digests).toEqual(chunks.map((c) => sha256(c)));
    await pool.close();
  });

  it('moves transferred buffers as a worker pool does', async () => {
    const pool = createPool({ size: 0 });
    const bytes = Uint8Array.from([1, 2, 3]);
    const out = pool.run(testTasks, 'doubleInPlace', [bytes], { transfer: [bytes.buffer] });
    expect(bytes.byteLength).toBe(0);
    expect([...(await out)]).toEqual([2, 4, 6]);
  });

  it('keeps error codes, and honours signals, timeouts and close', async () => {
    const pool = createPool({ size: 0 });
    await expect(pool.run(testTasks, 'fail', ['ERR_REPLAY', 'seen'])).rejects.toMatchObject({
      code: 'ERR_REPLAY',
    });
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(pool.run(testTasks, 'add', [1, 1], { signal: ctrl.signal })).rejects.toMatchObject(
      { code: 'ERR_ABORTED' },
    );
    await expect(pool.run(testTasks, 'sleep', [200], { timeoutMs: 20 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
    await expect(
      pool.map(testTasks, 'fail', [
        ['ERR_OVERFLOW', 'a'],
        ['ERR_INTEGRITY', 'b'],
      ]),
    ).rejects.toMatchObject({ code: 'ERR_OVERFLOW' });
    const pending = pool.run(testTasks, 'sleep', [200]);
    await pool.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INVALID_STATE' });
    await expect(pool.run(testTasks, 'add', [1, 1])).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
    });
  });

  it('validates the options', () => {
    expect(() => createPool({ execArgv: 'x' as unknown as string[] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createPool({ resourceLimits: 5 } as unknown as PoolOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createPool(null as unknown as PoolOptions)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('validates the size', () => {
    expect(() => createPool({ size: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createPool({ size: 1.5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => createPool({ size: 100_000 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
