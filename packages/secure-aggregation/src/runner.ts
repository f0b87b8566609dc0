/**
 * The state machines on a transport: `runSecAggServer` over one core `Channel` per client, and
 * `runSecAggClient` over the client's channel to the server. Every wait has a deadline: a round
 * closes when every expected client answered or when `roundTimeoutMs` passed, and the clients
 * that had not answered by then dropped. A client that sends a bad message dropped too; the run
 * goes on while the threshold holds.
 * @module
 */
import { aint, type Channel, DEFAULT_TIMEOUT_MS, isUnseenError, UnseenError } from '@unseen/core';
import { SecAggClient, type SecAggClientOptions } from './client.js';
import type { SecAggParams, SecAggRound } from './params.js';
import { type AggregationResult, SecAggServer, type SecAggServerOptions } from './server.js';
import { MSG } from './wire.js';

/** A client's failure the server survived (the client counts as dropped). */
export interface ClientFailure {
  client: number;
  round: SecAggRound;
  error: UnseenError;
}

/** Options of {@link runSecAggServer}. */
export interface RunServerOptions extends Omit<SecAggServerOptions, 'clients'> {
  /** Deadline of each round in milliseconds (default 30,000). */
  roundTimeoutMs?: number;
}

/** What {@link runSecAggServer} returns. */
export interface RunServerResult extends AggregationResult {
  params: SecAggParams;
  /** Clients whose channel or messages failed, by round. */
  failures: ClientFailure[];
}

function asUnseen(e: unknown): UnseenError {
  if (isUnseenError(e)) return e;
  return new UnseenError('ERR_INTERNAL', `unexpected failure: ${(e as Error)?.message ?? e}`, {
    cause: e,
  });
}

/**
 * Runs the server of one round over `channels[i]`, the channel to client i.
 * @throws UnseenError `ERR_INSUFFICIENT_SHARES` (too many dropouts: the clients are sent an abort
 *   message), `ERR_ABORTED` (the signal fired), `ERR_INVALID_ARGUMENT`
 * @example
 * ```ts
 * const result = await runSecAggServer(channels, { length: 1000, roundTimeoutMs: 10_000 });
 * result.sum; result.survivors;
 * ```
 */
export async function runSecAggServer(
  channels: readonly Channel[],
  options: RunServerOptions,
): Promise<RunServerResult> {
  if (!Array.isArray(channels)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'runSecAggServer: expected an array of channels');
  }
  const timeoutMs = aint(
    options.roundTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    'roundTimeoutMs',
    1,
    2 ** 31 - 1,
  );
  const server = await SecAggServer.create({ ...options, clients: channels.length });
  const { signal } = options;
  const failures: ClientFailure[] = [];
  const live = new Set(channels.map((_, i) => i));
  let round: SecAggRound = 'advertiseKeys';
  let outgoing = server.start();
  try {
    for (;;) {
      signal?.throwIfAborted();
      await Promise.all(
        [...outgoing].map(async ([u, message]) => {
          try {
            await channels[u]!.send(message);
          } catch (e) {
            live.delete(u);
            failures.push({ client: u, round, error: asUnseen(e) });
          }
        }),
      );
      const deadline = Date.now() + timeoutMs;
      const current = round;
      await Promise.all(
        server
          .awaiting()
          .filter((u) => live.has(u))
          .map(async (u) => {
            const remaining = deadline - Date.now();
            if (remaining <= 0) return;
            let message: Uint8Array;
            try {
              message = await channels[u]!.receive({
                timeoutMs: remaining,
                ...(signal === undefined ? {} : { signal }),
              });
            } catch (e) {
              const error = asUnseen(e);
              if (error.code === 'ERR_ABORTED') throw error;
              if (error.code !== 'ERR_TIMEOUT') live.delete(u);
              failures.push({ client: u, round: current, error });
              return;
            }
            try {
              await server.receive(u, message);
            } catch (e) {
              failures.push({ client: u, round: current, error: asUnseen(e) });
            }
          }),
      );
      signal?.throwIfAborted();
      const step = await server.advance();
      if (step.round === 'done') return { ...step.result, params: server.params, failures };
      // Clients left out of the next round (late, failed or pruned) are told, so none waits.
      const left = [...live].filter((u) => !step.messages.has(u));
      await Promise.all(
        left.map((u) => {
          live.delete(u);
          const message = server.abortMessage(
            'ERR_PROTOCOL_ABORTED',
            `client ${u} was dropped from the round in ${current}`,
          );
          return channels[u]!.send(message).catch(() => undefined);
        }),
      );
      outgoing = step.messages;
      round = step.round;
    }
  } catch (e) {
    const error =
      signal?.aborted === true && !isUnseenError(e)
        ? new UnseenError('ERR_ABORTED', 'runSecAggServer aborted', { cause: signal.reason })
        : asUnseen(e);
    const abort = server.abortMessage(error.code, error.message);
    await Promise.all([...live].map((u) => channels[u]!.send(abort).catch(() => undefined)));
    throw error;
  }
}

