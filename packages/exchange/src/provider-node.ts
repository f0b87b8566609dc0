/**
 * A provider node: keeps its assets local and runs every admitted job that names them. It
 * polls the exchange for its jobs (signed requests), checks each ticket, and runs the job's
 * runner over the relay; progress and outcomes go to `onEvent`.
 * @module
 */
import type { LoadedAsset } from './asset-file.js';
import type { ExchangeClient } from './client.js';
import { runAsProvider } from './job-driver.js';
import type { Progress, RunnerRegistry } from './runner.js';

/** What a provider node reports as it works. */
export type ProviderEvent =
  | { type: 'job-started'; jobId: string; computation: string }
  | { type: 'progress'; jobId: string; progress: Progress }
  | {
      type: 'job-ended';
      jobId: string;
      status: 'finished' | 'failed';
      error: string | null;
      message?: string;
    }
  | { type: 'error'; message: string };

/** Options of {@link ProviderNode}. */
export interface ProviderNodeOptions {
  client: ExchangeClient;
  assets: readonly LoadedAsset[];
  runners: RunnerRegistry;
  /** Poll interval, ms (default 250). */
  pollIntervalMs?: number;
  onEvent?: (e: ProviderEvent) => void;
}

/** Runs a provider's side of every job on its assets. */
export class ProviderNode {
  readonly #o: ProviderNodeOptions;
  readonly #seen = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();
  #stopped = false;

  constructor(options: ProviderNodeOptions) {
    this.#o = options;
  }

  /** Starts polling. */
  start(): this {
    this.#stopped = false;
    if (this.#abort.signal.aborted) this.#abort = new AbortController();
    void this.#tick();
    return this;
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.poll();
    } catch (e) {
      this.#o.onEvent?.({ type: 'error', message: (e as Error).message });
    }
    if (!this.#stopped)
      this.#timer = setTimeout(() => void this.#tick(), this.#o.pollIntervalMs ?? 250);
  }

  /** Looks for new jobs once and starts them. */
  async poll(): Promise<void> {
    const { client } = this.#o;
    for (const state of ['admitted', 'running'] as const) {
      for (const job of await client.listJobs({ state })) {
        if (this.#seen.has(job.id) || !job.providers.includes(client.identity.keyId)) continue;
        if (job.reports[client.identity.keyId] !== undefined) continue;
        this.#seen.add(job.id);
        const run = this.#run(job.id).finally(() => this.#running.delete(run));
        this.#running.add(run);
      }
    }
  }

  async #run(jobId: string): Promise<void> {
    const { client, onEvent } = this.#o;
    try {
      const view = await client.getJob(jobId);
      onEvent?.({ type: 'job-started', jobId, computation: view.job.request.computation });
      const { report, failure } = await runAsProvider({
        client,
        view,
        runners: this.#o.runners,
        assets: this.#o.assets,
        signal: this.#abort.signal,
        onProgress: (progress) => onEvent?.({ type: 'progress', jobId, progress }),
      });
      onEvent?.({
        type: 'job-ended',
        jobId,
        status: report.status,
        error: report.error,
        ...(failure === undefined
          ? {}
          : { message: String((failure as Error)?.message ?? failure) }),
      });
    } catch (e) {
      onEvent?.({
        type: 'job-ended',
        jobId,
        status: 'failed',
        error: (e as { code?: string }).code ?? 'ERR_INTERNAL',
      });
    }
  }

  /** Stops polling, aborts running jobs (they report failure) and waits for them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    await Promise.allSettled([...this.#running]);
  }
}
