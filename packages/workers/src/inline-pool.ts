/**
 * The inline pool (size 0, or a platform without workers): the same API, errors, transfers and
 * cancellation as the worker pool, with every call run on the calling thread, one after another.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { BasePool, type Job } from './pool.js';
import { taskFunction } from './tasks.js';

/** Size 0: every task runs on the calling thread, with the same API and error behaviour. */
export class InlinePool extends BasePool {
  readonly size = 0;
  #closed = false;
  #pending = new Set<Job>();
  #tail: Promise<void> = Promise.resolve();

  get closed(): boolean {
    return this.#closed;
  }

  get pending(): number {
    return this.#pending.size;
  }

  protected enqueue(job: Job): void {
    this.#pending.add(job);
    const dispose = job.dispose;
    job.dispose = () => {
      dispose();
      this.#pending.delete(job);
    };
    // Calls run one after another, each on a later microtask than `run` itself, so that an
    // abort, a timeout or a failed sibling seen before the start still drops the call.
    this.#tail = this.#tail.then(async () => {
      if (job.done) return;
      if (job.group?.failed) {
        job.reject(new UnseenError('ERR_ABORTED', 'an earlier call of this map failed'));
        return;
      }
      try {
        job.resolve(await taskFunction(job.task, job.fn)(...job.args));
      } catch (e) {
        job.reject(e);
      }
    });
  }

  protected cancel(job: Job, error: UnseenError): void {
    // The calling thread cannot stop a running task; its result is discarded.
    job.reject(error);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of [...this.#pending]) {
      job.reject(new UnseenError('ERR_INVALID_STATE', 'the worker pool was closed'));
    }
  }
}
