import { sha256 } from '@unseen/core';
import { createPool, type Pool } from '@unseen/workers';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fromWireError, resultTransferables, toWireError } from '../src/wire.js';
import { testTasks } from './fixtures/tasks.js';

describe('pool properties', () => {
  const pools: Pool[] = [createPool({ size: 0 }), createPool({ size: 1 }), createPool({ size: 3 })];
  afterAll(() => Promise.all(pools.map((p) => p.close())));

  it('map equals the direct computation, in order, for any chunks, pool and transfers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 2048 }), { maxLength: 24 }),
        fc.integer({ min: 0, max: pools.length - 1 }),
        fc.boolean(),
        async (chunks, p, move) => {
          const expected = chunks.map((c) => sha256(c));
          const args = chunks.map((c) => [c.slice()] as [Uint8Array]);
          const out = await pools[p]!.map(testTasks, 'sha256', args, {
            ...(move ? { transfer: ([c]: [Uint8Array]) => [c.buffer] } : {}),
          });
          expect(out).toEqual(expected);
          if (move) expect(args.every(([c]) => c.byteLength === 0)).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('any thrown value crosses the boundary as an Error, keeping UnseenError codes', () => {
    fc.assert(
      fc.property(fc.anything(), (thrown) => {
        const wire = toWireError(thrown);
        // What crosses must survive structured clone.
        const back = fromWireError(structuredClone(wire), 'task (worker)');
        expect(back).toBeInstanceOf(Error);
        expect(typeof back.message).toBe('string');
      }),
    );
  });

  it('only whole-buffer views of results are transferred back', () => {
    const whole = new Uint8Array(8);
    const part = new Uint8Array(16).subarray(4);
    const nested = new Float64Array(2);
    const found = resultTransferables({ a: whole, b: [part, nested], c: 'x' });
    expect(found).toEqual([whole.buffer, nested.buffer]);
    expect(resultTransferables([whole, whole])).toEqual([whole.buffer]);
    expect(resultTransferables(7)).toEqual([]);
  });
});
