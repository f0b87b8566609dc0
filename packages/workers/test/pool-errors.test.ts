import { isUnseenError, UnseenError } from '@unseen/core';
import { createPool, defineTasks, type Pool, type TaskModule } from '@unseen/workers';
import { afterAll, describe, expect, it } from 'vitest';
import { testTasks } from './fixtures/tasks.js';

describe('pool errors', () => {
  const pool: Pool = createPool({ size: 2 });
  afterAll(() => pool.close());

  it('an UnseenError thrown in a worker keeps its code, message and details', async () => {
    const err = await pool
      .run(testTasks, 'fail', ['ERR_INVALID_SHARE', 'share 3 is bad', { index: 3 }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnseenError);
    expect(isUnseenError(err, 'ERR_INVALID_SHARE')).toBe(true);
    expect((err as UnseenError).message).toBe('share 3 is bad');
    expect((err as UnseenError).details).toEqual({ index: 3 });
    // Both sides of the boundary show in the stack.
    expect((err as Error).stack).toContain('@unseen/workers/test.fail (worker)');
  });

  it('other errors keep their name and message, sync or async', async () => {
    const plain = await pool.run(testTasks, 'failPlain', ['bad type']).catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(Error);
    expect((plain as Error).name).toBe('TypeError');
    expect((plain as Error).message).toBe('bad type');
    const later = await pool.run(testTasks, 'failAsync', ['too far']).catch((e: unknown) => e);
    expect((later as Error).name).toBe('RangeError');
    expect((later as Error).message).toBe('too far');
  });

  it('a failing call leaves the worker serving', async () => {
    await expect(pool.run(testTasks, 'failPlain', ['x'])).rejects.toThrow('x');
    await expect(pool.run(testTasks, 'add', [1, 1])).resolves.toBe(2);
  });

  it('map rejects with the first failure', async () => {
    const args = [
      ['ERR_OVERFLOW', 'chunk 0'],
      ['ERR_OVERFLOW', 'chunk 1'],
    ] as const;
    await expect(
      pool.map(
        testTasks,
        'fail',
        args.map((a) => [...a]),
      ),
    ).rejects.toMatchObject({ code: 'ERR_OVERFLOW' });
  });

  it('rejects an unknown task, bad arguments and bad options before sending', async () => {
    const bad = testTasks as unknown as TaskModule<Record<string, () => unknown>>;
    await expect(pool.run(bad, 'nope', [])).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(pool.run(bad, 'toString', [])).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(pool.run({} as typeof testTasks, 'add', [1, 2])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(
      pool.run(testTasks, 'add', 1 as unknown as [number, number]),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(pool.run(testTasks, 'add', [1, 2], { timeoutMs: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
    await expect(
      pool.run(testTasks, 'add', [1, 2], { signal: {} as AbortSignal }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(
      pool.map(testTasks, 'add', [[1, 2]], {
        transfer: [] as unknown as () => Transferable[],
      }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('arguments that cannot be cloned or transferred reject with ERR_INVALID_ARGUMENT', async () => {
    const fn = () => 1;
    await expect(
      pool.run(testTasks, 'byteLengths', [fn as unknown as Uint8Array]),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const bytes = new Uint8Array(4);
    structuredClone(bytes.buffer, { transfer: [bytes.buffer] }); // detach it
    await expect(
      pool.run(testTasks, 'byteLengths', [bytes], { transfer: [bytes.buffer] }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(pool.run(testTasks, 'add', [2, 3])).resolves.toBe(5);
  });

  it('a result that cannot be cloned back rejects the call, and the worker lives on', async () => {
    await expect(pool.run(testTasks, 'unclonable', [])).rejects.toThrow(
      /returned a value that cannot be cloned/,
    );
    await expect(pool.run(testTasks, 'add', [2, 3])).resolves.toBe(5);
  });

  it('a module URL that does not define the module rejects with ERR_NOT_FOUND', async () => {
    const ghost = { name: '@unseen/workers/ghost', url: import.meta.url, fns: { f: () => 1 } };
    const missing = {
      name: '@unseen/workers/missing',
      url: new URL('./fixtures/does-not-exist.ts', import.meta.url).href,
      fns: { f: () => 1 },
    };
    await expect(pool.run(ghost, 'f', [])).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(pool.run(missing, 'f', [])).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('defineTasks validates and refuses a second module under the same name', () => {
    const url = 'file:///elsewhere/tasks.js';
    expect(() => defineTasks('', url, {})).toThrow(UnseenError);
    expect(() => defineTasks('x', 'not a url', {})).toThrow(UnseenError);
    expect(() => defineTasks('x', url, { f: 1 as unknown as () => 1 })).toThrow(UnseenError);
    expect(() => defineTasks('@unseen/workers/test', url, {})).toThrow(
      expect.objectContaining({ code: 'ERR_CONFLICT' }),
    );
    // The same file seen again (from src/ and dist/) is the same module.
    const a = defineTasks('@unseen/workers/dup', 'file:///p/src/tasks.ts', { f: () => 1 });
    const b = defineTasks('@unseen/workers/dup', 'file:///p/dist/tasks.js', { f: () => 2 });
    expect(a.fns.f()).toBe(1);
    expect(b.fns.f()).toBe(2);
  });
});
