/**
 * `pnpm demo`: a data exchange on this machine, every party its own process on 127.0.0.1.
 *
 * - the exchange (`unseen exchange serve`, SQLite ledger on disk),
 * - a bank and an insurer (`unseen provider serve`), each keeping its CSV files,
 * - a shop (`consumer.ts`), which runs a PSI cardinality job, two aggregates over both
 *   providers, a three-round federated training, and then a job the policy denies.
 *
 * This script plays the operator: it generates the keys and the seeded sample data, admits the
 * parties, registers each provider's assets and policies with that provider's key, starts the
 * processes, relays their progress, and at the end prints the verified ledger and the metering
 * per consumer. It exits 0 when everything did what it should.
 * @module
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, hexToBytes, randomBytes } from '@unseen/core';
import {
  type Computation,
  ExchangeClient,
  federatedModel,
  Identity,
  inferSchema,
  loadCsvAsset,
  localDataset,
  type PolicyDefinition,
  parseCsv,
  parseFederatedParams,
  typeRecord,
  verifyLedger,
} from '@unseen/exchange';
import { evaluateModel, Rng, trainSgd } from '@unseen/federated';
import { column, demoData, SIZES } from './data.js';
import {
  CLI,
  CONSUMER,
  fail,
  firstLine,
  heading,
  node,
  relayConsumer,
  relayProvider,
  say,
  stopAll,
  useTempDir,
} from './processes.js';
import { TRAIN_PARAMS } from './train-params.js';

const DEADLINE_MS = 120_000;
const started = Date.now();
const int = (n: number) => n.toLocaleString('en-US');
const short = (hex: string) => `${hex.slice(0, 8)}…`;

async function main(): Promise<void> {
  const timer = setTimeout(
    () => fail(new Error(`not done within ${DEADLINE_MS / 1000} s`)),
    DEADLINE_MS,
  );
  timer.unref();
  process.stdout.write(
    'unseen demo: a data exchange where data is usable but not visible, controllable and measurable\n' +
      'Every party is its own process on 127.0.0.1: the exchange, a bank and an insurer (providers), a shop (consumer).\n',
  );
  const dir = mkdtempSync(join(tmpdir(), 'unseen-demo-'));
  useTempDir(dir);
  const data = await demoData();
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const files = {
    riskList: file('risk-list.csv', data.riskList),
    bankLoans: file('loans-bank.csv', data.bankLoans),
    insurerLoans: file('loans-insurer.csv', data.insurerLoans),
    customers: file('shop-customers.txt', data.shopCustomers),
    shopLoans: file('shop-loans.csv', data.shopLoans),
  };
  heading('Setup');
  say('demo', `seeded sample data in ${dir}:`);
  say(
    'demo',
    `  bank: risk list of ${int(SIZES.riskList)} customer ids, ${int(SIZES.bankLoans)} loans; insurer: ${int(SIZES.insurerLoans)} loans`,
  );
  say(
    'demo',
    `  shop: ${int(SIZES.shopCustomers)} customer ids, ${int(SIZES.shopLoans)} past loans of its own`,
  );

  // Keys: every party has its own ed25519 key (`unseen keys generate` does the same).
  const ids = {
    operator: Identity.generate('operator', 'operator'),
    bank: Identity.generate('provider', 'bank'),
    insurer: Identity.generate('provider', 'insurer'),
    shop: Identity.generate('consumer', 'shop'),
  };
  const keyFile = (id: Identity) => file(`${id.name}.key.json`, JSON.stringify(id.toKeyFile()));
  const keys = {
    bank: keyFile(ids.bank),
    insurer: keyFile(ids.insurer),
    shop: keyFile(ids.shop),
  };
  const operatorPub = file('operator.pub.json', JSON.stringify(ids.operator.public));

  // The exchange.
  const exchange = node(CLI, [
    'exchange',
    'serve',
    '--db',
    join(dir, 'exchange.db'),
    '--key',
    join(dir, 'exchange.key.json'),
    '--operator',
    operatorPub,
    '--port',
    '0',
    '--json',
  ]);
  const { listening: url, keyId } = await firstLine<{ listening: string; keyId: string }>(
    exchange,
    (v) => typeof v.listening === 'string',
  );
  say(
    'exchange',
    `listening on ${url}, key ${short(keyId)}, ledger in SQLite (WAL) at exchange.db`,
  );

  const op = await ExchangeClient.connect(url, ids.operator);
  for (const who of ['bank', 'insurer', 'shop'] as const) await op.registerParty(ids[who].public);
  say(
    'operator',
    `admitted bank and insurer (providers), shop (consumer); every request is signed`,
  );

  // Each provider registers its assets (description and Merkle commitment; the rows stay home)
  // and sets the shop's policies.
  // The commit secret of each provider (the provider process derives the same commitments).
  const secrets = { bank: randomBytes(32), insurer: randomBytes(32) };
  for (const who of ['bank', 'insurer'] as const) {
    writeFileSync(`${keys[who]}.commit-secret`, `${bytesToHex(secrets[who])}\n`, { mode: 0o600 });
  }
  const register = async (
    who: 'bank' | 'insurer',
    path: string,
    id: string,
    offer: Computation[],
  ) => {
    const client = await ExchangeClient.connect(url, ids[who]);
    const secret = secrets[who];
    const loaded = await loadCsvAsset(path, { id, commitSecret: secret });
    await client.registerAsset({
      id,
      title: id,
      schema: loaded.schema,
      classification: 'important',
      commitment: loaded.commitment,
      computations: offer,
    });
    say(
      who,
      `registered ${id}: ${int(loaded.commitment.rows)} rows, Merkle root ${short(loaded.root)}; offers ${offer.join(', ')}`,
    );
    return client;
  };
  const bank = await register('bank', files.riskList, 'risk-list', [
    'psi.cardinality',
    'psi.intersection',
  ]);
  await register('bank', files.bankLoans, 'loans-bank', [
    'aggregate.count',
    'aggregate.mean',
    'federated.train',
  ]);
  const insurer = await register('insurer', files.insurerLoans, 'loans-insurer', [
    'aggregate.count',
    'aggregate.mean',
    'federated.train',
  ]);
  const expiresAt = Date.now() + 30 * 86_400_000;
  const policy = async (
    who: 'bank' | 'insurer',
    client: ExchangeClient,
    def: Omit<PolicyDefinition, 'consumer' | 'expiresAt'>,
  ) => {
    await client.setPolicy({ ...def, consumer: ids.shop.keyId, expiresAt });
    const budget = def.budget
      ? `budget epsilon ${def.budget.epsilon}, delta ${def.budget.delta}`
      : 'no DP budget (exact results)';
    say(
      who,
      `policy for shop on ${def.assetId}: allows ${def.computations.join(', ')}; min cohort ${def.minCohort}; ${budget}; quota ${def.quota ?? 'none'}; 30 days`,
    );
  };
  await policy('bank', bank, {
    assetId: 'risk-list',
    computations: ['psi.cardinality'],
    minCohort: 100,
    budget: null,
    maxEpsilonPerJob: null,
    quota: 10,
  });
  for (const [who, client, assetId] of [
    ['bank', bank, 'loans-bank'],
    ['insurer', insurer, 'loans-insurer'],
  ] as const) {
    await policy(who, client, {
      assetId,
      computations: ['aggregate.count', 'aggregate.mean', 'federated.train'],
      // Training samples 10% of the rows per step (60 and 40 here), and no step may use fewer
      // records than the minimum cohort.
      minCohort: 40,
      budget: { epsilon: 8, delta: 1e-5 },
      maxEpsilonPerJob: 4,
      quota: 20,
    });
  }

  // The providers' processes: each serves its own files.
  const provider = (who: 'bank' | 'insurer', assets: string[]) => {
    const child = node(CLI, [
      'provider',
      'serve',
      '--url',
      url,
      '--key',
      keys[who],
      ...assets.flatMap((a) => ['--asset', a]),
      '--poll',
      '100',
      '--json',
    ]);
    const ready = firstLine<{ serving: { id: string }[] }>(child, (v) => Array.isArray(v.serving));
    return ready.then((r) => {
      say(who, `serving ${r.serving.map((a) => a.id).join(', ')} from its own disk`);
      relayProvider(who, child);
    });
  };
  await Promise.all([
    provider('bank', [files.riskList, files.bankLoans]),
    provider('insurer', [files.insurerLoans]),
  ]);

  // The shop.
  const shop = node(CONSUMER, [url, keys.shop, files.customers, files.shopLoans]);
  const results = relayConsumer(shop);
  const code = await new Promise<number | null>((r) => shop.on('exit', (c) => r(c)));
  if (code !== 0) fail(new Error(`the shop exited with ${code}`));

  // The ledger and the metering, as the operator sees them.
  heading(
    "5. The ledger: every job's receipt, signed by the exchange and carrying each party's signed report",
  );
  const parties = await op.listParties();
  const names = new Map(parties.map((p) => [p.keyId, p.name]));
  const entries = await op.ledger(1, 1000);
  for (const e of entries) {
    const r = e.receipt.body;
    const eps = r.privacy === null ? '-' : String(r.privacy.epsilon);
    say(
      'ledger',
      `#${e.seq} ${r.computation.padEnd(16)} ${r.status.padEnd(8)} ${names.get(r.consumer)} on ${r.assets.map((a) => a.id).join('+')}; ${int(r.bytes.relayed)} B relayed; epsilon ${eps}; ${r.reports.length} signed reports; result ${r.resultHash ? short(r.resultHash) : '-'}; entry ${short(e.entryHash)}`,
    );
  }
  const keysById = new Map(parties.map((p) => [p.keyId, hexToBytes(p.publicKey)]));
  const check = verifyLedger(entries, hexToBytes(op.exchange.publicKey), {
    keyOf: (k) => keysById.get(k),
  });
  if (!check.ok) fail(new Error(`the ledger does not verify: ${JSON.stringify(check.problems)}`));
  say(
    'ledger',
    `verified: ${check.entries} entries, hash chain and every signature OK (head ${check.head?.seq}:${short(check.head?.hash ?? '')})`,
  );
  const cli = node(CLI, ['ledger', 'verify', '--db', join(dir, 'exchange.db')]);
  const cliLine = await new Promise<string>((r) => {
    let out = '';
    cli.stdout!.on('data', (c) => {
      out += c;
    });
    cli.on('exit', () => r(out.trim()));
  });
  say('auditor', `unseen ledger verify --db exchange.db: ${cliLine}`);

  heading('6. Metering per consumer');
  for (const row of await op.metering()) {
    say(
      'metering',
      `${names.get(row.consumer)}: ${row.jobs} jobs (${row.finished} finished, ${row.failed} failed), ${row.denied} denied, ${int(row.bytes)} bytes relayed, epsilon ${row.epsilonSpent} charged over all its budgets`,
    );
  }
  for (const { policy: p, usage } of await op.listPolicies()) {
    if (p.budget === null) continue;
    say(
      'metering',
      `budget of ${p.assetId} for ${names.get(p.consumer)}: epsilon ${usage.epsilonMicros / 1e6} of ${p.budget.epsilon} spent, ${usage.jobs} jobs of ${p.quota}`,
    );
  }

  // What only this script can compute: it generated everyone's data.
  heading(
    "What the shop learned, beside what only this demo (which generated every party's data) can compute",
  );
  const risk = new Set(
    data.riskList
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]),
  );
  const shared = data.shopCustomers
    .trim()
    .split('\n')
    .filter((c) => risk.has(c)).length;
  const incomes = [...column(data.bankLoans, 'income'), ...column(data.insurerLoans, 'income')];
  const exactMean = incomes.reduce((s, v) => s + v, 0) / incomes.length;
  const central = await centralAccuracy(
    data.bankLoans + data.insurerLoans.split('\n').slice(1).join('\n'),
    data.shopLoans,
  );
  const row = (what: string, got: string, exact: string) =>
    process.stdout.write(`  ${what.padEnd(34)}${got.padStart(12)}   ${exact}\n`);
  row('customers on the risk list', results.get('psi.cardinality') ?? '?', `exact ${shared}`);
  row(
    'mean income over both loan books',
    Number(results.get('aggregate.mean')).toFixed(2),
    `exact ${exactMean.toFixed(2)}`,
  );
  row('loans in both books', results.get('aggregate.count') ?? '?', `exact ${incomes.length}`);
  row(
    'federated model accuracy',
    `${(100 * Number(results.get('federated.accuracy'))).toFixed(1)}%`,
    `a central model on all records, no privacy: ${(100 * central).toFixed(1)}%`,
  );
  process.stdout.write(
    `  ${'psi.intersection on risk-list'.padEnd(34)}denied: ${results.get('denied') ?? '?'}\n`,
  );
  await stopAll(exchange);
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

/** Accuracy on the shop's loans of a model trained centrally on every provider record. */
async function centralAccuracy(trainCsv: string, testCsv: string): Promise<number> {
  const p = parseFederatedParams(TRAIN_PARAMS);
  const toData = (csv: string) => {
    const t = parseCsv(csv);
    const schema = inferSchema(t.header, t.records);
    return localDataset(
      [{ id: 'x', schema, rows: t.records.map((r, i) => typeRecord(schema, r, i + 1)) }],
      p,
      1,
    );
  };
  const model = federatedModel(p);
  const trained = await trainSgd(model, await model.init(await Rng.seeded(7)), toData(trainCsv), {
    epochs: 20,
    batchSize: 20,
    learningRate: 0.5,
    rng: await Rng.seeded(7),
  });
  return evaluateModel(model, trained.weights, toData(testCsv)).accuracy;
}

main().then(
  () => process.exit(0),
  (e) => fail(e),
);
