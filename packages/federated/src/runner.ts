/**
 * FedAvg on a transport: {@link runFedAvgServer} drives a {@link FedAvgServer} over one core
 * `Channel` per client, {@link runFedAvgClient} drives a {@link FedAvgClient} over its channel to
 * the server. Every wait has a deadline: a stage of a round ends when every awaited client
 * answered or `roundTimeoutMs` passed, and the clients that had not answered fail the round
 * (tolerated as `acceptFailures` says). A client whose channel closes fails too.
 * @module
 */
import { aint, type Channel, isUnseenError, UnseenError } from '@unseen/core';
import type { Outbox } from './aggregation/types.js';
import type { FedAvgClient } from './client.js';
import type { EvaluateRoundResult, FedAvgServer, FitRoundResult } from './server.js';
import type { Weights } from './tensors.js';
import type { Metrics } from './wire.js';

/** A server-side evaluation of the global model (Flower's `evaluate_fn`). */
export type CentralEvaluateFn = (
  weights: Weights,
  round: number,
) => Promise<{ loss: number; metrics?: Metrics }> | { loss: number; metrics?: Metrics };

/** What one round of a run did. */
export interface RoundReport {
  round: number;
  fit: FitRoundResult;
  /** Federated evaluation on the clients' data, when it ran this round. */
  evaluate?: EvaluateRoundResult;
  /** Server-side evaluation of the new global model, when configured. */
  central?: { loss: number; metrics: Metrics };
  /** Wall time of the fit phase (sampling to aggregate) in milliseconds. */
  fitMs: number;
  /** Wall time of the whole round in milliseconds. */
  durationMs: number;
}

/** Options of {@link runFedAvgServer}. */
export interface RunServerOptions {
  rounds: number;
  /** Deadline of each stage of a round in milliseconds (default 60,000). */
  roundTimeoutMs?: number;
  /** Run a federated evaluation every this many rounds (default 0: never). */
  evaluateEvery?: number;
  /** Evaluate the global model on the server after each round. */
  centralEvaluate?: CentralEvaluateFn;
  /** Called after each round. */
  onRound?: (report: RoundReport) => void | Promise<void>;
  /** Send SHUTDOWN to every client at the end (default true). */
  shutdown?: boolean;
  signal?: AbortSignal;
}

/** What {@link runFedAvgServer} returns. */
export interface RunServerResult {
  weights: Weights;
  rounds: RoundReport[];
}

interface Pending {
  promise: Promise<{ client: string; bytes?: Uint8Array; error?: unknown }>;
  abort: AbortController;
}

async function sendAll(
  server: FedAvgServer,
  channels: ReadonlyMap<string, Channel>,
  out: Outbox,
): Promise<Outbox> {
  let next: Outbox = new Map();
  await Promise.all(
    [...out].map(async ([client, bytes]) => {
      try {
        const ch = channels.get(client);
        if (ch === undefined) throw new UnseenError('ERR_NOT_FOUND', `no channel to ${client}`);
        await ch.send(bytes);
      } catch (e) {
        for (const [c, b] of await server.fail(client, e)) next.set(c, b);
      }
    }),
  );
  while (next.size > 0) {
    const again = next;
    next = new Map();
    for (const [c, b] of await sendAll(server, channels, again)) next.set(c, b);
  }
  return next;
}

/** Delivers `out`, then collects replies until the server's phase is over. */
async function drivePhase(
  server: FedAvgServer,
  channels: ReadonlyMap<string, Channel>,
  out: Outbox,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const pending = new Map<string, Pending>();
  let deadline = Date.now() + timeoutMs;
  const stop = (client: string): void => {
    pending.get(client)?.abort.abort();
    pending.delete(client);
  };
  try {
    await sendAll(server, channels, out);
    while (server.phase !== 'idle') {
      signal?.throwIfAborted();
      const awaiting = server.awaiting;
      for (const c of [...pending.keys()]) if (!awaiting.has(c)) stop(c);
      const left = deadline - Date.now();
      if (left <= 0 || awaiting.size === 0) {
        const next = await server.expire();
        deadline = Date.now() + timeoutMs;
        await sendAll(server, channels, next);
        continue;
      }
      for (const client of awaiting) {
        if (pending.has(client)) continue;
        const ch = channels.get(client);
        if (ch === undefined) {
          await sendAll(
            server,
            channels,
            await server.fail(client, new UnseenError('ERR_NOT_FOUND', 'no channel')),
          );
          continue;
        }
        const abort = new AbortController();
        const promise = ch
          .receive({ timeoutMs: Math.max(1, left), signal: abort.signal })
          .then((bytes) => ({ client, bytes }))
          .catch((error: unknown) => ({ client, error }));
        pending.set(client, { promise, abort });
      }
      if (pending.size === 0) continue;
      const got = await Promise.race([...pending.values()].map((p) => p.promise));
      pending.delete(got.client);
      let next: Outbox;
      if (got.bytes !== undefined) {
        next = await server.receive(got.client, got.bytes);
      } else if (
        isUnseenError(got.error, 'ERR_TIMEOUT') ||
        isUnseenError(got.error, 'ERR_ABORTED')
      ) {
        continue; // the deadline check above expires the round
      } else {
        next = await server.fail(got.client, got.error);
      }
      if (next.size > 0) {
        deadline = Date.now() + timeoutMs; // a new stage of the aggregation protocol
        await sendAll(server, channels, next);
      }
    }
  } finally {
    for (const c of [...pending.keys()]) stop(c);
  }
}

