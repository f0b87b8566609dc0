/**
 * @unseen/workers: one worker pool for Node worker_threads and browser Web Workers, on comlink.
 * Packages contribute task modules with `defineTasks`; callers run them with `pool.run` and
 * `pool.map`, on their own pool (`createPool`) or the shared one (`getDefaultPool`). This is the
 * Node entry; bundlers pick `index.browser` through the `browser` export condition.
 * @module
 */
export * from './api.js';
export { createPool, getDefaultPool } from './node.js';
