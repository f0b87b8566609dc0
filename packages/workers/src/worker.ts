/**
 * The browser worker entry (`@unseen/workers/worker`): a Web Worker script calls
 * {@link serveTasks} once to expose the task runtime to the pool. A bundled page lists the task
 * modules the worker serves, which also keeps bundlers from dropping them; task modules not
 * listed are imported from their URL on first use (unbundled pages).
 * @module
 */
import { UnseenError } from '@unseen/core';
import { expose } from 'comlink/dist/esm/comlink.mjs';
import { createWorkerApi } from './runtime.js';
import { type TaskModule, taskRegistry } from './tasks.js';

let serving = false;

/**
 * Starts answering the pool in this worker. Call once, at the top level of the worker script.
 * @param modules task modules bundled into this worker (registered again if a bundler
 *   deduplicated their evaluation away)
 * @throws UnseenError `ERR_INVALID_STATE` when called twice or outside a worker
 * @example
 * ```ts
 * // worker.ts: bundle as its own entry, then createPool({ workerUrl: '/worker.js' })
 * import { serveTasks } from '@unseen/workers/worker';
 * import { psiTasks } from '@unseen/psi/tasks';
 * serveTasks(psiTasks);
 * ```
 */
export function serveTasks(...modules: TaskModule[]): void {
  if (serving) throw new UnseenError('ERR_INVALID_STATE', 'serveTasks was already called');
  const scope = globalThis as { postMessage?: unknown; document?: unknown };
  if (typeof scope.postMessage !== 'function' || scope.document !== undefined) {
    throw new UnseenError('ERR_INVALID_STATE', 'serveTasks must run inside a Web Worker');
  }
  const registry = taskRegistry();
  for (const m of modules) {
    if (!registry.has(m.name)) registry.set(m.name, m);
  }
  serving = true;
  expose(createWorkerApi((url) => import(/* @vite-ignore */ url)));
}
