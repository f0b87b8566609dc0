/**
 * The PSI protocol on a `Channel` (memory pair, TCP `streamChannel`, WebSocket):
 *
 * 1. server -> client: setup (the same bytes for every client);
 * 2. client -> server: request chunks (blinded elements);
 * 3. server -> client: response chunks;
 * 4. sum mode only: client -> server sum query, server -> client sum answer.
 *
 * Every wait has a deadline (`timeoutMs`, default 10 minutes: a 2^20-element setup takes minutes
 * to compute). A party that fails on a message sends the peer an error report (code and message,
 * no secret) before it throws, so the peer fails at once instead of at its deadline.
 * @module
 */
import { aint, type Channel, UnseenError } from '@unseen/core';
import {
  PsiClient as Client,
  DEFAULT_CHUNK_ITEMS,
  type FinishResult,
  type PsiClient,
  type PsiClientOptions,
  type SumResult,
} from './client.js';
import type { Item } from './items.js';
import type { ClientItemLimits, PsiServer } from './server.js';
import { decodeEnvelope, encodeError, MSG, type PsiMode } from './wire.js';

/** A progress report: `done` of `total` units of `phase`. */
export interface PsiProgress {
  phase: 'setup' | 'request' | 'response' | 'finish' | 'sum';
  done: number;
  total: number;
}

interface RunCommon {
  /** Deadline of every receive, in ms (default 600,000). */
  timeoutMs?: number;
  /** Cancels the run (`ERR_ABORTED`). */
  signal?: AbortSignal;
  /** Progress callback. */
  onProgress?: (progress: PsiProgress) => void;
}

/**
 * Options of {@link runPsiServer}. `minClientItems` / `maxClientItems` bound this client's set
 * size (`ERR_POLICY_DENIED` before any element is evaluated; the client is told).
 */
export interface RunPsiServerOptions extends RunCommon, ClientItemLimits {
  /** The server (its setup is computed on first use and reused across runs). */
  server: PsiServer;
}

/** Options of {@link runPsiClient}: a client's options, or a client created before. */
export type RunPsiClientOptions<M extends PsiMode = PsiMode, T extends Item = Item> = RunCommon &
  (PsiClientOptions<M, T> | { client: PsiClient<M, T> }) & {
    /** Elements per request chunk (default 65,536). */
    chunkItems?: number;
  };

/** What a run returns besides the result. */
export interface PsiRunStats {
  bytesSent: number;
  bytesReceived: number;
}

const DEFAULT_RUN_TIMEOUT = 600_000;

function receiveOptions(o: RunCommon): { timeoutMs: number; signal?: AbortSignal } {
  const timeoutMs = aint(o.timeoutMs ?? DEFAULT_RUN_TIMEOUT, 'timeoutMs', 1, 2 ** 31 - 1);
  return o.signal === undefined ? { timeoutMs } : { timeoutMs, signal: o.signal };
}

async function reportAndRethrow(
  channel: Channel,
  session: Uint8Array,
  error: unknown,
): Promise<never> {
  if (!channel.closed && !(error instanceof UnseenError && error.code === 'ERR_PROTOCOL_ABORTED')) {
    try {
      await channel.send(encodeError(session, error));
    } catch {
      // the channel is gone: the original error is what matters
    }
  }
  throw error;
}

/**
 * Serves one client on `channel`: sends the setup, answers the request (and the sum query).
 * @returns the client's element count and the bytes moved
 * @throws UnseenError whatever the protocol raised (after reporting it to the client),
 * `ERR_TIMEOUT`, `ERR_CHANNEL_CLOSED`, `ERR_ABORTED`
 */
