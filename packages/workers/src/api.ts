/**
 * The platform-neutral part of the public API, re-exported by both entries (`index.ts` for
 * Node, `index.browser.ts` for browsers), which add `createPool` and `getDefaultPool`.
 * @module
 */
export { configureDefaultPool, type PoolOptions } from './create.js';
export { MAX_POOL_SIZE, type MapOptions, type Pool, type RunOptions } from './pool.js';
export {
  defineTasks,
  type TaskArgs,
  type TaskFunction,
  type TaskFunctions,
  type TaskModule,
  type TaskName,
  type TaskResult,
} from './tasks.js';
