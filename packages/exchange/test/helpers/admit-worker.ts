/**
 * A separate exchange process that admits jobs against a shared store as fast as it can and
 * ends each admitted job with both parties' reports (appending its receipt to the ledger):
 * `admit-worker.ts STORE EXCHANGE_KEY CONSUMER_KEY PROVIDER_KEY ASSET N`, where STORE is a
 * SQLite path or a postgres:// URL. Prints `{"admitted":A,"quota":Q,"budget":B,"receipts":R}`.
 */
import { readFileSync } from 'node:fs';
import { Exchange, Identity, openStore, signReport } from '@unseen/exchange';
import { reportFor } from './reports.js';

const [location, exchangeKey, consumerKey, providerKey, asset, n] = process.argv.slice(2);
const key = (path: string) => Identity.fromKeyFile(JSON.parse(readFileSync(path, 'utf8')));
const [consumer, provider] = [key(consumerKey!), key(providerKey!)];
const store = await openStore(location!, { sqlite: { busyTimeoutMs: 20_000 } });
const ex = await Exchange.open({ identity: key(exchangeKey!), store, recoverRunningJobs: false });
const actors = {
  consumer: await ex.party(consumer.keyId),
  provider: await ex.party(provider.keyId),
};
const counts = { admitted: 0, quota: 0, budget: 0, receipts: 0 };
for (let i = 0; i < Number(n); i++) {
  try {
    const { job } = await ex.requestJob(actors.consumer, {
      computation: 'aggregate.count',
      assets: [asset],
      params: {},
      cohort: 0,
      privacy: { epsilon: 0.01, delta: 0 },
    });
    counts.admitted++;
    await ex.submitReport(
      actors.provider,
      job.id,
      signReport(provider, reportFor(job, provider, 'provider')),
    );
    const { entry } = await ex.submitReport(
      actors.consumer,
      job.id,
      signReport(consumer, reportFor(job, consumer, 'consumer')),
    );
    if (entry !== undefined) counts.receipts++;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_QUOTA_EXCEEDED') counts.quota++;
    else if (code === 'ERR_BUDGET_EXHAUSTED') counts.budget++;
    else throw e;
  }
}
await store.close();
process.stdout.write(`${JSON.stringify(counts)}\n`);
