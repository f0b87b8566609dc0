/**
 * Node worker_threads workers for the pool.
 *
 * From `dist/` a worker runs `dist/node-worker.js`. From sources (tests and benches run with the
 * `source` export condition) it runs the plain-JS `node-bootstrap.mjs`, which registers tsx and
 * imports `node-worker.ts`, with `--conditions=source` so that `@unseen/*` resolves to sources
 * inside the worker as well. A worker is unreferenced while idle, so an idle pool never keeps
 * the process alive.
 * @module
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UnseenError } from '@unseen/core';
import { wrap } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { createPoolOn, getDefaultPoolOn, type Platform, type PoolOptions } from './create.js';
import type { Pool, WorkerFactory, WorkerHandle } from './pool.js';
import type { WorkerApi } from './runtime.js';

const LOADER_FLAGS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);

/** The process's flags without loader hooks (in both `--flag value` and `--flag=value` form). */
function inheritedExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const name = flag.split('=', 1)[0]!;
    if (LOADER_FLAGS.has(name)) {
      if (!flag.includes('=')) i++; // skip the value too
      continue;
    }
    out.push(flag);
  }
  return out;
}

const ownUrl = import.meta.url;
/** True when this module is the TypeScript source (tests, benches), not `dist/`. */
const fromSources = /\.ts(?:[?#].*)?$/.test(ownUrl);

/** Number of workers a default pool starts: the cores Node may use. */
export function defaultPoolSize(): number {
  return availableParallelism();
}

/** Starts Node worker_threads workers running the task runtime. */
export function nodeWorkerFactory(options: PoolOptions = {}): WorkerFactory {
  if (
    options.execArgv !== undefined &&
    !(Array.isArray(options.execArgv) && options.execArgv.every((a) => typeof a === 'string'))
  ) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'execArgv must be an array of strings');
  }
  if (
    options.resourceLimits !== undefined &&
    (typeof options.resourceLimits !== 'object' || options.resourceLimits === null)
  ) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'resourceLimits must be an object');
  }
  const execArgv = options.execArgv ?? inheritedExecArgv();
  const resourceLimits = options.resourceLimits;
  return {
    spawn(onDeath) {
      const common = resourceLimits === undefined ? {} : { resourceLimits };
      const worker = fromSources
        ? new Worker(new URL('./node-bootstrap.mjs', ownUrl), {
            ...common,
            execArgv: execArgv.some((a) => a === '--conditions=source' || a === '-C=source')
              ? execArgv
              : [...execArgv, '--conditions=source'],
            workerData: { entry: new URL('./node-worker.ts', ownUrl).href },
          })
        : new Worker(new URL('./node-worker.js', ownUrl), { ...common, execArgv });
      let dead = false;
      const die = (reason: string, cause?: unknown) => {
        if (dead) return;
        dead = true;
        onDeath(reason, cause);
      };
      worker.on('error', (e: Error & { code?: string }) => die(e.code ?? e.message, e));
      worker.on('messageerror', (e) => die('message could not be deserialized', e));
      worker.on('exit', (code) => die(`exit code ${code}`));
      worker.unref();
      const handle: WorkerHandle = {
        api: wrap<WorkerApi>(nodeEndpoint(worker)),
        async terminate() {
          dead = true;
          await worker.terminate();
        },
        setBusy(busy) {
          if (busy) worker.ref();
          else worker.unref();
        },
      };
      return handle;
    },
  };
}

const nodePlatform: Platform = { defaultSize: defaultPoolSize, factory: nodeWorkerFactory };

/**
 * Creates a pool of `size` workers (default: the available cores; 0 runs tasks inline). Workers
 * start on first use and are replaced when they die; call `close()` when done, although an idle
 * pool does not keep a Node process alive.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for a bad size or options
 * @example
 * ```ts
 * const pool = createPool({ size: 2 });
 * const digests = await pool.map(hashTasks, 'sha256', chunks.map((c) => [c]));
 * await pool.close();
 * ```
 */
export function createPool(options: PoolOptions = {}): Pool {
  return createPoolOn(nodePlatform, options);
}

/**
 * The pool shared by every package in this process (one per process, sized to the cores), so
 * that libraries using workers never start more workers than cores between them. Created on
 * first use, and again after someone closed it.
 */
export function getDefaultPool(): Pool {
  return getDefaultPoolOn(nodePlatform);
}
