/** Party reports for tests (no vitest import: worker processes use it too). */
import { bytesToHex, randomBytes, sha256 } from '@unseen/core';
import { type Identity, type Job, type PartyReport, ticketHash } from '@unseen/exchange';

/** A party's report for a job. */
export function reportFor(
  job: Job,
  who: Identity,
  role: 'consumer' | 'provider',
  status: 'finished' | 'failed' = 'finished',
): PartyReport {
  const t = job.ticket.body;
  return {
    v: 1,
    jobId: job.id,
    ticketHash: ticketHash(t),
    party: who.keyId,
    role,
    status,
    resultHash:
      role === 'consumer' && status === 'finished' ? bytesToHex(sha256(randomBytes(8))) : null,
    commitments:
      role === 'provider'
        ? t.assets
            .filter((a) => a.provider === who.keyId)
            .map((a) => ({ assetId: a.id, root: a.root }))
        : [],
    bytesSent: 100,
    bytesReceived: 200,
    error: status === 'failed' ? 'ERR_TIMEOUT' : null,
  };
}
