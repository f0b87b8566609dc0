/**
 * Pool construction shared by the Node and browser entries: options, `createPool`, and the one
 * default pool per process or page (kept on `globalThis`, so that every package, and every copy
 * of this package, shares it and the process never starts more workers than cores).
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { InlinePool } from './inline-pool.js';
import { MAX_POOL_SIZE, type Pool, type WorkerFactory } from './pool.js';
import { WorkerPool } from './worker-pool.js';

/** Options of {@link createPool}. Platform-specific fields are ignored elsewhere. */
export interface PoolOptions {
  /** Number of workers; 0 runs tasks inline. Default: the available cores. */
  size?: number;
  /** Node: V8 heap limits per worker, in MB. */
  resourceLimits?: {
    maxOldGenerationSizeMb?: number;
    maxYoungGenerationSizeMb?: number;
    codeRangeSizeMb?: number;
    stackSizeMb?: number;
  };
  /** Node: flags for the workers (default: the process's, minus loader hooks). */
  execArgv?: string[];
  /**
   * Browser: URL of the worker script: a module that imports `@unseen/workers/worker` and,
   * for bundled pages, the task modules it serves. Default: this package's own `worker.js`
   * next to the module (works unbundled and with bundlers that follow `new URL(..., import.meta.url)`).
   */
  workerUrl?: string | URL;
  /** Browser: `'module'` (default) or `'classic'` for a worker script bundled as an IIFE. */
  workerType?: 'module' | 'classic';
}

/** What an entry point supplies. */
export interface Platform {
  /** Cores available to workers. */
  defaultSize(): number;
  /** A worker factory, or undefined where the platform has no workers (then pools run inline). */
  factory(options: PoolOptions): WorkerFactory | undefined;
}

/** Creates a pool on `platform`. */
export function createPoolOn(platform: Platform, options: PoolOptions = {}): Pool {
  if (typeof options !== 'object' || options === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'createPool: options must be an object');
  }
  const size =
    options.size === undefined
      ? Math.min(platform.defaultSize(), MAX_POOL_SIZE)
      : aint(options.size, 'size', 0, MAX_POOL_SIZE);
  if (size === 0) return new InlinePool();
  const factory = platform.factory(options);
  return factory === undefined ? new InlinePool() : new WorkerPool(size, factory);
}

const DEFAULT_KEY = Symbol.for('@unseen/workers/default-pool');

interface DefaultSlot {
  pool: Pool | undefined;
  options: PoolOptions;
}

function defaultSlot(): DefaultSlot {
  const g = globalThis as { [DEFAULT_KEY]?: DefaultSlot };
  let slot = g[DEFAULT_KEY];
  if (slot === undefined) {
    slot = { pool: undefined, options: {} };
    g[DEFAULT_KEY] = slot;
  }
  return slot;
}

/** The shared pool, created on first use (again after it was closed). */
export function getDefaultPoolOn(platform: Platform): Pool {
  const slot = defaultSlot();
  if (slot.pool === undefined || slot.pool.closed) slot.pool = createPoolOn(platform, slot.options);
  return slot.pool;
}

/** Sets the options of the shared pool before its first use. */
export function configureDefaultPool(options: PoolOptions): void {
  const slot = defaultSlot();
  if (slot.pool !== undefined && !slot.pool.closed) {
    throw new UnseenError(
      'ERR_INVALID_STATE',
      'configureDefaultPool: the default pool is already in use; configure it before first use or close it first',
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'configureDefaultPool: expected options');
  }
  if (options.size !== undefined) aint(options.size, 'size', 0, MAX_POOL_SIZE);
  slot.options = { ...options };
}
