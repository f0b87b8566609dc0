/** An exchange in this process over a SQLite file in a temp folder, with registered parties. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, randomBytes, sha256 } from '@unseen/core';
import {
  type AssetDefinition,
  commitRows,
  Exchange,
  Identity,
  type Job,
  type PartyRecord,
  type PartyReport,
  type Schema,
  SqliteStore,
  signReport,
  ticketHash,
} from '@unseen/exchange';

export const schema: Schema = [
  { name: 'id', type: 'string' },
  { name: 'amount', type: 'number' },
];

export function assetDefinition(id: string, rows = 20): AssetDefinition {
  const data = Array.from({ length: rows }, (_, i) => [`r${i}`, i * 1.5]);
  return {
    id,
    title: id,
    schema,
    classification: 'general',
    commitment: commitRows(schema, data, randomBytes(32)),
    computations: ['psi.cardinality', 'aggregate.count', 'aggregate.sum'],
  };
}

export interface InProcess {
  dir: string;
  store: SqliteStore;
  ex: Exchange;
  ids: {
    exchange: Identity;
    operator: Identity;
    provider: Identity;
    consumer: Identity;
    consumer2: Identity;
  };
  actors: {
    operator: PartyRecord;
    provider: PartyRecord;
    consumer: PartyRecord;
    consumer2: PartyRecord;
  };
  close(): Promise<void>;
}

export async function inProcessExchange(
  options: { jobTimeoutMs?: number; now?: () => number } = {},
): Promise<InProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'unseen-exchange-'));
  const store = SqliteStore.open(join(dir, 'exchange.db'), { synchronous: 'NORMAL' });
  const ids = {
    exchange: Identity.generate('exchange', 'ex'),
    operator: Identity.generate('operator', 'op'),
    provider: Identity.generate('provider', 'bank'),
    consumer: Identity.generate('consumer', 'shop'),
    consumer2: Identity.generate('consumer', 'other-shop'),
  };
  const ex = await Exchange.open({
    identity: ids.exchange,
    store,
    operators: [ids.operator.public],
    ...options,
  });
  const operator = await ex.party(ids.operator.keyId);
  const provider = await ex.registerParty(operator, ids.provider.public);
  const consumer = await ex.registerParty(operator, ids.consumer.public);
  const consumer2 = await ex.registerParty(operator, ids.consumer2.public);
  return {
    dir,
    store,
    ex,
    ids,
    actors: { operator, provider, consumer, consumer2 },
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

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

/** Sets up an asset with a generous policy and runs `n` jobs to their receipts. */
export async function runJobs(p: InProcess, n: number, assetId = 'claims'): Promise<void> {
  if ((await p.store.getAsset(assetId)) === undefined) {
    await p.ex.registerAsset(p.actors.provider, assetDefinition(assetId));
    await p.ex.setPolicy(p.actors.provider, {
      assetId,
      consumer: p.ids.consumer.keyId,
      computations: ['aggregate.count', 'psi.cardinality'],
      minCohort: 1,
      budget: null,
      maxEpsilonPerJob: null,
      quota: null,
      expiresAt: p.ex.now() + 3_600_000,
    });
  }
  for (let i = 0; i < n; i++) {
    const { job } = await p.ex.requestJob(p.actors.consumer, {
      computation: 'aggregate.count',
      assets: [assetId],
      params: {},
      cohort: 0,
    });
    const status = i % 4 === 3 ? 'failed' : 'finished';
    await p.ex.submitReport(
      p.actors.provider,
      job.id,
      signReport(p.ids.provider, reportFor(job, p.ids.provider, 'provider')),
    );
    await p.ex.submitReport(
      p.actors.consumer,
      job.id,
      signReport(p.ids.consumer, reportFor(job, p.ids.consumer, 'consumer', status)),
    );
  }
}
