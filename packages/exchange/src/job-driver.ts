/**
 * Running one job as a party: check the ticket, open the relay, run the computation's runner,
 * sign and submit the report, and (consumer) wait for the receipt. Providers call
 * {@link runAsProvider} for each job that names their assets; consumers call
 * {@link runAsConsumer} after the exchange admitted their request.
 * @module
 */
import { bytesToHex, hexToBytes, sha256, UnseenError } from '@unseen/core';
import type { ExchangeClient } from './client.js';
import type { JobView } from './exchange.js';
import type { LedgerEntry } from './ledger.js';
import {
  failureCode,
  type JobRunner,
  type LocalAsset,
  type Progress,
  type RunContext,
  type RunnerRegistry,
} from './runner.js';
import {
  type JobTicket,
  type PartyReport,
  signReport,
  ticketHash,
  verifyTicket,
} from './ticket.js';

/** Options shared by both sides. */
export interface DriveOptions {
  client: ExchangeClient;
  view: JobView;
  runners: RunnerRegistry;
  onProgress?: (p: Progress) => void;
  /** Cancels the run (default: the job's deadline). */
  signal?: AbortSignal;
  /** Receive timeout on the relay channels, ms (default 60,000). */
  timeoutMs?: number;
}

function jobSignal(view: JobView, signal?: AbortSignal): AbortSignal {
  const untilDeadline = AbortSignal.timeout(Math.max(1, view.job.deadline - Date.now()));
  return signal ? AbortSignal.any([signal, untilDeadline]) : untilDeadline;
}

interface Attempt<T> {
  outcome: T | undefined;
  failure: unknown;
  bytes: { sent: number; received: number };
}

/**
 * Runs one side of a job on the relay: checks parameters, opens the session, runs `side` with
 * the shared context, closes the session and counts its bytes. Never throws: a failure is
 * returned, to be reported.
 */
async function attempt<T>(
  options: DriveOptions,
  ticket: JobTicket,
  side: (runner: JobRunner, ctx: RunContext) => Promise<T>,
): Promise<Attempt<T>> {
  const { client, view } = options;
  let bytes = { sent: 0, received: 0 };
  try {
    const runner = options.runners.get(ticket.computation);
    runner.validateParams(ticket.computation, ticket.params, ticket.cohort, ticket.privacy);
    const session = await client.relay(view, { timeoutMs: options.timeoutMs ?? 60_000 });
    try {
      const outcome = await side(runner, {
        ticket,
        identity: client.identity,
        peers: view.parties.filter((p) => p.keyId !== client.identity.keyId),
        channel: (k) => session.channel(k),
        signal: jobSignal(view, options.signal),
        progress: options.onProgress ?? (() => {}),
      });
      return {
        outcome,
        failure: undefined,
        bytes: { sent: session.bytesSent, received: session.bytesReceived },
      };
    } finally {
      bytes = { sent: session.bytesSent, received: session.bytesReceived };
      session.close();
    }
  } catch (e) {
    return { outcome: undefined, failure: e, bytes };
  }
}

/** Signs and submits a report. A job that already ended (a peer failed and its grace ran out) keeps its receipt. */
async function submit(
  client: ExchangeClient,
  report: PartyReport,
): Promise<LedgerEntry | undefined> {
  try {
    return (await client.report(report.jobId, signReport(client.identity, report))).entry;
  } catch (e) {
    if (e instanceof UnseenError && e.code === 'ERR_INVALID_STATE') return undefined;
    throw e;
  }
}

/**
 * Runs the provider side. The ticket is checked (exchange signature, expiry, commitments of
 * the assets this provider holds) before any row is read.
 * @returns the report and, if it ended the job, the ledger entry; `failure` when the run failed
 */
export async function runAsProvider(
  options: DriveOptions & { assets: readonly (LocalAsset & { root: string })[] },
): Promise<{ report: PartyReport; entry: LedgerEntry | undefined; failure?: unknown }> {
  const { client, view } = options;
  const commitments = Object.fromEntries(options.assets.map((a) => [a.id, a.root]));
  const ticket = verifyTicket(view.job.ticket, hexToBytes(client.exchange.publicKey), Date.now(), {
    keyId: client.identity.keyId,
    commitments,
  });
  const mine = ticket.assets.filter((a) => a.provider === client.identity.keyId);
  const assets = options.assets.filter((a) => mine.some((m) => m.id === a.id));
  const run = await attempt(options, ticket, (runner, ctx) =>
    runner.runProvider({ ...ctx, assets }),
  );
  const failed = run.outcome === undefined;
  const report: PartyReport = {
    v: 1,
    jobId: ticket.jobId,
    ticketHash: ticketHash(ticket),
    party: client.identity.keyId,
    role: 'provider',
    status: failed ? 'failed' : 'finished',
    resultHash: null,
    commitments: mine.map((a) => ({ assetId: a.id, root: a.root })),
    bytesSent: run.bytes.sent,
    bytesReceived: run.bytes.received,
    error: failed ? failureCode(run.failure) : null,
    ...(run.outcome?.privacy === undefined ? {} : { privacy: run.outcome.privacy }),
  };
  const entry = await submit(client, report);
  return failed ? { report, entry, failure: run.failure } : { report, entry };
}

/**
 * Runs the consumer side and waits for the job's receipt.
 * @throws UnseenError the runner's error (after reporting the failure)
 */
export async function runAsConsumer(
  options: DriveOptions & { input?: unknown; receiptTimeoutMs?: number },
): Promise<{ result: unknown; receipt: LedgerEntry }> {
  const { client, view } = options;
  const ticket = verifyTicket(view.job.ticket, hexToBytes(client.exchange.publicKey), Date.now());
  if (ticket.consumer !== client.identity.keyId) {
    throw new UnseenError('ERR_UNAUTHORIZED', 'this ticket is for another consumer');
  }
  const run = await attempt(options, ticket, (runner, ctx) =>
    runner.runConsumer({ ...ctx, input: options.input }),
  );
  const outcome = run.outcome;
  const report: PartyReport = {
    v: 1,
    jobId: ticket.jobId,
    ticketHash: ticketHash(ticket),
    party: client.identity.keyId,
    role: 'consumer',
    status: outcome === undefined ? 'failed' : 'finished',
    resultHash: outcome === undefined ? null : bytesToHex(sha256(outcome.resultBytes)),
    commitments: [],
    bytesSent: run.bytes.sent,
    bytesReceived: run.bytes.received,
    error: outcome === undefined ? failureCode(run.failure) : null,
    ...(outcome?.rounds === undefined ? {} : { rounds: outcome.rounds }),
  };
  const entry = await submit(client, report);
  if (outcome === undefined) throw run.failure;
  const receipt =
    entry ?? (await waitForReceipt(client, ticket.jobId, options.receiptTimeoutMs ?? 60_000));
  return { result: outcome.result, receipt };
}

/** Polls for a job's receipt until it exists. @throws UnseenError `ERR_TIMEOUT` */
export async function waitForReceipt(
  client: ExchangeClient,
  jobId: string,
  timeoutMs: number,
): Promise<LedgerEntry> {
  const until = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(500, delay * 2)) {
    try {
      return await client.getReceipt(jobId);
    } catch (e) {
      if (!(e instanceof UnseenError && e.code === 'ERR_NOT_FOUND')) throw e;
    }
    if (Date.now() + delay > until)
      throw new UnseenError('ERR_TIMEOUT', `no receipt for job ${jobId} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
  }
}
