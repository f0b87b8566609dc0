/**
 * The pool contract ({@link Pool}, {@link RunOptions}, {@link MapOptions}) and what its two
 * implementations share: argument and option validation, moving transferred buffers at call time,
 * AbortSignal and deadline handling, and `map` (one listener and one timer per map; the first
 * failure drops the calls of the map that have not started). `WorkerPool` runs calls in workers,
 * `InlinePool` on the calling thread.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import type { Remote } from 'comlink';
import type { WorkerApi } from './runtime.js';
import {
  type TaskArgs,
  type TaskFunctions,
  type TaskModule,
  type TaskName,
  type TaskResult,
  taskFunction,
} from './tasks.js';

/** Options of one call. */
export interface RunOptions {
  /**
   * Buffers to move to the worker instead of copying. They are detached from the caller as soon
   * as `run` is called (as with `postMessage`), also by the inline pool.
   */
  transfer?: readonly Transferable[];
  /** Cancels the call: a queued call is dropped, a running one ends its worker. `ERR_ABORTED`. */
  signal?: AbortSignal;
  /** Deadline in milliseconds from the call, queueing included; then as abort, `ERR_TIMEOUT`. */
  timeoutMs?: number;
}

/** Options of {@link Pool.map}. */
export interface MapOptions<A> {
  /** Buffers to move for each chunk, e.g. `(args) => [args[0].buffer]`. */
  transfer?: (args: A, index: number) => readonly Transferable[];
  /** Cancels every call of the map that has not finished. */
  signal?: AbortSignal;
  /** Deadline in milliseconds for the whole map. */
  timeoutMs?: number;
}

/** A pool of workers that run task functions. */
export interface Pool {
  /** Number of workers (0: tasks run inline on the calling thread). */
  readonly size: number;
  /** True once {@link Pool.close} was called. */
  readonly closed: boolean;
  /** Calls queued or running. */
  readonly pending: number;
  /**
   * Runs `task.fns[fn](...args)` in a worker.
   * @throws UnseenError `ERR_WORKER_DIED`, `ERR_ABORTED`, `ERR_TIMEOUT`, `ERR_INVALID_STATE`
   *   (pool closed), `ERR_NOT_FOUND` (no such task), `ERR_INVALID_ARGUMENT` (bad options,
   *   arguments that cannot be cloned), or whatever the task threw (an `UnseenError` keeps its
   *   code and details)
   */
  run<Fns extends TaskFunctions, K extends TaskName<Fns>>(
    task: TaskModule<Fns>,
    fn: K,
    args: TaskArgs<Fns, K>,
    options?: RunOptions,
  ): Promise<TaskResult<Fns, K>>;
  /**
   * Runs `fn` once per element of `argsList`, spread over the workers; results in input order.
   * The first failure rejects the map and drops its calls that have not started.
   */
  map<Fns extends TaskFunctions, K extends TaskName<Fns>>(
    task: TaskModule<Fns>,
    fn: K,
    argsList: readonly TaskArgs<Fns, K>[],
    options?: MapOptions<TaskArgs<Fns, K>>,
  ): Promise<TaskResult<Fns, K>[]>;
  /** Ends every worker; pending calls reject with `ERR_INVALID_STATE`. Idempotent. */
  close(): Promise<void>;
}

/** A started worker, as the pool sees it. Implemented per platform. */
export interface WorkerHandle {
  readonly api: Remote<WorkerApi>;
  /** Ends the worker; resolves once it is gone. */
  terminate(): Promise<void>;
  /** Node: keeps the process alive only while the worker runs a call. */
  setBusy(busy: boolean): void;
}

/** How a platform starts workers. */
export interface WorkerFactory {
  /** Starts a worker; `onDeath` is called at most once if it dies on its own. */
  spawn(onDeath: (reason: string, cause?: unknown) => void): WorkerHandle;
}

/** Largest pool accepted. */
export const MAX_POOL_SIZE = 256;

/** The calls of one `map`: they share their fate. */
export interface Group {
  failed: boolean;
  jobs: Job[];
}

/** One call, from `run` until it settles. */
export interface Job {
  task: TaskModule;
  fn: string;
  args: unknown[];
  transfer: Transferable[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
  done: boolean;
  /** The worker running it (the worker pool's own bookkeeping). */
  slot: unknown;
  group: Group | undefined;
  dispose(): void;
}

function validateRunOptions(options: RunOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'run options must be an object');
  }
  if (options.transfer !== undefined && !Array.isArray(options.transfer)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'transfer must be an array of transferables');
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'signal must be an AbortSignal');
  }
  if (options.timeoutMs !== undefined) aint(options.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
}

function abortedError(signal: AbortSignal, what: string): UnseenError {
  return new UnseenError('ERR_ABORTED', `${what} was aborted`, { cause: signal.reason });
}

/**
 * Moves the transferred buffers out of the caller's hands now, so that a queued call cannot see
 * later writes and the caller sees the same detachment whether the call is queued, sent or run
 * inline. Only the transferred buffers move; nothing is copied when everything is transferred.
 */
