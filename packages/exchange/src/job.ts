/**
 * The job record and its lifecycle:
 *
 *   requested --policy--> admitted --parties join--> running --reports--> finished | failed
 *                   \--> denied (recorded, nothing runs)
 *
 * and every finished or failed job has exactly one receipt in the ledger, written in the same
 * transaction that ends the job.
 * @module
 */
import type { PublicIdentity } from './identity.js';
import type { JobRequest, Spend } from './policy.js';
import type { JobTicket, PartyReport, Signed } from './ticket.js';

/** Where a job is in its life. */
export const JOB_STATES = ['admitted', 'running', 'finished', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** True for the states a job never leaves. */
export function isFinal(state: JobState): boolean {
  return state === 'finished' || state === 'failed';
}

/** A job as the exchange keeps it. */
export interface Job {
  id: string;
  consumer: string;
  /** Distinct provider key ids of the job's assets, sorted. */
  providers: string[];
  request: JobRequest;
  ticket: Signed<JobTicket>;
  spends: Spend[];
  state: JobState;
  admittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The job fails with `ERR_TIMEOUT` if it has not finished by then. */
  deadline: number;
  /** Signed reports by party key id. */
  reports: Record<string, Signed<PartyReport>>;
  /** Bytes the relay carried for this job. */
  relayedBytes: number;
  error: { code: string; message: string } | null;
  /** Seq of the job's ledger entry once receipted. */
  receiptSeq: number | null;
}

/** A registered party. */
export interface PartyRecord extends PublicIdentity {
  addedAt: number;
  addedBy: string;
}

/** A refused job request, kept for metering and audit. */
export interface Denial {
  consumer: string;
  at: number;
  code: string;
  reason: string | null;
  request: JobRequest;
}
