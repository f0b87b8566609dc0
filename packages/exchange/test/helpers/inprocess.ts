/** An exchange in this process over a fresh store (SQLite file or PostgreSQL database), with registered parties. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from '@unseen/core';
import { reportFor } from './reports.js';
import { createStoreFixture, type StoreFixture, type StoreKind } from './stores.js';

export { reportFor };

import {
  type AssetDefinition,
  commitRows,
  Exchange,
  type ExchangeStore,
  Identity,
  type PartyRecord,
  type Schema,
  signReport,
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
  fixture: StoreFixture;
  store: ExchangeStore;
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
  options: { jobTimeoutMs?: number; now?: () => number; store?: StoreKind } = {},
): Promise<InProcess> {
  const { store: kind = 'sqlite', ...exchangeOptions } = options;
  const dir = mkdtempSync(join(tmpdir(), 'unseen-exchange-'));
  const fixture = await createStoreFixture(kind, dir);
  const store = await fixture.open();
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
    ...exchangeOptions,
  });
  const operator = await ex.party(ids.operator.keyId);
  const provider = await ex.registerParty(operator, ids.provider.public);
  const consumer = await ex.registerParty(operator, ids.consumer.public);
  const consumer2 = await ex.registerParty(operator, ids.consumer2.public);
  return {
    dir,
    fixture,
    store,
    ex,
    ids,
    actors: { operator, provider, consumer, consumer2 },
    close: async () => {
      await store.close();
      await fixture.drop();
      rmSync(dir, { recursive: true, force: true });
    },
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
