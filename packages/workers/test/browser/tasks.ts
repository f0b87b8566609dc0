/** Task module served by the browser test's bundled worker. Browser-only APIs, no Node. */
import { type ErrorCode, sha256, UnseenError } from '@unseen/core';
import { defineTasks } from '@unseen/workers';

export const browserTasks = defineTasks('@unseen/workers/browser-test', import.meta.url, {
  /** SHA-256 of one chunk, in pure JS (@noble/hashes through core). */
  sha256(chunk: Uint8Array): Uint8Array {
    return sha256(chunk);
  },
  fail(code: ErrorCode, message: string): never {
    throw new UnseenError(code, message);
  },
  spin(ms: number): number {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // busy
    }
    return ms;
  },
  /** Ends its own worker without answering: browsers fire no event for this. */
  closeSelf(): Promise<never> {
    (globalThis as unknown as { close(): void }).close();
    return new Promise(() => {});
  },
});
