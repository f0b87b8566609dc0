/**
 * Worker bootstrap used when @unseen/workers runs from its TypeScript sources (tests, benches):
 * Node 20 cannot load `.ts` in a worker_threads Worker, so this plain module registers tsx's
 * loader for the whole worker thread and then imports the real entry (`node-worker.ts`). The pool
 * starts it with `--conditions=source`, so `@unseen/*` imports inside the worker resolve to
 * sources too. Never used from `dist/`.
 * @module
 */
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
globalThis[Symbol.for('@unseen/workers/tsx')] = true;
await import(workerData.entry);
