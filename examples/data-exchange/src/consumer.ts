/**
 * The shop: the demo's consumer, its own process. It asks the exchange for four jobs and runs
 * its side of each over the exchange's relay; then it asks for one the policy does not allow.
 *
 * `consumer.ts URL KEY_FILE CUSTOMERS_FILE SHOP_LOANS_CSV` prints what it learns, line by line.
 * @module
 */
import { readFileSync } from 'node:fs';
import { isUnseenError } from '@unseen/core';
import {
  type AggregateResult,
  aggregateRunner,
  ExchangeClient,
  type FederatedResult,
  federatedModel,
  federatedPrivacy,
  federatedRunner,
  Identity,
  inferSchema,
  type JobRequest,
  type LedgerEntry,
  localDataset,
  type Progress,
  parseCsv,
  parseFederatedParams,
  psiRunner,
  RunnerRegistry,
  runAsConsumer,
  typeRecord,
} from '@unseen/exchange';
import { evaluateModel } from '@unseen/federated';
import { TRAIN_PARAMS } from './train-params.js';

const [url, keyFile, customersFile, loansFile] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);
const int = (n: number) => n.toLocaleString('en-US');
const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const identity = Identity.fromKeyFile(JSON.parse(readFileSync(keyFile!, 'utf8')));
  const client = await ExchangeClient.connect(url!, identity);
  const runners = new RunnerRegistry([aggregateRunner, psiRunner, federatedRunner]);

  const run = async (title: string, request: JobRequest, input?: unknown) => {
    const view = await client.requestJob(request);
    const id = view.job.id.slice(0, 8);
    say(`job ${id} admitted: ${title}`);
    let last = '';
    const onProgress = (p: Progress) => {
      // A line per phase and per step of short counts (rounds); long counts at their end only.
      const line = p.total === undefined ? p.phase : `${p.phase} ${p.done ?? 0}/${p.total}`;
      const key = p.total !== undefined && p.total > 10 && p.done !== p.total ? p.phase : line;
      if (key !== last) say(`job ${id} ... ${line}`);
      last = key;
    };
    const out = await runAsConsumer({ client, view, runners, input, onProgress });
    return { ...out, id };
  };
  const receiptLine = (e: LedgerEntry) => {
    const r = e.receipt.body;
    const eps = r.privacy === null ? 'no DP' : `epsilon ${r.privacy.epsilon} spent per asset`;
    return `receipt #${e.seq}: ${r.status}, ${r.durationMs} ms, ${kb(r.bytes.relayed)} relayed, ${eps}`;
  };

  // 1. PSI cardinality against the bank's risk list.
  say('');
  say('1. PSI cardinality: how many of my customers are on the bank’s risk list?');
  const customers = readFileSync(customersFile!, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const psi = await run(
    `psi.cardinality of ${int(customers.length)} customers against risk-list`,
    {
      computation: 'psi.cardinality',
      assets: ['risk-list'],
      params: { column: 'customer_id' },
      cohort: customers.length,
      privacy: null,
    },
    customers,
  );
  const cardinality = (psi.result as { cardinality: number }).cardinality;
  say(`RESULT psi.cardinality ${cardinality}`);
  say(
    `${int(cardinality)} of my ${int(customers.length)} customers are on the risk list (not which ones)`,
  );
  say(receiptLine(psi.receipt));

  // 2. Aggregates over both providers' loan books.
  say('');
  say('2. Aggregates over the bank’s and the insurer’s loan books (neither sees the other’s)');
  const mean = await run(
    'aggregate.mean of income over loans-bank + loans-insurer (secure aggregation)',
    {
      computation: 'aggregate.mean',
      assets: ['loans-bank', 'loans-insurer'],
      params: {
        column: 'income',
        lower: 0,
        upper: 10_000,
        decimals: 0,
        protocol: 'secure-aggregation',
      },
      cohort: 0,
      privacy: { epsilon: 1, delta: 0 },
    },
  );
  const m = mean.result as AggregateResult;
  say(`RESULT aggregate.mean ${m.value}`);
  say(
    `mean income: ${m.value.toFixed(2)} (each provider added discrete Laplace noise for epsilon ${(m.noise as { epsilon: number }).epsilon}; secure aggregation of ${m.providers} providers)`,
  );
  say(receiptLine(mean.receipt));
  const count = await run('aggregate.count over both loan books (BFV homomorphic encryption)', {
    computation: 'aggregate.count',
    assets: ['loans-bank', 'loans-insurer'],
    params: { protocol: 'homomorphic' },
    cohort: 0,
    privacy: { epsilon: 0.5, delta: 0 },
  });
  const c = count.result as AggregateResult;
  say(`RESULT aggregate.count ${c.value}`);
  say(
    `loans: ${int(c.value)} (noisy count; the first provider summed BFV ciphertexts, only I could decrypt the total)`,
  );
  say(receiptLine(count.receipt));

  // 3. Federated training.
  say('');
  say('3. Federated training: a default-risk model over both loan books, 3 rounds');
  const policies = await client.listPolicies();
  const delta = Math.min(
    ...policies
      .filter(
        (p) =>
          !p.policy.revoked && p.policy.budget !== null && p.policy.assetId.startsWith('loans'),
      )
      .map((p) => p.policy.budget!.delta),
  );
  const spend = federatedPrivacy(TRAIN_PARAMS, delta);
  say(
    `DP-SGD: ${spend.steps} steps, sampling rate ${spend.samplingRate}, noise multiplier ${spend.noiseMultiplier}: RDP epsilon ${spend.epsilon} at the policy's delta ${delta}`,
  );
  const train = await run(
    'federated.train over loans-bank + loans-insurer (DP-SGD, secure aggregation)',
    {
      computation: 'federated.train',
      assets: ['loans-bank', 'loans-insurer'],
      params: TRAIN_PARAMS,
      cohort: 0,
      privacy: { epsilon: spend.epsilon, delta },
    },
  );
  const t = train.result as FederatedResult;
  const body = train.receipt.receipt.body;
  for (const u of body.rounds ?? []) {
    say(`round ${u.round}: ${u.contributors} providers, ${kb(u.bytes)}, ${u.durationMs} ms`);
  }
  const p = parseFederatedParams(TRAIN_PARAMS);
  const table = parseCsv(readFileSync(loansFile!, 'utf8'));
  const schema = inferSchema(table.header, table.records);
  const mine = localDataset(
    [{ id: 'shop-loans', schema, rows: table.records.map((r, i) => typeRecord(schema, r, i + 1)) }],
    p,
    1,
  );
  const model = federatedModel(p);
  const accuracy = evaluateModel(
    model,
    t.weights.map((w) => Float32Array.from(w)),
    mine,
  ).accuracy;
  say(`RESULT federated.accuracy ${accuracy}`);
  say(`model accuracy on my own ${int(mine.count)} past loans: ${(100 * accuracy).toFixed(1)}%`);
  say(`RESULT federated.epsilon ${body.privacySpent?.epsilon ?? 0}`);
  say(
    `${receiptLine(train.receipt)}; providers' RDP accounting: epsilon ${body.privacySpent?.epsilon.toFixed(4)} at delta ${body.privacySpent?.delta}`,
  );

  // 4. A job the policy denies.
  say('');
  say('4. A job the policy does not allow: the exact intersection with the risk list');
  try {
    await client.requestJob({
      computation: 'psi.intersection',
      assets: ['risk-list'],
      params: { column: 'customer_id' },
      cohort: customers.length,
      privacy: null,
    });
    say('RESULT denied none');
  } catch (e) {
    if (!isUnseenError(e)) throw e;
    const reason = String(e.details?.reason ?? '');
    say(`RESULT denied ${e.code} ${reason}`);
    say(`denied before any provider saw the request: ${e.code} (${reason}): ${e.message}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(
      `shop failed: ${isUnseenError(e) ? `${e.code}: ${e.message}` : (e as Error)?.stack}\n`,
    );
    process.exit(1);
  },
);
