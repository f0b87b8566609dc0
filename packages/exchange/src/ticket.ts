/**
 * Job tickets and party reports. When the exchange admits a job it issues a ticket, signed
 * with its key, that states exactly what was admitted: computation, parameters, the assets and
 * the commitments they are bound to, the cohort floor and the privacy spent. A provider checks
 * the ticket before it touches any data, so a job the policy did not admit never reaches the
 * data even if the exchange's API were bypassed. When a party finishes, it signs a report that
 * binds the ticket hash to what it saw (result hash, bytes, the commitment it used); the
 * receipt carries these reports.
 * @module
 */
import { bytesToHex, hexToBytes, UnseenError } from '@unseen/core';
import { canonicalBytes, canonicalHash } from './canonical.js';
import type { Computation } from './computations.js';
import { type Identity, verifySignature } from './identity.js';
import type { PrivacyAmount } from './policy.js';

export const TICKET_DOMAIN = 'unseen/exchange/ticket/v1';
export const REPORT_DOMAIN = 'unseen/exchange/report/v1';

/** One asset of a job, pinned to its commitment at admission. */
export interface TicketAsset {
  id: string;
  provider: string;
  root: string;
  rows: number;
}

/** What the exchange admitted. */
export interface JobTicket {
  v: 1;
  jobId: string;
  exchange: string;
  consumer: string;
  computation: Computation;
  params: Record<string, unknown>;
  assets: TicketAsset[];
  cohort: number;
  /** The largest minCohort over the job's policies: runners must not release below it. */
  minCohort: number;
  privacy: PrivacyAmount | null;
  issuedAt: number;
  /** After this, parties must not start the job. */
  expiresAt: number;
}

/** A value and its hex ed25519 signature. */
export interface Signed<T> {
  body: T;
  signature: string;
}

/** The hash that reports and receipts use to name a ticket. */
export function ticketHash(ticket: JobTicket): string {
  return bytesToHex(canonicalHash(TICKET_DOMAIN, ticket));
}

/** Signs `body`'s canonical JSON under `domain`. */
export function signBody<T>(signer: Identity, domain: string, body: T): Signed<T> {
  return { body, signature: bytesToHex(signer.sign(domain, canonicalBytes(body))) };
}

/** True when `signed.signature` is `publicKey`'s signature over the body under `domain`. */
export function verifyBody<T>(publicKey: Uint8Array, domain: string, signed: Signed<T>): boolean {
  if (typeof signed?.signature !== 'string' || !/^[0-9a-f]{128}$/.test(signed.signature))
    return false;
  try {
    return verifySignature(
      publicKey,
      domain,
      canonicalBytes(signed.body),
      hexToBytes(signed.signature),
    );
  } catch {
    return false;
  }
}

/**
 * Checks a ticket the way a provider must before running a job: the exchange's signature,
 * the expiry, and that every asset of this provider is listed with the commitment it holds.
 * @throws UnseenError `ERR_INTEGRITY` (signature), `ERR_POLICY_DENIED` (expired, not this
 *   provider's asset, commitment mismatch)
 */
export function verifyTicket(
  signed: Signed<JobTicket>,
  exchangePublicKey: Uint8Array,
  now: number,
  holder?: { keyId: string; commitments: Readonly<Record<string, string>> },
): JobTicket {
  if (!verifyBody(exchangePublicKey, TICKET_DOMAIN, signed)) {
    throw new UnseenError('ERR_INTEGRITY', 'job ticket: the exchange signature does not verify');
  }
  const t = signed.body;
  if (now >= t.expiresAt) {
    throw new UnseenError('ERR_POLICY_DENIED', 'job ticket expired', {
      details: { reason: 'ticket-expired' },
    });
  }
  if (holder !== undefined) {
    const mine = t.assets.filter((a) => a.provider === holder.keyId);
    if (mine.length === 0) {
      throw new UnseenError('ERR_POLICY_DENIED', 'job ticket names no asset of this provider', {
        details: { reason: 'not-a-party' },
      });
    }
    for (const a of mine) {
      if (holder.commitments[a.id] !== a.root) {
        throw new UnseenError(
          'ERR_POLICY_DENIED',
          `job ticket pins asset ${a.id} to another commitment`,
          {
            details: { reason: 'commitment-mismatch', assetId: a.id },
          },
        );
      }
    }
  }
  return t;
}

/** What a party states when its part of a job ends. */
export interface PartyReport {
  v: 1;
  jobId: string;
  ticketHash: string;
  party: string;
  role: 'consumer' | 'provider';
  status: 'finished' | 'failed';
  /** Hex SHA-256 of the result as the consumer received it (consumer only). */
  resultHash: string | null;
  /** Asset ids and roots the provider ran on (provider only). */
  commitments: { assetId: string; root: string }[];
  bytesSent: number;
  bytesReceived: number;
  /** Error code when failed. */
  error: string | null;
  /** Per-round usage of a job that runs in rounds (federated training; consumer only). */
  rounds?: RoundUsage[];
  /** The differential privacy the party's own noise gives its records (provider only). */
  privacy?: PrivacyStatement;
}

/** What one round of a job used, as the consumer measured it. */
export interface RoundUsage {
  round: number;
  /** Providers whose contribution the round's aggregate holds. */
  contributors: number;
  /** Bytes the consumer sent and received in the round. */
  bytes: number;
  durationMs: number;
}

/** How a provider's noise protects its records, and what it spent. */
export interface PrivacyStatement {
  /** e.g. `dp-sgd` (Abadi et al. 2016) or `discrete-laplace`. */
  mechanism: string;
  /** e.g. `rdp` (Mironov 2017; sampled Gaussian, Mironov, Talwar, Zhang 2019). */
  accountant: string;
  epsilon: number;
  delta: number;
  /** Mechanism applications (noisy steps). */
  steps: number;
  /** Poisson sampling rate of records per step. */
  samplingRate: number;
  /** Noise standard deviation over the clipping norm. */
  noiseMultiplier: number;
}

/** Signs a party report. */
export function signReport(signer: Identity, report: PartyReport): Signed<PartyReport> {
  return signBody(signer, REPORT_DOMAIN, report);
}
