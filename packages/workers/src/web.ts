/**
 * Browser Web Workers for the pool.
 *
 * A worker runs a module script that imports `@unseen/workers/worker` (and, in a bundled page,
 * the task modules it serves). Browsers report no event when a worker ends itself or is killed
 * for memory, so each worker holds a Web Lock named for it for its whole life; the pool asks for
 * the same lock and is granted it exactly when the worker is gone. Script load failures and
 * uncaught errors arrive as `error` events.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { wrap } from 'comlink/dist/esm/comlink.mjs';
import { createPoolOn, getDefaultPoolOn, type Platform, type PoolOptions } from './create.js';
import type { Pool, WorkerFactory, WorkerHandle } from './pool.js';
import type { WorkerApi } from './runtime.js';

/** Cores the page may use (`navigator.hardwareConcurrency`, 4 when unknown). */
export function defaultPoolSize(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  return typeof n === 'number' && n >= 1 ? n : 4;
}

let counter = 0;

/** Starts Web Workers running the task runtime, or undefined without `Worker`. */
export function webWorkerFactory(options: PoolOptions = {}): WorkerFactory | undefined {
  if (typeof Worker !== 'function') return undefined;
  let url: URL;
  try {
    url = new URL(
      options.workerUrl ?? new URL('./worker.js', import.meta.url),
      globalThis.location?.href,
    );
  } catch (e) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `workerUrl is not a valid URL: ${String(options.workerUrl)}`,
      { cause: e },
    );
  }
  const type = options.workerType ?? 'module';
  const locks = globalThis.navigator?.locks;
  const session = crypto.randomUUID();
  return {
    spawn(onDeath) {
      const worker = new Worker(url, { type });
      let dead = false;
      const die = (reason: string, cause?: unknown) => {
        if (dead) return;
        dead = true;
        worker.terminate();
        onDeath(reason, cause);
      };
      worker.addEventListener('error', (e) => {
        e.preventDefault();
        die(`error: ${e.message || 'worker script failed to load or threw'}`, e.error);
      });
      worker.addEventListener('messageerror', () => die('message could not be deserialized'));
      const remote = wrap<WorkerApi>(worker);
      let api = remote;
      if (locks !== undefined) {
        const name = `@unseen/workers/${session}/${counter++}`;
        // Resolves once the worker holds its life lock; our request is granted when it dies.
        const held = remote.hold(name);
        held.then(() => locks.request(name, () => die('the worker ended'))).catch(() => {});
        // No call reaches the worker before it holds the lock (and before our request for it
        // is made: the then above runs first). A task that ends the worker at once, before its
        // lock was granted, would otherwise leave nothing to tell the pool (self.close() fires
        // no event): the call would only time out.
        const call = remote.call;
        api = {
          hold: remote.hold,
          call: async (...args: Parameters<WorkerApi['call']>) => {
            await held;
            return call(...args);
          },
        } as unknown as typeof remote;
      }
      const handle: WorkerHandle = {
        api,
        async terminate() {
          dead = true;
          worker.terminate();
        },
        setBusy() {},
      };
      return handle;
    },
  };
}

const webPlatform: Platform = { defaultSize: defaultPoolSize, factory: webWorkerFactory };

/**
 * Creates a pool of `size` Web Workers (default: `navigator.hardwareConcurrency`; 0, or a
 * platform without workers, runs tasks inline). Pass `workerUrl` when the page is bundled.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for a bad size or options
 */
export function createPool(options: PoolOptions = {}): Pool {
  return createPoolOn(webPlatform, options);
}

/** The pool shared by every package on this page; see `configureDefaultPool` for `workerUrl`. */
export function getDefaultPool(): Pool {
  return getDefaultPoolOn(webPlatform);
}