export async function runPsiServer(
  channel: Channel,
  options: RunPsiServerOptions,
): Promise<PsiRunStats & { clientItems: number }> {
  const { server } = options;
  const recv = receiveOptions(options);
  const progress = options.onProgress ?? (() => {});
  // Until the first request arrives the client's session is unknown: an error report then
  // carries the all-zero session, which clients accept for error reports only.
  let session = new Uint8Array(16);
  let clientItems = 0;
  try {
    progress({ phase: 'setup', done: 0, total: server.size });
    await channel.send(await server.setup());
    progress({ phase: 'setup', done: server.size, total: server.size });
    let received = 0;
    async function* requests(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const m = await channel.receive(recv);
        // session id sits after version and type; keep it for error reports
        if (m.length >= 18) session = Uint8Array.from(m.subarray(2, 18));
        // the request's element count (body offset 22: suite, mode, total u32)
        if (m.length >= 28 && m[1] === 1)
          clientItems = new DataView(m.buffer, m.byteOffset).getUint32(24);
        yield m;
      }
    }
    const limits: ClientItemLimits = {};
    if (options.minClientItems !== undefined) limits.minClientItems = options.minClientItems;
    if (options.maxClientItems !== undefined) limits.maxClientItems = options.maxClientItems;
    for await (const response of server.respondChunks(requests(), limits)) {
      await channel.send(response);
      received++;
      progress({ phase: 'response', done: received, total: received });
    }
    if (server.mode === 'sum') {
      await channel.send(await server.respond(await channel.receive(recv)));
      progress({ phase: 'sum', done: 1, total: 1 });
    }
  } catch (e) {
    return reportAndRethrow(channel, session, e);
  }
  return { clientItems, bytesSent: channel.bytesSent, bytesReceived: channel.bytesReceived };
}

/**
 * Runs a client on `channel` against {@link runPsiServer}.
 * @returns the mode's result (sum mode: the final sum) and the bytes moved
 * @throws UnseenError as {@link PsiClient.finish}, `ERR_PROTOCOL_ABORTED` (the server reported
 * an error), `ERR_TIMEOUT`, `ERR_CHANNEL_CLOSED`, `ERR_ABORTED`
 */
export async function runPsiClient<M extends PsiMode = 'intersection', T extends Item = Item>(
  channel: Channel,
  options: RunPsiClientOptions<M, T>,
): Promise<(M extends 'sum' ? SumResult : FinishResult<M, T>) & PsiRunStats> {
  const client = 'client' in options ? options.client : await Client.create<M, T>(options);
  const recv = receiveOptions(options);
  const progress = options.onProgress ?? (() => {});
  const chunkItems = options.chunkItems ?? DEFAULT_CHUNK_ITEMS;
  let quiet = false;
  try {
    const setup = await channel.receive(recv);
    client.checkSetup(setup); // fail before any work when the setup does not fit
    progress({ phase: 'setup', done: 1, total: 1 });
    let chunks = 0;
    let sent = 0;
    for await (const chunk of client.requestChunks(chunkItems)) {
      await channel.send(chunk);
      chunks++;
      sent = Math.min(client.size, chunks * chunkItems);
      progress({ phase: 'request', done: sent, total: client.size });
    }
    const responses: Uint8Array[] = [];
    for (let i = 0; i < chunks; i++) {
      const response = await channel.receive(recv);
      // A server that refused the request reports it at once: stop waiting for more chunks.
      decodeEnvelope(response, MSG.response, client.session);
      responses.push(response);
      progress({ phase: 'response', done: i + 1, total: chunks });
    }
    // Outside sum mode the server expects nothing after its response, and an error of finish can
    // depend on the client's elements (a label that authenticates but is malformed): the client
    // keeps it to itself, so the server cannot learn membership from an error report.
    quiet = client.mode !== 'sum';
    const result = await client.finish(setup, responses);
    progress({ phase: 'finish', done: 1, total: 1 });
    let final: unknown = result;
    if (client.mode === 'sum') {
      await channel.send((result as { sumQuery: Uint8Array }).sumQuery);
      final = await client.finishSum(await channel.receive(recv));
      progress({ phase: 'sum', done: 1, total: 1 });
    }
    return Object.assign(final as object, {
      bytesSent: channel.bytesSent,
      bytesReceived: channel.bytesReceived,
    }) as (M extends 'sum' ? SumResult : FinishResult<M, T>) & PsiRunStats;
  } catch (e) {
    if (quiet) throw e;
    return reportAndRethrow(channel, client.session, e);
  }
}
