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
  type Computation,
  commitRows,
  Exchange,
  ExchangeClient,
  type ExchangeServer,
  type ExchangeServerOptions,
  type ExchangeStore,
  Identity,
  type JobView,
  type PartyRecord,
  type Schema,
  signReport,
  signRequest,
  startExchangeServer,
} from '@unseen/exchange';
import { WebSocket } from 'ws';

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

/**
 * Registers the provider's asset `assetId` with a policy that lets the consumer run `computations`
 * on it without budget, quota or cohort limits, for an hour.
 */
export async function openAsset(
  p: InProcess,
  assetId: string,
  computations: Computation[] = ['aggregate.count', 'psi.cardinality'],
): Promise<void> {
  await p.ex.registerAsset(p.actors.provider, assetDefinition(assetId));
  await openPolicy(p, assetId, p.ids.consumer.keyId, computations);
}

/**
 * Lets `consumer` run `computations` on `assetId` (owned by `owner`, default the provider)
 * without budget, quota or cohort limits, for an hour.
 */
export async function openPolicy(
  p: InProcess,
  assetId: string,
  consumer: string,
  computations: Computation[],
  owner: PartyRecord = p.actors.provider,
): Promise<void> {
  await p.ex.setPolicy(owner, {
    assetId,
    consumer,
    computations,
    minCohort: 1,
    budget: null,
    maxEpsilonPerJob: null,
    quota: null,
    expiresAt: p.ex.now() + 3_600_000,
  });
}

/**
 * A raw WebSocket to a job's relay at `serverUrl`, authenticated as `id` for the exchange
 * `exchangeKeyId`, once it is open. `listen` attaches
 * listeners before that: the relay may send as soon as the socket opens.
 */
export async function rawRelaySocket(
  serverUrl: string,
  exchangeKeyId: string,
  id: Identity,
  jobId: string,
  listen?: (ws: WebSocket) => void,
): Promise<WebSocket> {
  const path = `/v1/jobs/${jobId}/relay`;
  const headers = signRequest(id, {
    method: 'GET',
    path,
    body: new Uint8Array(0),
    audience: exchangeKeyId,
  });
  const ws = new WebSocket(serverUrl.replace('http', 'ws') + path, { headers });
  listen?.(ws);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** Sets up an asset with a generous policy and runs `n` jobs to their receipts. */
export async function runJobs(p: InProcess, n: number, assetId = 'claims'): Promise<void> {
  if ((await p.store.getAsset(assetId)) === undefined) await openAsset(p, assetId);
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

/** An exchange in this process behind a real HTTP + WebSocket server, for the relay's tests. */
export interface RelayBench {
  p: InProcess;
  server: ExchangeServer;
  consumer: ExchangeClient;
  provider: ExchangeClient;
  /** A new aggregate.count job of the consumer on the provider's asset 'claims'. */
  newJob(): Promise<JobView>;
  close(): Promise<void>;
}

/**
 * {@link inProcessExchange} with the asset 'claims' open to the consumer for aggregate.count, a
 * server started with `options`, and clients of the consumer and the provider.
 */
export async function relayBench(
  options: Omit<ExchangeServerOptions, 'exchange'> = {},
): Promise<RelayBench> {
  const p = await inProcessExchange();
  const server = await startExchangeServer({ ...options, exchange: p.ex });
  await openAsset(p, 'claims', ['aggregate.count']);
  const consumer = await ExchangeClient.connect(server.url, p.ids.consumer);
  const provider = await ExchangeClient.connect(server.url, p.ids.provider);
  return {
    p,
    server,
    consumer,
    provider,
    newJob: () =>
      consumer.requestJob({
        computation: 'aggregate.count',
        assets: ['claims'],
        params: {},
        cohort: 0,
        privacy: null,
      }),
    close: async () => {
      await server.close();
      await p.close();
    },
  };
}
