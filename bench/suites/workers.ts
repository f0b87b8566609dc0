/**
 * workers: what a call through the pool costs, and how a CPU-bound job scales with workers.
 *
 * - Per-call overhead: a trivial task through `pool.run` (one worker, calls one after another,
 *   and 1,000 calls in flight with `map`) against calling the same function directly.
 * - Speedup: SHA-256 (@noble/hashes through @unseen/core, the pure-JS hash the protocol packages
 *   use) over 64 MiB in 1 MiB chunks with `pool.map`, on 1 and 2 workers, against one thread.
 *   `speedup` = time on 1 worker / time on 2 workers, the median of paired runs that alternate
 *   the two pools (goal >= 1.8 on 2 cores).
 *
 * This file is also the task module the pool loads in its workers (`benchTasks`).
 */
import { loadavg } from 'node:os';
import { sha256 } from '@unseen/core';
import { createPool, defineTasks, type Pool } from '@unseen/workers';
import { defineSuite } from '../src/harness.js';

export const benchTasks = defineTasks('@unseen/bench/workers', import.meta.url, {
  add(a: number, b: number): number {
    return a + b;
  },
  sha256(chunk: Uint8Array): Uint8Array {
    return sha256(chunk);
  },
});

const MiB = 1024 * 1024;

/** Starts every worker of `pool`, loads the task module in each and lets the JIT warm up. */
async function warm(pool: Pool): Promise<void> {
  const chunk = () => [new Uint8Array(MiB)] as [Uint8Array];
  for (let round = 0; round < 3; round++) {
    await pool.map(benchTasks, 'sha256', Array.from({ length: 16 * pool.size }, chunk));
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export default defineSuite({
  name: 'workers',
  title: '@unseen/workers pool',
  async run(ctx) {
    const loadStart = loadavg()[0]!;
    ctx.metric('loadavg1AtStart', loadStart);
    const one = createPool({ size: 1 });
    const two = createPool({ size: 2 });
    const inline = createPool({ size: 0 });
    try {
      await Promise.all([warm(one), warm(two)]);

      // --- per-call overhead -------------------------------------------------------------
      const batch = 1000;
      const batchArgs = Array.from({ length: batch }, (_, i) => [i, 1] as [number, number]);
      const overhead = await ctx.group({
        name: 'per-call overhead: add(a, b)',
        description:
          'A trivial task: the cost of the pool itself (post, structured clone, scheduling, reply). `map` keeps 1,000 calls in flight on 2 workers.',
        unit: 'calls',
        time: 1000,
        tasks: [
          {
            name: 'pool.run, 1 worker, one call at a time',
            role: 'unseen',
            items: 1,
            fn: () => one.run(benchTasks, 'add', [1, 2]),
          },
          {
            name: `pool.map, 2 workers, ${batch} calls`,
            role: 'unseen',
            items: batch,
            fn: () => two.map(benchTasks, 'add', batchArgs),
          },
          {
            name: 'inline pool (size 0)',
            role: 'unseen',
            items: 1,
            fn: () => inline.run(benchTasks, 'add', [1, 2]),
          },
          {
            name: 'direct call',
            role: 'baseline',
            items: 1,
            fn: () => benchTasks.fns.add(1, 2),
          },
        ],
      });
      const [run1, map2, inlineRun, direct] = overhead.tasks;
      ctx.metric('runOverheadUs', (run1!.meanMs - direct!.meanMs) * 1000);
      ctx.metric('mapPerCallUs', (map2!.meanMs / batch) * 1000);
      ctx.metric('inlineOverheadUs', (inlineRun!.meanMs - direct!.meanMs) * 1000);

      // --- speedup of a CPU-bound job ----------------------------------------------------
      const total = 64 * MiB;
      const chunkSize = MiB;
      const chunks = Array.from({ length: total / chunkSize }, () => {
        const chunk = new Uint8Array(chunkSize);
        for (let off = 0; off < chunkSize; off += 65536) {
          crypto.getRandomValues(chunk.subarray(off, off + 65536));
        }
        return [chunk] as [Uint8Array];
      });
      const expected = chunks.map(([c]) => sha256(c));
      for (const pool of [one, two]) {
        const got = await pool.map(benchTasks, 'sha256', chunks);
        if (!got.every((d, i) => d.every((b, j) => b === expected[i]![j]))) {
          throw new Error(`pool of ${pool.size}: digests differ from the main thread's`);
        }
      }
      const scaling = await ctx.group({
        name: 'SHA-256 over 64 MiB in 1 MiB chunks',
        description:
          'pool.map over 64 chunks (copied to the workers, digests moved back) against one thread hashing them in a loop. Pure-JS SHA-256 (@noble/hashes).',
        unit: 'bytes',
        time: 3000,
        iterations: 8,
        tasks: [
          {
            name: '2 workers',
            role: 'unseen',
            items: total,
            fn: () => two.map(benchTasks, 'sha256', chunks),
          },
          {
            name: '1 worker',
            role: 'unseen',
            items: total,
            fn: () => one.map(benchTasks, 'sha256', chunks),
          },
          {
            name: 'main thread, no pool',
            role: 'baseline',
            items: total,
            fn: () => chunks.map(([c]) => sha256(c)),
          },
        ],
      });
      const [w2, w1, main] = scaling.tasks;
      // The headline figure alternates the two pools run by run and takes the median of the
      // paired ratios, so that load from other processes that comes and goes during the suite
      // weighs on both sides alike (the table above runs each side in its own time window).
      const rounds = ctx.full ? 15 : 7;
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        let t = performance.now();
        await one.map(benchTasks, 'sha256', chunks);
        const t1 = performance.now() - t;
        t = performance.now();
        await two.map(benchTasks, 'sha256', chunks);
        ratios.push(t1 / (performance.now() - t));
      }
      const speedup = median(ratios);
      ctx.log(`paired 1-worker/2-worker ratios: ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
      ctx.metric('speedup', speedup);
      ctx.metric(
        'speedupPairedRatios',
        ratios.map((x) => Number(x.toFixed(3))),
      );
      ctx.metric('speedupOfMeans', w1!.meanMs / w2!.meanMs);
      ctx.metric('speedupVsMainThread', main!.meanMs / w2!.meanMs);
      ctx.metric('sha256MBps2Workers', (w2!.itemsPerSec ?? 0) / 1e6);
      ctx.metric('sha256MBps1Worker', (w1!.itemsPerSec ?? 0) / 1e6);
      const loadEnd = loadavg()[0]!;
      ctx.metric('loadavg1AtEnd', loadEnd);
      ctx.note(
        `speedup (1 worker -> 2 workers, SHA-256 over 64 MiB in 1 MiB chunks) = ${speedup.toFixed(2)}x; goal >= 1.8x on 2 cores. 1-minute load average at start ${loadStart.toFixed(2)}, at end ${loadEnd.toFixed(2)}: other processes on the machine take cores from the 2-worker run.`,
      );
    } finally {
      await Promise.all([one.close(), two.close(), inline.close()]);
    }
  },
});
