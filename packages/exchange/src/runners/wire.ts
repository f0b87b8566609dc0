/**
 * The runners' own messages around the protocol packages' ones: core's envelope (version 1,
 * the job id as session) with a small set of types. Every runner opens with the same
 * handshake, so that no provider touches its data for a consumer that runs another ticket, and
 * no protocol starts before every provider has said it will take part:
 *
 *   consumer -> provider  START  (body: the ticket hash)
 *   provider -> consumer  READY  (empty) or ABORT (its error, JSON)
 *   consumer -> provider  GO     (protocol parameters, e.g. a public key) or ABORT
 *
 * ABORT carries `{ code, message }` of the sender's `UnseenError`, so the other side fails with
 * `ERR_PROTOCOL_ABORTED` naming the sender's code (`details.providerCode`).
 * @module
 */
import {
  bytesToHex,
  bytesToUtf8,
  type Channel,
  decodeMessage,
  encodeMessage,
  hexToBytes,
  isErrorCode,
  isUnseenError,
  UnseenError,
  utf8ToBytes,
} from '@unseen/core';
import type { RunContext } from '../runner.js';
import { ticketHash } from '../ticket.js';

/** Version of the runners' envelope. */
export const RUNNER_VERSION = 1;

/** Message types of the runners' envelope. */
export const RUNNER_MSG = {
  START: 1,
  RESULT: 2,
  ABORT: 3,
  READY: 4,
  GO: 5,
  CONTRIBUTION: 6,
  SUM: 7,
} as const;

/** Largest runner message body accepted by default (1 MiB). */
const MAX_BODY = 1 << 20;
/** Largest ABORT body accepted (its JSON error). */
const MAX_ABORT = 4096;

/** The session of a job's runner messages: its 16-byte id. */
export function jobSession(jobId: string): Uint8Array {
  return hexToBytes(jobId);
}

/** Sends one runner message. */
export function sendRunnerMessage(
  channel: Channel,
  jobId: string,
  type: number,
  body: Uint8Array = new Uint8Array(0),
): Promise<void> {
  return channel.send(
    encodeMessage({ version: RUNNER_VERSION, type, session: jobSession(jobId), body }),
  );
}

/** Tells the peer why this side stops (never throws). */
export async function sendAbort(channel: Channel, jobId: string, error: unknown): Promise<void> {
  const e = isUnseenError(error) ? error : new UnseenError('ERR_INTERNAL', 'internal error');
  const body = utf8ToBytes(JSON.stringify({ code: e.code, message: e.message.slice(0, 500) }));
  await sendRunnerMessage(channel, jobId, RUNNER_MSG.ABORT, body).catch(() => {});
}

/** The error an ABORT body stands for. */
export function abortError(body: Uint8Array, who: string): UnseenError {
  let code = 'ERR_PROTOCOL_ABORTED';
  let message = 'no reason given';
  try {
    const v = JSON.parse(bytesToUtf8(body)) as { code?: unknown; message?: unknown };
    if (isErrorCode(v.code)) code = v.code;
    if (typeof v.message === 'string') message = v.message.slice(0, 500);
  } catch {}
  return new UnseenError('ERR_PROTOCOL_ABORTED', `the ${who} aborted: ${code}: ${message}`, {
    details: { providerCode: code },
  });
}

/**
 * Receives the next runner message of one of `types`; an ABORT from the peer raises its error.
 * @throws UnseenError `ERR_PROTOCOL_ABORTED` (the peer aborted), the envelope's decoding errors,
 *   `ERR_TIMEOUT`, `ERR_CHANNEL_CLOSED`
 */
export async function receiveRunnerMessage(
  ctx: Pick<RunContext, 'ticket' | 'signal'>,
  channel: Channel,
  types: readonly number[],
  who: string,
  maxBody = MAX_BODY,
): Promise<{ type: number; body: Uint8Array }> {
  const m = decodeMessage(await channel.receive({ signal: ctx.signal }), {
    version: RUNNER_VERSION,
    type: [...types, RUNNER_MSG.ABORT],
    session: jobSession(ctx.ticket.jobId),
    maxBody: Math.max(maxBody, MAX_ABORT),
  });
  if (m.type === RUNNER_MSG.ABORT) throw abortError(m.body, who);
  if (m.body.length > maxBody) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `runner message of ${m.body.length} bytes exceeds ${maxBody}`,
    );
  }
  return { type: m.type, body: m.body };
}

/**
 * Provider side of the handshake's first step: waits for START and checks that the consumer
 * runs this very ticket.
 * @throws UnseenError `ERR_PARAMETER_MISMATCH` (another ticket; the consumer is told)
 */
export async function awaitStart(ctx: RunContext, consumer: Channel): Promise<void> {
  const { body } = await receiveRunnerMessage(ctx, consumer, [RUNNER_MSG.START], 'consumer', 32);
  if (bytesToHex(body) !== ticketHash(ctx.ticket)) {
    const e = new UnseenError('ERR_PARAMETER_MISMATCH', 'the consumer runs another ticket');
    await sendAbort(consumer, ctx.ticket.jobId, e);
    throw e;
  }
}

/**
 * Consumer side of the handshake: START to every provider, then every READY; an ABORT from
 * any provider fails the run, and the others are told.
 * @throws UnseenError `ERR_PROTOCOL_ABORTED` naming the first provider's error
 */
export async function startProviders(ctx: RunContext, channels: readonly Channel[]): Promise<void> {
  const { jobId } = ctx.ticket;
  const hash = hexToBytes(ticketHash(ctx.ticket));
  await Promise.all(channels.map((c) => sendRunnerMessage(c, jobId, RUNNER_MSG.START, hash)));
  try {
    // Fails at the first refusal, without waiting for the other answers.
    await Promise.all(
      channels.map((c) => receiveRunnerMessage(ctx, c, [RUNNER_MSG.READY], 'provider', 0)),
    );
  } catch (error) {
    await Promise.all(channels.map((c) => sendAbort(c, jobId, error)));
    throw error;
  }
}

/**
 * Runs `fn` on the provider side and, if it fails, tells the consumer before rethrowing.
 */
export async function orAbort<T>(
  consumer: Channel,
  jobId: string,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    await sendAbort(consumer, jobId, e);
    throw e;
  }
}
