/**
 * The worker side of the pool, shared by the Node and browser worker entries: finds (importing
 * on first use) the task module a call names, runs the function, and returns an outcome envelope
 * with the result's whole-buffer typed arrays marked for transfer.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { transfer } from 'comlink/dist/esm/comlink.mjs';
import { taskFunction, taskRegistry } from './tasks.js';
import { type Outcome, resultTransferables, toWireError } from './wire.js';

/** The object a worker exposes through comlink. */
export interface WorkerApi {
  /** Runs `task.fn(...args)`, importing `url` first if `task` is not registered yet. */
  call(task: string, url: string, fn: string, args: unknown[]): Promise<Outcome>;
  /**
   * Browsers: takes the Web Lock `name` and keeps it for the worker's whole life, so that the
   * pool, asking for the same lock, learns when the worker is gone. Resolves once held.
   */
  hold(name: string): Promise<void>;
}

/** Loads a module by URL (dynamic `import`, or through tsx for `.ts` sources). */
export type ModuleImporter = (url: string) => Promise<unknown>;

/** Builds the API a worker exposes. */
export function createWorkerApi(importModule: ModuleImporter): WorkerApi {
  const loading = new Map<string, Promise<void>>();

  async function ensureModule(name: string, url: string): Promise<void> {
    if (taskRegistry().has(name)) return;
    let pending = loading.get(url);
    if (pending === undefined) {
      pending = importModule(url).then(
        () => undefined,
        (e: unknown) => {
          loading.delete(url); // a later call may retry (e.g. after a transient failure)
          throw new UnseenError(
            'ERR_NOT_FOUND',
            `worker could not load task module ${name} from ${url}: ${e instanceof Error ? e.message : String(e)}`,
            { cause: e },
          );
        },
      );
      loading.set(url, pending);
    }
    await pending;
    if (!taskRegistry().has(name)) {
      throw new UnseenError(
        'ERR_NOT_FOUND',
        `${url} did not define task module ${name} (does it call defineTasks('${name}', import.meta.url, ...)?)`,
      );
    }
  }

  return {
    async call(name, url, fn, args) {
      try {
        await ensureModule(name, url);
        const f = taskFunction(taskRegistry().get(name)!, fn);
        const value = await f(...args);
        return transfer({ ok: true, value } satisfies Outcome, resultTransferables(value));
      } catch (e) {
        return { ok: false, error: toWireError(e) };
      }
    },
    hold(name) {
      const locks = globalThis.navigator?.locks;
      if (locks === undefined) return Promise.resolve();
      return new Promise<void>((resolve) => {
        locks.request(name, () => {
          resolve();
          return new Promise<never>(() => {}); // held until the worker ends
        });
      });
    },
  };
}
