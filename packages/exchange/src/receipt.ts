/**
 * Usage receipts ("measurable"): one per finished or failed job, stating what ran on what,
 * for whom, how much it moved and cost, and what came out (a hash). The exchange signs the
 * receipt; it carries the signed reports of the parties, so that a receipt is evidence made
 * by every party and not by the exchange alone.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { canonicalJson } from './canonical.js';
import type { Computation } from './computations.js';
import type { Job } from './job.js';
import type { PrivacyAmount } from './policy.js';
import {
  type PartyReport,
  REPORT_DOMAIN,
  type RoundUsage,
  type Signed,
  type TicketAsset,
  ticketHash,
  verifyBody,
} from './ticket.js';

export const RECEIPT_DOMAIN = 'unseen/exchange/receipt/v1';

/** The metered record of one job. */
export interface UsageReceipt {
  v: 1;
  jobId: string;
  exchange: string;
  consumer: string;
  providers: string[];
  computation: Computation;
  params: Record<string, unknown>;
  /** Assets with the commitments the job was admitted on. */
  assets: TicketAsset[];
  cohort: number;
  /** Privacy spent on each asset's budget (null when not accounted). */
  privacy: PrivacyAmount | null;
  status: 'finished' | 'failed';
  /** Error code and message when failed. */
  error: { code: string; message: string } | null;
  admittedAt: number;
  startedAt: number | null;
  finishedAt: number;
  durationMs: number;
  /** Bytes the relay carried, and the largest count any party reported. */
  bytes: { relayed: number; reported: number };
  /** Hex SHA-256 of the result, from the consumer's report (null if none). */
  resultHash: string | null;
  ticketHash: string;
  /** Per-round usage of a job that runs in rounds, from the consumer's report. */
  rounds?: RoundUsage[];
  /**
   * The privacy the providers' noise gave their records, the largest epsilon any provider
   * stated (its statement is in its report); at most `privacy`, which was charged.
   */
  privacySpent?: { epsilon: number; delta: number; accountant: string };
  /** The parties' signed reports, sorted by party key id. */
  reports: Signed<PartyReport>[];
}

/**
 * Checks a signed receipt: the exchange's signature, each report's signature by its party and
 * that every report speaks of this job and ticket.
 * @param keyOf public key of a party by key id (undefined if unknown)
 * @returns a list of problems; empty when the receipt is sound
 */
export function checkReceipt(
  signed: Signed<UsageReceipt>,
  exchangePublicKey: Uint8Array,
  keyOf: (keyId: string) => Uint8Array | undefined,
): string[] {
  const problems: string[] = [];
  if (!verifyBody(exchangePublicKey, RECEIPT_DOMAIN, signed))
    problems.push('exchange signature does not verify');
  const r = signed.body;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.reports))
    return [...problems, 'receipt is malformed'];
  const parties = new Set([r.consumer, ...(Array.isArray(r.providers) ? r.providers : [])]);
  const seen = new Set<string>();
  for (const rep of r.reports) {
    const b = rep?.body;
    if (typeof b !== 'object' || b === null) {
      problems.push('a report is malformed');
      continue;
    }
    const key = keyOf(b.party);
    if (key === undefined) problems.push(`report of unknown party ${String(b.party)}`);
    else if (!verifyBody(key, REPORT_DOMAIN, rep))
      problems.push(`report of ${b.party} does not verify`);
    if (b.jobId !== r.jobId || b.ticketHash !== r.ticketHash)
      problems.push(`report of ${b.party} is for another job`);
    if (!parties.has(b.party)) problems.push(`report of ${b.party}, who is not a party`);
    if (seen.has(b.party)) problems.push(`two reports of ${b.party}`);
    seen.add(b.party);
    if (b.role === 'consumer' && b.status === 'finished' && b.resultHash !== r.resultHash) {
      problems.push('result hash differs from the consumer report');
    }
    if (
      b.role === 'consumer' &&
      r.rounds !== undefined &&
      canonicalJson(b.rounds ?? null) !== canonicalJson(r.rounds)
    ) {
      problems.push('rounds differ from the consumer report');
    }
  }
  if (r.privacySpent !== undefined) {
    const stated = r.reports.map((s) => s?.body?.privacy?.epsilon).filter((e) => e !== undefined);
    if (stated.length === 0 || Math.max(...(stated as number[])) !== r.privacySpent.epsilon) {
      problems.push('privacySpent differs from the providers’ statements');
    }
  }
  return problems;
}

/** Throws `ERR_INTEGRITY` unless {@link checkReceipt} finds nothing. */
export function assertReceipt(
  signed: Signed<UsageReceipt>,
  exchangePublicKey: Uint8Array,
  keyOf: (keyId: string) => Uint8Array | undefined,
): void {
  const problems = checkReceipt(signed, exchangePublicKey, keyOf);
  if (problems.length > 0) {
    throw new UnseenError(
      'ERR_INTEGRITY',
      `receipt ${signed.body?.jobId}: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  }
}

/**
 * The receipt of a job that ends now: what the ticket admitted, what the parties reported
 * (sorted by key id), and what the exchange measured.
 */
export function buildReceipt(
  job: Job,
  exchange: string,
  error: { code: string; message: string } | null,
  relayed: number,
  finishedAt: number,
): UsageReceipt {
  const reports = Object.keys(job.reports)
    .sort()
    .map((k) => job.reports[k]!);
  const consumerReport = job.reports[job.consumer]?.body;
  const t = job.ticket.body;
  const receipt: UsageReceipt = {
    v: 1,
    jobId: job.id,
    exchange: exchange,
    consumer: job.consumer,
    providers: job.providers,
    computation: t.computation,
    params: t.params,
    assets: t.assets,
    cohort: t.cohort,
    privacy: t.privacy,
    status: error === null ? 'finished' : 'failed',
    error,
    admittedAt: job.admittedAt,
    startedAt: job.startedAt,
    finishedAt,
    durationMs: finishedAt - (job.startedAt ?? job.admittedAt),
    bytes: {
      relayed,
      reported: Math.max(0, ...reports.map((s) => s.body.bytesSent + s.body.bytesReceived)),
    },
    resultHash: consumerReport?.status === 'finished' ? consumerReport.resultHash : null,
    ticketHash: ticketHash(t),
    reports,
  };
  if (consumerReport?.rounds !== undefined) receipt.rounds = consumerReport.rounds;
  const statements = reports.flatMap((s) => (s.body.privacy === undefined ? [] : [s.body.privacy]));
  if (statements.length > 0) {
    const worst = statements.reduce((a, b) => (b.epsilon > a.epsilon ? b : a));
    receipt.privacySpent = {
      epsilon: worst.epsilon,
      delta: Math.max(...statements.map((s) => s.delta)),
      accountant: worst.accountant,
    };
  }
  return receipt;
}
