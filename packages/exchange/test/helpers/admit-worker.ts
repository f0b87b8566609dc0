/**
 * A separate process that admits jobs against a shared SQLite file as fast as it can:
 * `admit-worker.ts DB EXCHANGE_KEY_JSON CONSUMER_KEY_ID ASSET N`. Prints
 * `{"admitted":A,"quota":Q,"budget":B}`.
 */
import { readFileSync } from 'node:fs';
import { Exchange, Identity, SqliteStore } from '@unseen/exchange';

const [db, keyFile, consumerId, asset, n] = process.argv.slice(2);
const store = SqliteStore.open(db!, { busyTimeoutMs: 20_000 });
const ex = await Exchange.open({
  identity: Identity.fromKeyFile(JSON.parse(readFileSync(keyFile!, 'utf8'))),
  store,
  recoverRunningJobs: false,
});
const actor = await ex.party(consumerId!);
const counts = { admitted: 0, quota: 0, budget: 0 };
for (let i = 0; i < Number(n); i++) {
  try {
    await ex.requestJob(actor, {
      computation: 'aggregate.count',
      assets: [asset],
      params: {},
      cohort: 0,
      privacy: { epsilon: 0.01, delta: 0 },
    });
    counts.admitted++;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_QUOTA_EXCEEDED') counts.quota++;
    else if (code === 'ERR_BUDGET_EXHAUSTED') counts.budget++;
    else throw e;
  }
}
await store.close();
process.stdout.write(`${JSON.stringify(counts)}\n`);
