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
 * provider rows; aggregate.sum over two providers of 1,000 rows each, by secure aggregation and
 * by BFV encryption. `--full`: 10,000 rows; 4,096 against 65,536; two providers of 10,000 rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Channel, memoryChannelPair, randomBytes } from '@unseen/core';
import {
  aggregateRunner,
  commitRows,
  Exchange,
  ExchangeClient,
  Identity,
  type JobRequest,
  type JobTicket,
  type LocalAsset,
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
    const insurer = Identity.generate('provider', 'insurer');
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
      await ops.registerParty(insurer.public);
      await ops.registerParty(shop.public);
      const provider = await ExchangeClient.connect(server.url, bank);
      const provider2 = await ExchangeClient.connect(server.url, insurer);
      const consumer = await ExchangeClient.connect(server.url, shop);
      const runners = new RunnerRegistry([aggregateRunner, psiRunner]);

      const asset = async (
        id: string,
        n: number,
        owner = provider,
      ): Promise<LocalAsset & { root: string }> => {
        const data = Array.from({ length: n }, (_, i) => [
          `customer-${i}@bank.example`,
          1000 + (i % 97) * 10,
        ]);
        const commitKey = randomBytes(32);
        const commitment = commitRows(schema, data, commitKey);
        await owner.registerAsset({
          id,
          title: id,
          schema,
          classification: 'general',
          commitment,
          computations: ['aggregate.count', 'aggregate.sum', 'psi.cardinality'],
        });
        await owner.setPolicy({
          assetId: id,
          consumer: shop.keyId,
          computations: ['aggregate.count', 'aggregate.sum', 'psi.cardinality'],
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
      const mine = await asset('claims-bank', rows);
      const theirs = await asset('claims-insurer', rows, provider2);

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
      const countGroup = await ctx.group({
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

      ctx.metric(
        'oneProvider.aggregate.exchangeOverheadMs',
        countGroup.tasks[0]!.meanMs - countGroup.tasks[1]!.meanMs,
      );

      const psiReq: JobRequest = {
        computation: 'psi.cardinality',
        assets: ['customers-psi'],
        params: { column: 'id' },
        cohort: items.length,
        privacy: null,
      };
      // Warm the provider's cached PSI setup so both tasks measure a query, not the setup.
      await viaExchange(psiReq, big, items);
      const psiGroup = await ctx.group({
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
      ctx.metric(
        'oneProvider.psi.exchangeOverheadMs',
        psiGroup.tasks[0]!.meanMs - psiGroup.tasks[1]!.meanMs,
      );

      // --- aggregates over two providers ---------------------------------------------
      /** A job with two providers, all three parties in this process, through the exchange. */
      const viaExchange2 = async (request: JobRequest) => {
        const view = await consumer.requestJob(request);
        const run = async (client: ExchangeClient, held: LocalAsset & { root: string }) =>
          runAsProvider({
            client,
            view: await client.getJob(view.job.id),
            runners,
            assets: [held],
          });
        const [, , done] = await Promise.all([
          run(provider, mine),
          run(provider2, theirs),
          runAsConsumer({ client: consumer, view, runners }),
        ]);
        return done;
      };
      /** The same runners directly: every pair of parties on an in-memory channel pair. */
      const direct2 = async (ticket: JobTicket) => {
        const parties = [shop.keyId, bank.keyId, insurer.keyId];
        const links = new Map<string, Channel>();
        for (const [i, x] of parties.entries()) {
          for (const y of parties.slice(i + 1)) {
            const [a, b] = memoryChannelPair();
            links.set(`${x}>${y}`, a);
            links.set(`${y}>${x}`, b);
          }
        }
        const runner = runners.get(ticket.computation);
        const side = (who: Identity) => ({
          ticket,
          identity: who,
          peers: [],
          signal: new AbortController().signal,
          progress: () => {},
          channel: (k: string) => links.get(`${who.keyId}>${k}`)!,
        });
        const [, , out] = await Promise.all([
          runner.runProvider({ ...side(bank), assets: [mine] }),
          runner.runProvider({ ...side(insurer), assets: [theirs] }),
          runner.runConsumer({ ...side(shop), input: undefined }),
        ]);
        return out;
      };
      for (const protocol of ['secure-aggregation', 'homomorphic'] as const) {
        const params = { column: 'income', lower: 0, upper: 5000, decimals: 0, protocol };
        const request: JobRequest = {
          computation: 'aggregate.sum',
          assets: ['claims-bank', 'claims-insurer'],
          params,
          cohort: 0,
          privacy: null,
        };
        const ticket: JobTicket = {
          ...ticketFor('aggregate.sum', mine, params, 0),
          assets: [
            { id: mine.id, provider: bank.keyId, root: mine.root, rows: mine.rows.length },
            { id: theirs.id, provider: insurer.keyId, root: theirs.root, rows: theirs.rows.length },
          ],
        };
        const g = await ctx.group({
          name: `aggregate.sum job over two providers of ${rows.toLocaleString('en-US')} rows each, ${protocol === 'homomorphic' ? 'BFV encryption' : 'secure aggregation'}`,
          description:
            protocol === 'homomorphic'
              ? 'The consumer makes a BFV key per job (SEAL, N = 4096); each provider encrypts its vector, the first adds them, the consumer decrypts the total.'
              : 'The consumer runs the SecAgg server and the providers its clients (four rounds of X25519 keys, Shamir shares and masks) on Z_2^64 vectors.',
          unit: 'jobs',
          time: 4000,
          iterations: 5,
          tasks: [
            {
              name: 'through the exchange (HTTP + WebSocket relay + SQLite ledger)',
              role: 'unseen',
              items: 1,
              fn: () => viaExchange2(request),
            },
            {
              name: 'runners alone over in-memory channels',
              role: 'baseline',
              items: 1,
              fn: () => direct2(ticket),
            },
          ],
        });
        ctx.metric(
          `twoProviders.${protocol}.exchangeOverheadMs`,
          g.tasks[0]!.meanMs - g.tasks[1]!.meanMs,
        );
      }

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
