import { sha256 } from '@unseen/core';
import { createPool, type Pool } from '@unseen/workers';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { testTasks } from './fixtures/tasks.js';

describe('pool results', () => {
  const pool: Pool = createPool({ size: 2 });
  afterAll(() => pool.close());

  it('runs a task in a worker and returns its result', async () => {
    expect(pool.size).toBe(2);
    await expect(pool.run(testTasks, 'add', [2, 40])).resolves.toBe(42);
    const info = await pool.run(testTasks, 'info', []);
    expect(info.threadId).toBeGreaterThan(0); // not the main thread (0)
  });

  it('map returns results in input order, across both workers', async () => {
    // Later chunks finish first: results must still come back in input order.
    const delays = [60, 40, 20, 0, 30, 10, 50, 0];
    const threads = await pool.map(
      testTasks,
      'sleep',
      delays.map((d) => [d] as [number]),
    );
    expect(threads).toHaveLength(delays.length);
    expect(new Set(threads).size).toBe(2);
    const chunks = Array.from({ length: 16 }, (_, i) => new Uint8Array(1000 + i).fill(i));
    const digests = await pool.map(
      testTasks,
      'sha256',
      chunks.map((c) => [c] as [Uint8Array]),
    );
    expect(digests).toEqual(chunks.map((c) => sha256(c)));
  });

  it('is typed from the task module', async () => {
    // These calls really run: await them, or close() would reject them unobserved.
    const add = pool.run(testTasks, 'add', [1, 2]);
    const map = pool.map(testTasks, 'sha256', []);
    const sleep = pool.run(testTasks, 'sleep', [1]);
    expectTypeOf(add).resolves.toEqualTypeOf<number>();
    expectTypeOf(map).resolves.toEqualTypeOf<Uint8Array[]>();
    expectTypeOf(sleep).resolves.toEqualTypeOf<number>();
    await Promise.all([add, map, sleep]);
    // @ts-expect-error: wrong argument types are compile errors
    void pool.run(testTasks, 'add', ['1', 2]).catch(() => {});
    // @ts-expect-error: unknown task names are compile errors (and ERR_NOT_FOUND at run time)
    void pool.run(testTasks, 'nope', []).catch(() => {});
  });

  it('map of no chunks is an empty array', async () => {
    await expect(pool.map(testTasks, 'add', [])).resolves.toEqual([]);
  });

  it('transferred buffers are detached from the caller at once and come back', async () => {
    const bytes = Uint8Array.from([1, 2, 3, 200]);
    const running = pool.run(testTasks, 'doubleInPlace', [bytes], { transfer: [bytes.buffer] });
    expect(bytes.byteLength).toBe(0); // moved, not copied
    expect(bytes.buffer.byteLength).toBe(0);
    const back = await running;
    expect([...back]).toEqual([2, 4, 6, 144]);
  });

  it('map transfers per chunk', async () => {
    const chunks = [new Uint8Array(8).fill(1), new Uint8Array(16).fill(2)];
    const out = await pool.map(
      testTasks,
      'doubleInPlace',
      chunks.map((c) => [c] as [Uint8Array]),
      { transfer: ([c]) => [c.buffer] },
    );
    expect(chunks.map((c) => c.byteLength)).toEqual([0, 0]);
    expect(out.map((o) => [...o])).toEqual([Array(8).fill(2), Array(16).fill(4)]);
  });

  it('a buffer listed twice (two views of it) moves once', async () => {
    const buffer = new ArrayBuffer(32);
    const a = new Uint8Array(buffer, 0, 16);
    const b = new Uint8Array(buffer, 16, 16);
    await expect(
      pool.run(testTasks, 'byteLengths', [a, b], { transfer: [a.buffer, b.buffer] }),
    ).resolves.toEqual([16, 16]);
    expect(buffer.byteLength).toBe(0);
  });

  it('buffers that are not transferred are copied and stay usable', async () => {
    const a = new Uint8Array(64);
    const b = new Uint8Array(32);
    await expect(
      pool.run(testTasks, 'byteLengths', [a, b], { transfer: [a.buffer] }),
    ).resolves.toEqual([64, 32]);
    expect(a.byteLength).toBe(0);
    expect(b.byteLength).toBe(32);
  });

  it('a view of part of a buffer sends only its bytes, unless the buffer is transferred', async () => {
    const big = new Uint8Array(1 << 20);
    const part = big.subarray(1000, 1016);
    await expect(pool.run(testTasks, 'viewInfo', [part])).resolves.toEqual([
      { byteOffset: 0, bufferBytes: 16 },
    ]);
    expect(big.byteLength).toBe(1 << 20); // untouched
    const other = new Uint8Array(64);
    await expect(
      pool.run(testTasks, 'viewInfo', [other.subarray(8, 16)], { transfer: [other.buffer] }),
    ).resolves.toEqual([{ byteOffset: 8, bufferBytes: 64 }]);
  });
});
