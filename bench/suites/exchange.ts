/**
 * exchange: what the exchange costs around a job. Each group runs the same computation twice:
 * through the exchange (signed requests, policy admission with the quota and budget spend in
 * SQLite, the signed ticket, both parties on the blind WebSocket relay over loopback with every
 * frame signed and checked, the parties' signed reports, the signed receipt appended to the
 * hash-chained ledger with synchronous=FULL), and directly between the two parties over an
 * in-memory channel (the baseline: the protocol alone). Both parties run in this process, so
 * the numbers are jobs per second of one exchange with one provider and one consumer.
 *
 * Quick: aggregate.count over 1,000 rows; psi.cardinality of 256 consumer items against 4,096
 * provider rows. `--full`: 10,000 rows; 4,096 against 65,536.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryChannelPair, randomBytes } from '@unseen/core';
import {
  commitRows,
  Exchange,
  ExchangeClient,
  Identity,
  type JobRequest,
  type JobTicket,
  type LocalAsset,
  localAggregateRunner,
  psiRunner,
  RunnerRegistry,
  runAsConsumer,
  runAsProvider,
  type Schema,
  SqliteStore,
  startExchangeServer,
} from '@unseen/exchange';
import { defineSuite } from '../src/harness.js';

const schema: Schema = [
  { name: 'id', type: 'string' },
  { name: 'income', type: 'number' },
];

export default defineSuite({
  name: 'exchange',
  title: '@unseen/exchange: jobs through the exchange against the same protocol run directly',
  async run(ctx) {
    const rows = ctx.full ? 10_000 : 1_000;
    const psiRows = ctx.full ? 65_536 : 4_096;
    const psiClient = ctx.full ? 4_096 : 256;
    const dir = mkdtempSync(join(tmpdir(), 'unseen-bench-exchange-'));
    const store = SqliteStore.open(join(dir, 'exchange.db'));
    const operator = Identity.generate('operator', 'ops');
    const bank = Identity.generate('provider', 'bank');
    const shop = Identity.generate('consumer', 'shop');
    const exchange = await Exchange.open({
      identity: Identity.generate('exchange', 'ex'),
      store,
      operators: [operator.public],
    });
    const server = await startExchangeServer({ exchange });
    try {
      const ops = await ExchangeClient.connect(server.url, operator);
      await ops.registerParty(bank.public);
      await ops.registerParty(shop.public);
      const provider = await ExchangeClient.connect(server.url, bank);
      const consumer = await ExchangeClient.connect(server.url, shop);
      const runners = new RunnerRegistry([localAggregateRunner, psiRunner]);

      const asset = async (id: string, n: number): Promise<LocalAsset & { root: string }> => {
        const data = Array.from({ length: n }, (_, i) => [
          `customer-${i}@bank.example`,
          1000 + (i % 97) * 10,
        ]);
        const commitKey = randomBytes(32);
        const commitment = commitRows(schema, data, commitKey);
        await provider.registerAsset({
          id,
          title: id,
          schema,
          classification: 'general',
          commitment,
          computations: ['aggregate.count', 'psi.cardinality'],
        });
        await provider.setPolicy({
          assetId: id,
          consumer: shop.keyId,
          computations: ['aggregate.count', 'psi.cardinality'],
          minCohort: 1,
          budget: null,
          maxEpsilonPerJob: null,
          quota: null,
          expiresAt: Date.now() + 86_400_000,
        });
        return { id, schema, rows: data, root: commitment.root };
      };
      const small = await asset('customers', rows);
      const big = await asset('customers-psi', psiRows);
      const items = Array.from({ length: psiClient }, (_, i) => `customer-${2 * i}@bank.example`);

      /** One whole job through the exchange: request, both sides on the relay, receipt. */
      const viaExchange = async (
        request: JobRequest,
        held: LocalAsset & { root: string },
        input?: unknown,
      ) => {
        const view = await consumer.requestJob(request);
        const providerView = await provider.getJob(view.job.id);
        const [, done] = await Promise.all([
          runAsProvider({ client: provider, view: providerView, runners, assets: [held] }),
          runAsConsumer({ client: consumer, view, runners, input }),
        ]);
        return done;
      };

      /** The same runners, directly over an in-memory channel pair. */
      const direct = async (ticket: JobTicket, held: LocalAsset, input?: unknown) => {
        const [a, b] = memoryChannelPair();
        const runner = runners.get(ticket.computation);
        const common = {
          ticket,
          identity: bank,
          peers: [],
          signal: new AbortController().signal,
          progress: () => {},
        };
        const [, out] = await Promise.all([
          runner.runProvider({ ...common, channel: () => a, assets: [held] }),
          runner.runConsumer({ ...common, identity: shop, channel: () => b, input }),
        ]);
        return out;
      };
      const ticketFor = (
        computation: JobTicket['computation'],
        held: LocalAsset & { root: string },
        params: Record<string, unknown>,
        cohort: number,
      ): JobTicket => ({
        v: 1,
        jobId: '00'.repeat(16),
        exchange: exchange.identity.keyId,
        consumer: shop.keyId,
        computation,
        params,
        assets: [{ id: held.id, provider: bank.keyId, root: held.root, rows: held.rows.length }],
        cohort,
        minCohort: 1,
        privacy: null,
        issuedAt: Date.now(),
        expiresAt: Date.now() + 86_400_000,
      });

      const countReq: JobRequest = {
        computation: 'aggregate.count',
        assets: ['customers'],
        params: {},
        cohort: 0,
        privacy: null,
      };
      await ctx.group({
        name: `aggregate.count job over ${rows.toLocaleString('en-US')} rows, one provider`,
        description:
          'Jobs per second through the exchange (admission, relay, reports, receipt) against the runner alone.',
        unit: 'jobs',
        time: 3000,
        tasks: [
          {
            name: 'through the exchange (HTTP + WebSocket relay + SQLite ledger)',
            role: 'unseen',
            items: 1,
            fn: () => viaExchange(countReq, small),
          },
          {
            name: 'runner alone over an in-memory channel',
            role: 'baseline',
            items: 1,
            fn: () => direct(ticketFor('aggregate.count', small, {}, 0), small),
          },
        ],
      });

      const psiReq: JobRequest = {
        computation: 'psi.cardinality',
        assets: ['customers-psi'],
        params: { column: 'id' },
        cohort: items.length,
        privacy: null,
      };
      // Warm the provider's cached PSI setup so both tasks measure a query, not the setup.
      await viaExchange(psiReq, big, items);
      await ctx.group({
        name: `psi.cardinality job: ${psiClient.toLocaleString('en-US')} consumer items against ${psiRows.toLocaleString('en-US')} provider rows`,
        description:
          'The provider setup is computed once and reused (as a provider node does); each job is one query.',
        unit: 'jobs',
        time: 5000,
        iterations: 5,
        tasks: [
          {
            name: 'through the exchange (HTTP + WebSocket relay + SQLite ledger)',
            role: 'unseen',
            items: 1,
            fn: () => viaExchange(psiReq, big, items),
          },
          {
            name: '@unseen/psi alone over an in-memory channel',
            role: 'baseline',
            items: 1,
            fn: () =>
              direct(ticketFor('psi.cardinality', big, { column: 'id' }, items.length), big, items),
          },
        ],
      });

      const denied: JobRequest = {
        computation: 'psi.cardinality',
        assets: ['nothing-here'],
        params: { column: 'id' },
        cohort: 10,
        privacy: null,
      };
      await ctx.group({
        name: 'admission alone: a signed job request answered',
        description:
          'One signed HTTP request per call: an admitted job (quota and budget spent in one SQLite transaction, ticket signed) or a denial (recorded).',
        unit: 'requests',
        time: 2000,
        tasks: [
          {
            name: 'admitted (POST /v1/jobs, 201)',
            role: 'unseen',
            items: 1,
            fn: () => consumer.requestJob(countReq),
          },
          {
            name: 'denied (POST /v1/jobs, 403)',
            role: 'unseen',
            items: 1,
            fn: () => consumer.requestJob(denied).catch(() => undefined),
          },
          {
            name: 'unauthenticated read (GET /v1/exchange)',
            role: 'baseline',
            items: 1,
            fn: async () => (await fetch(`${server.url}/v1/exchange`)).json(),
          },
        ],
      });

      const entries = await store.ledgerEntries(1, 100_000);
      await ctx.group({
        name: `ledger verification: ${entries.length} receipts`,
        description:
          'Chain, exchange signatures on entries and receipts, and both parties\u2019 report signatures (4 ed25519 verifications per entry).',
        unit: 'entries',
        time: 2000,
        tasks: [
          {
            name: 'verifyStoreLedger',
            role: 'unseen',
            items: entries.length,
            fn: () => exchange.verifyLedger(),
          },
        ],
      });
    } finally {
      await server.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
});
