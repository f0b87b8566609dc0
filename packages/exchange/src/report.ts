/**
 * Checking a party's report against the job it speaks of, before the exchange accepts it.
 * @module
 */
import { UnseenError } from '@unseen/core';
import type { Job } from './job.js';
import { type PartyReport, ticketHash } from './ticket.js';

/** Checks a report's claims against the job. @throws UnseenError `ERR_INTEGRITY` */
export function checkReport(r: PartyReport, job: Job, role: 'consumer' | 'provider'): void {
  const bad = (what: string) => new UnseenError('ERR_INTEGRITY', `report: ${what}`);
  if (r.v !== 1 || r.jobId !== job.id) throw bad('names another job');
  if (r.ticketHash !== ticketHash(job.ticket.body)) throw bad('names another ticket');
  if (r.role !== role) throw bad(`role must be ${role}`);
  if (r.status !== 'finished' && r.status !== 'failed')
    throw bad('status must be finished or failed');
  for (const k of ['bytesSent', 'bytesReceived'] as const) {
    if (!Number.isSafeInteger(r[k]) || r[k] < 0) throw bad(`${k} must be a non-negative integer`);
  }
  if (r.error !== null && (typeof r.error !== 'string' || r.error.length > 64))
    throw bad('error must be a code');
  if (r.rounds !== undefined) {
    if (role !== 'consumer' || !Array.isArray(r.rounds) || r.rounds.length > 10_000)
      throw bad('rounds must be a consumer list of at most 10,000 rounds');
    for (const u of r.rounds) {
      const ok =
        typeof u === 'object' &&
        u !== null &&
        Object.keys(u).length === 4 &&
        (['round', 'contributors', 'bytes', 'durationMs'] as const).every(
          (k) => Number.isSafeInteger(u[k]) && u[k] >= 0,
        );
      if (!ok) throw bad('a round must be { round, contributors, bytes, durationMs } of integers');
    }
  }
  if (r.privacy !== undefined) {
    const p = r.privacy;
    const ok =
      role === 'provider' &&
      typeof p === 'object' &&
      p !== null &&
      Object.keys(p).length === 7 &&
      typeof p.mechanism === 'string' &&
      p.mechanism.length <= 64 &&
      typeof p.accountant === 'string' &&
      p.accountant.length <= 64 &&
      (['epsilon', 'delta', 'samplingRate', 'noiseMultiplier'] as const).every(
        (k) => typeof p[k] === 'number' && Number.isFinite(p[k]) && p[k] >= 0,
      ) &&
      Number.isSafeInteger(p.steps) &&
      p.steps >= 0;
    if (!ok) throw bad('privacy must be a provider statement of the DP it applied');
  }
  if (role === 'consumer') {
    if (
      r.status === 'finished' &&
      (typeof r.resultHash !== 'string' || !/^[0-9a-f]{64}$/.test(r.resultHash))
    ) {
      throw bad('a finished consumer report needs a resultHash');
    }
  } else {
    const mine = job.ticket.body.assets.filter((a) => a.provider === r.party);
    const claimed = Array.isArray(r.commitments) ? r.commitments : [];
    const ok =
      claimed.length === mine.length &&
      mine.every((a) => claimed.some((c) => c.assetId === a.id && c.root === a.root));
    if (!ok) throw bad('commitments differ from the admitted assets');
  }
}
