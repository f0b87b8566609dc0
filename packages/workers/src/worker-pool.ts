/**
 * The pool of real workers: a FIFO queue of calls served by up to `size` workers, each running
 * one call at a time (two when both belong to one `map`, see {@link MAP_DEPTH}).
 *
 * comlink carries each call; this module adds what comlink lacks: a worker that dies (crash,
 * `process.exit`, out of memory, a script that fails to load) rejects its calls with
 * `ERR_WORKER_DIED` and is replaced; an abort or deadline rejects a queued call at once and
 * stops a running one by ending its worker (which frees the core); `close()` rejects everything
 * pending. Workers start on demand and, in Node, do not keep the process alive while idle.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { transfer } from 'comlink/dist/esm/comlink.mjs';
import {
  BasePool,
  type Job,
  MAX_POOL_SIZE,
  type WorkerFactory,
  type WorkerHandle,
} from './pool.js';
import type { WorkerApi } from './runtime.js';
import { compactViews, fromWireError, type Outcome } from './wire.js';

interface Slot {
  handle: WorkerHandle;
  /** `handle.api.call`, taken once: each property read of a comlink proxy makes a new proxy. */
  call: WorkerApi['call'];
  /** Calls posted to this worker and not finished: one, or up to MAP_DEPTH of one map. */
  jobs: Job[];
  retired: boolean;
}

