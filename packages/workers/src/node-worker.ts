/**
 * The Node worker_threads entry: exposes the task runtime to the pool over the parent port.
 * From `dist/` the pool starts this file directly; from sources it is imported by
 * `node-bootstrap.mjs` after tsx is registered. A task module given as a `.ts` URL (tests on
 * sources) is loaded through tsx, which is registered here on first need.
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { UnseenError } from '@unseen/core';
import { expose } from 'comlink/dist/esm/comlink.mjs';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { createWorkerApi } from './runtime.js';

const TSX_KEY = Symbol.for('@unseen/workers/tsx');
const TS_URL = /\.[cm]?tsx?(?:[?#].*)?$/;

async function importModule(url: string): Promise<unknown> {
  const g = globalThis as { [TSX_KEY]?: boolean };
  if (TS_URL.test(url) && g[TSX_KEY] !== true) {
    let api: { register(): unknown };
    try {
      api = await import('tsx/esm/api');
    } catch (e) {
      throw new UnseenError(
        'ERR_UNSUPPORTED',
        `loading the TypeScript task module ${url} in a worker needs tsx (npm i -D tsx)`,
        { cause: e },
      );
    }
    api.register();
    g[TSX_KEY] = true;
  }
  return import(url);
}

if (parentPort === null) {
  throw new UnseenError('ERR_INVALID_STATE', '@unseen/workers node-worker must run in a Worker');
}
expose(createWorkerApi(importModule), nodeEndpoint(parentPort));
