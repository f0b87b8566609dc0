/**
 * @unseen/workers: one worker pool for Node worker_threads and browser Web Workers, on comlink.
 * This is the browser entry (Web Workers), chosen by bundlers through the `browser` export
 * condition; it exports the same API as the Node entry.
 * @module
 */
export * from './api.js';
export { createPool, getDefaultPool } from './web.js';