function sendError(job: Job, e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof Error && e.name === 'DataCloneError') {
    return new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${job.task.name}.${job.fn}: arguments could not be sent to the worker: ${message}`,
      { cause: e },
    );
  }
  return new TypeError(
    `${job.task.name}.${job.fn} returned a value that cannot be cloned to the caller (${message})`,
    { cause: e },
  );
}

/**
 * Calls of one `map` that a worker may hold at once: the one it runs and the next, already
 * posted, so that it never waits for the calling thread to be scheduled between two chunks
 * (on a busy machine that wait costs milliseconds per call). Only calls of the same map share
 * a worker this way: they share their fate (abort, timeout, first failure), so ending a worker
 * to stop one never hurts an unrelated call.
 */
const MAP_DEPTH = 2;

/** A pool of real workers started by `factory`. */
export class WorkerPool extends BasePool {
  readonly size: number;
  readonly #factory: WorkerFactory;
  readonly #slots: Slot[] = [];
  #queue: Job[] = [];
  #head = 0;
  #closed = false;
  #running = 0;
  readonly #terminating = new Set<Promise<void>>();

  constructor(size: number, factory: WorkerFactory) {
    super();
    this.size = aint(size, 'size', 1, MAX_POOL_SIZE);
    this.#factory = factory;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pending(): number {
    let queued = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]!.done) queued++;
    return queued + this.#running;
  }

  protected enqueue(job: Job): void {
    this.#queue.push(job);
    this.#pump();
  }

  protected cancel(job: Job, error: UnseenError): void {
    if (job.done) return;
    const slot = job.slot as Slot | undefined;
    job.reject(error);
    // A queued job is skipped when its turn comes. A running one cannot be interrupted inside
    // the worker (JavaScript has no preemption), so the worker is ended and later replaced.
    if (slot !== undefined) this.#retire(slot, error);
  }

  /** A worker for `job`: an idle one, a new one, or one running a sibling of the same map. */
  #slotFor(job: Job): Slot | undefined {
    const idle = this.#slots.find((s) => s.jobs.length === 0);
    if (idle !== undefined) return idle;
    if (this.#slots.length < this.size) return this.#spawn();
    if (job.group === undefined) return undefined;
    return this.#slots.find(
      (s) => s.jobs.length < MAP_DEPTH && s.jobs.every((j) => j.group === job.group),
    );
  }

  #pump(): void {
    while (this.#head < this.#queue.length) {
      const job = this.#queue[this.#head]!;
      if (job.done || job.group?.failed) {
        this.#head++;
        if (!job.done) {
          job.reject(new UnseenError('ERR_ABORTED', 'an earlier call of this map failed'));
        }
        continue;
      }
      let slot: Slot | undefined;
      try {
        slot = this.#slotFor(job);
      } catch (e) {
        // The platform refused to start a worker (bad execArgv, missing script, ...).
        this.#head++;
        job.reject(
          new UnseenError(
            'ERR_WORKER_DIED',
            `a worker for ${job.task.name}.${job.fn} could not start: ${e instanceof Error ? e.message : String(e)}`,
            { cause: e, details: { reason: 'start failed' } },
          ),
        );
        continue;
      }
      if (slot === undefined) break;
      this.#head++;
      this.#start(slot, job);
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #spawn(): Slot {
    const slot = { jobs: [], retired: false } as unknown as Slot;
    slot.handle = this.#factory.spawn((reason, cause) => this.#onDeath(slot, reason, cause));
    slot.call = slot.handle.api.call;
    this.#slots.push(slot);
    return slot;
  }

  #start(slot: Slot, job: Job): void {
    slot.jobs.push(job);
    job.slot = slot;
    this.#running++;
    slot.handle.setBusy(true);
    const where = `${job.task.name}.${job.fn} (worker)`;
    let sent: Promise<Outcome>;
    try {
      const args = compactViews(job.args, job.transfer);
      sent = slot.call(
        job.task.name,
        job.task.url,
        job.fn,
        job.transfer.length === 0 ? args : transfer(args, job.transfer),
      );
    } catch (e) {
      sent = Promise.reject(e);
    }
    // The job owns its arguments only until they are posted.
    job.args = [];
    job.transfer = [];
    sent.then(
      (outcome) => {
        if (!this.#release(slot, job)) return;
        if (outcome.ok) job.resolve(outcome.value);
        else job.reject(fromWireError(outcome.error, where));
        this.#pump(); // after settling, so that a failed map drops its queued calls
      },
      (e: unknown) => {
        // comlink rejects when the call cannot be posted (DataCloneError here) or when the
        // worker could not post the result back (a TypeError from comlink's worker side).
        if (!this.#release(slot, job)) return;
        job.reject(sendError(job, e));
        this.#pump();
      },
    );
  }

  /** Takes `job` off `slot` after it finished; false if it was settled otherwise. */
  #release(slot: Slot, job: Job): boolean {
    const i = slot.jobs.indexOf(job);
    if (i < 0) return false;
    slot.jobs.splice(i, 1);
    job.slot = undefined;
    this.#running--;
    if (!slot.retired && slot.jobs.length === 0) slot.handle.setBusy(false);
    return true;
  }

  /** Takes every job off `slot` (which is leaving the pool) and returns them. */
  #evict(slot: Slot): Job[] {
    const jobs = slot.jobs;
    slot.jobs = [];
    for (const job of jobs) job.slot = undefined;
    this.#running -= jobs.length;
    return jobs;
  }

  #onDeath(slot: Slot, reason: string, cause: unknown): void {
    if (slot.retired) return;
    this.#remove(slot);
    // Some deaths leave the thread running (an undeliverable message): end it for good.
    this.#track(slot.handle.terminate());
    for (const job of this.#evict(slot)) {
      job.reject(
        new UnseenError(
          'ERR_WORKER_DIED',
          `the worker running ${job.task.name}.${job.fn} died (${reason})`,
          { cause, details: { reason } },
        ),
      );
    }
    if (!this.#closed) this.#pump();
  }

  #remove(slot: Slot): void {
    slot.retired = true;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
  }

  /** Ends `slot`'s worker; calls still on it (siblings of the same map) fail with `error`. */
  #retire(slot: Slot, error: UnseenError): void {
    if (slot.retired) return;
    this.#remove(slot);
    for (const job of this.#evict(slot)) job.reject(error);
    this.#track(slot.handle.terminate());
    if (!this.#closed) this.#pump();
  }

  #track(termination: Promise<void>): void {
    const ended = termination.catch(() => {});
    this.#terminating.add(ended);
    ended.then(() => this.#terminating.delete(ended));
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const error = new UnseenError('ERR_INVALID_STATE', 'the worker pool was closed');
      const queued = this.#queue.slice(this.#head);
      this.#queue = [];
      this.#head = 0;
      for (const job of queued) job.reject(error);
      for (const slot of [...this.#slots]) this.#retire(slot, error);
    }
    await Promise.all([...this.#terminating]);
  }
}