/** Options of {@link runSecAggClient}. */
export interface RunClientOptions extends Omit<SecAggClientOptions, 'input'> {
  /**
   * The input, or a promise of it: the key rounds then run while it is computed (e.g. while a
   * model trains), and the client waits for it, up to `inputTimeoutMs`, only when the masked
   * input is due.
   */
  input: Uint32Array | PromiseLike<Uint32Array>;
  /** Deadline for each server message after the setup, in milliseconds (default 30,000). */
  roundTimeoutMs?: number;
  /** Deadline for the setup message (default: `roundTimeoutMs`). */
  setupTimeoutMs?: number;
  /** How long to wait for a promised input once it is due (default: `roundTimeoutMs`). */
  inputTimeoutMs?: number;
}

/** Waits for `value` at most `timeoutMs` (`ERR_TIMEOUT`), or until `signal` fires. */
async function within<T>(
  value: PromiseLike<T>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UnseenError('ERR_TIMEOUT', `${what}: not ready within ${timeoutMs} ms`, {
            details: { timeoutMs },
          }),
        ),
      timeoutMs,
    );
    if (signal !== undefined) {
      onAbort = () => reject(new UnseenError('ERR_ABORTED', `${what}: aborted`));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([Promise.resolve(value), deadline]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}

/** What {@link runSecAggClient} returns once the client sent its last message. */
export interface RunClientResult {
  index: number;
  params: SecAggParams;
}

/**
 * Runs one client over its channel to the server until it has sent its unmasking shares.
 * @throws UnseenError `ERR_PROTOCOL_ABORTED` (the server aborted, or the client refused a
 *   malicious request), `ERR_TIMEOUT`, `ERR_CHANNEL_CLOSED`, and the client's protocol errors
 * @example
 * ```ts
 * await runSecAggClient(channel, { input, expect: { length: 1000, bits: 32 } });
 * ```
 */
export async function runSecAggClient(
  channel: Channel,
  options: RunClientOptions,
): Promise<RunClientResult> {
  const roundTimeoutMs = aint(
    options.roundTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    'roundTimeoutMs',
    1,
    2 ** 31 - 1,
  );
  const setupTimeoutMs = aint(
    options.setupTimeoutMs ?? roundTimeoutMs,
    'setupTimeoutMs',
    1,
    2 ** 31 - 1,
  );
  const inputTimeoutMs = aint(
    options.inputTimeoutMs ?? roundTimeoutMs,
    'inputTimeoutMs',
    1,
    2 ** 31 - 1,
  );
  const { input, ...rest } = options;
  const ready = input instanceof Uint32Array;
  const client = await SecAggClient.create(ready ? { ...rest, input } : rest);
  if (!ready && (typeof input !== 'object' || input === null || !('then' in input))) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'input: expected a Uint32Array or a promise');
  }
  // A promised input that fails before it is due must not go unhandled.
  const pending = ready ? undefined : Promise.resolve(input);
  pending?.catch(() => undefined);
  const { signal } = options;
  for (;;) {
    const message = await channel.receive({
      timeoutMs: client.stage === 'setup' ? setupTimeoutMs : roundTimeoutMs,
      ...(signal === undefined ? {} : { signal }),
    });
    // The Round 2 message (type byte after the version byte) needs the input: wait for it.
    if (pending !== undefined && client.needsInput && message[1] === MSG.shares) {
      client.setInput(await within(pending, inputTimeoutMs, 'runSecAggClient input', signal));
    }
    const reply = await client.handle(message);
    if (reply !== undefined) await channel.send(reply);
    if (client.done) return { index: client.index!, params: client.params! };
  }
}