/**
 * Runs `rounds` FedAvg rounds over the clients' channels (keyed by client id).
 * @throws UnseenError `ERR_ABORTED` when the signal fires, `ERR_INVALID_ARGUMENT`
 * @example
 * ```ts
 * const result = await runFedAvgServer(server, channels, { rounds: 20, roundTimeoutMs: 30_000 });
 * ```
 */
export async function runFedAvgServer(
  server: FedAvgServer,
  channels: ReadonlyMap<string, Channel>,
  options: RunServerOptions,
): Promise<RunServerResult> {
  const rounds = aint(options.rounds, 'rounds', 0);
  const timeoutMs = aint(options.roundTimeoutMs ?? 60_000, 'roundTimeoutMs', 1, 2 ** 31 - 1);
  const every = aint(options.evaluateEvery ?? 0, 'evaluateEvery', 0);
  const reports: RoundReport[] = [];
  const ids = (): string[] => [...channels].filter(([, ch]) => !ch.closed).map(([id]) => id);
  try {
    for (let r = 0; r < rounds; r++) {
      if (options.signal?.aborted) {
        throw new UnseenError('ERR_ABORTED', 'FedAvg run aborted', {
          cause: options.signal.reason,
        });
      }
      const t0 = performance.now();
      await drivePhase(server, channels, await server.startFit(ids()), timeoutMs, options.signal);
      const fitMs = performance.now() - t0;
      const fit = server.lastFit!;
      const report: RoundReport = { round: fit.round, fit, fitMs, durationMs: 0 };
      if (every > 0 && fit.round % every === 0) {
        await drivePhase(
          server,
          channels,
          await server.startEvaluate(ids()),
          timeoutMs,
          options.signal,
        );
        report.evaluate = server.lastEvaluate!;
      }
      if (options.centralEvaluate !== undefined) {
        const e = await options.centralEvaluate(server.weights, fit.round);
        report.central = { loss: e.loss, metrics: e.metrics ?? {} };
      }
      report.durationMs = performance.now() - t0;
      reports.push(report);
      await options.onRound?.(report);
    }
  } catch (e) {
    if (e instanceof DOMException || (e as Error)?.name === 'AbortError') {
      throw new UnseenError('ERR_ABORTED', 'FedAvg run aborted', { cause: e });
    }
    throw e;
  } finally {
    if (options.shutdown ?? true) {
      const bye = server.shutdownMessage();
      await Promise.all(
        [...channels.values()].map((ch) => (ch.closed ? undefined : ch.send(bye).catch(() => {}))),
      );
    }
  }
  return { weights: server.weights, rounds: reports };
}

/** Options of {@link runFedAvgClient}. */
export interface RunClientOptions {
  /** Longest wait for the server's next message (default 600,000 ms). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Serves one client until the server sends SHUTDOWN.
 * @throws UnseenError `ERR_TIMEOUT` (the server went quiet), `ERR_CHANNEL_CLOSED`, or the
 * decoding error of a malformed server message
 */
export async function runFedAvgClient(
  channel: Channel,
  client: FedAvgClient,
  options: RunClientOptions = {},
): Promise<void> {
  const timeoutMs = aint(options.idleTimeoutMs ?? 600_000, 'idleTimeoutMs', 1, 2 ** 31 - 1);
  while (!client.done) {
    const bytes = await channel.receive({
      timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    for (const reply of await client.handle(bytes)) await channel.send(reply);
  }
}