function takeArgs(args: unknown, transfer: readonly Transferable[] | undefined) {
  if (!Array.isArray(args)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'task arguments must be an array');
  }
  if (transfer === undefined || transfer.length === 0) return { args, transfer: [] };
  const unique = [...new Set(transfer)]; // a buffer listed twice (two views of it) moves once
  try {
    const moved = structuredClone({ args, transfer: unique }, { transfer: unique });
    return moved as { args: unknown[]; transfer: Transferable[] };
  } catch (e) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `task arguments could not be transferred: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
}

/** What both pools share: validation, transfers, signals, deadlines and `map`. */
export abstract class BasePool implements Pool {
  abstract readonly size: number;
  abstract readonly closed: boolean;
  abstract readonly pending: number;
  abstract close(): Promise<void>;
  /** Queues (or starts) `job`. */
  protected abstract enqueue(job: Job): void;

  run<Fns extends TaskFunctions, K extends TaskName<Fns>>(
    task: TaskModule<Fns>,
    fn: K,
    args: TaskArgs<Fns, K>,
    options: RunOptions = {},
  ): Promise<TaskResult<Fns, K>> {
    return this.#submit(task as unknown as TaskModule, fn, args, options, undefined) as Promise<
      TaskResult<Fns, K>
    >;
  }

  #submit(
    task: TaskModule,
    fn: string,
    rawArgs: unknown,
    options: RunOptions,
    group: Group | undefined,
  ): Promise<unknown> {
    try {
      if (this.closed) throw new UnseenError('ERR_INVALID_STATE', 'the worker pool is closed');
      validateRunOptions(options);
      taskFunction(task, fn);
      const what = `${task.name}.${fn}`;
      if (options.signal?.aborted) throw abortedError(options.signal, what);
      const { args, transfer } = takeArgs(rawArgs, options.transfer);
      const { promise, job } = makeJob(task, fn, args, transfer, group);
      this.enqueue(job);
      group?.jobs.push(job);
      const unwatch = watch(options, what, (error) => this.cancel(job, error));
      if (unwatch !== undefined) {
        const dispose = job.dispose;
        job.dispose = () => {
          dispose();
          unwatch();
        };
      }
      return promise;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Rejects `job` with `error` and stops its work. */
  protected abstract cancel(job: Job, error: UnseenError): void;

  async map<Fns extends TaskFunctions, K extends TaskName<Fns>>(
    task: TaskModule<Fns>,
    fn: K,
    argsList: readonly TaskArgs<Fns, K>[],
    options: MapOptions<TaskArgs<Fns, K>> = {},
  ): Promise<TaskResult<Fns, K>[]> {
    if (!Array.isArray(argsList)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'map: expected an array of argument arrays');
    }
    if (typeof options !== 'object' || options === null) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'map options must be an object');
    }
    if (options.transfer !== undefined && typeof options.transfer !== 'function') {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'map: transfer must be a function of args');
    }
    const watched: RunOptions = {};
    if (options.signal !== undefined) watched.signal = options.signal;
    if (options.timeoutMs !== undefined) watched.timeoutMs = options.timeoutMs;
    validateRunOptions(watched);
    const what = `map of ${task?.name}.${fn}`;
    if (options.signal?.aborted) throw abortedError(options.signal, what);
    // One listener and one timer for the whole map, however many calls it makes.
    const group: Group = { failed: false, jobs: [] };
    const unwatch = watch(options, what, (error) => {
      for (const job of group.jobs) this.cancel(job, error);
    });
    try {
      const promises: Promise<unknown>[] = [];
      for (let i = 0; i < argsList.length; i++) {
        const args = argsList[i]!;
        const runOptions: RunOptions = {};
        if (options.transfer !== undefined) runOptions.transfer = options.transfer(args, i);
        const p = this.#submit(task as unknown as TaskModule, fn, args, runOptions, group);
        p.catch(() => {
          group.failed = true; // also when the call was refused before it became a job
        });
        promises.push(p);
      }
      return (await Promise.all(promises)) as TaskResult<Fns, K>[];
    } finally {
      unwatch?.();
    }
  }
}

/** Calls `cancel` when the signal aborts or the deadline passes; returns the undo. */
function watch(
  options: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  what: string,
  cancel: (error: UnseenError) => void,
): (() => void) | undefined {
  const { signal, timeoutMs } = options;
  if (signal === undefined && timeoutMs === undefined) return undefined;
  const onAbort = () => cancel(abortedError(signal!, what));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () =>
            cancel(new UnseenError('ERR_TIMEOUT', `${what} did not finish within ${timeoutMs} ms`)),
          timeoutMs,
        );
  return () => {
    signal?.removeEventListener('abort', onAbort);
    if (timer !== undefined) clearTimeout(timer);
  };
}

export function makeJob(
  task: TaskModule,
  fn: string,
  args: unknown[],
  transfer: Transferable[],
  group: Group | undefined,
): { promise: Promise<unknown>; job: Job } {
  let resolve!: (v: unknown) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const job: Job = {
    task,
    fn,
    args,
    transfer,
    group,
    slot: undefined,
    done: false,
    dispose: () => {},
    resolve: (v) => {
      if (job.done) return;
      job.done = true;
      job.dispose();
      resolve(v);
    },
    reject: (e) => {
      if (job.done) return;
      job.done = true;
      if (group !== undefined) group.failed = true;
      job.dispose();
      reject(e);
    },
  };
  return { promise, job };
}
