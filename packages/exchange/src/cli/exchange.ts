/** `unseen exchange serve`. @module */
import { access } from 'node:fs/promises';
import { Exchange } from '../exchange.js';
import { Identity, type PublicIdentity } from '../identity.js';
import { startExchangeServer } from '../node-http.js';
import { openStore } from '../store-open.js';
import {
  loadIdentity,
  loadPublicIdentity,
  num,
  options,
  parseDuration,
  print,
  required,
  saveIdentity,
  UsageError,
} from './args.js';
import { installedRunners } from './parties.js';

export async function exchange(cmd: string | undefined, argv: string[]): Promise<void> {
  if (cmd !== 'serve')
    throw new UsageError(
      'unseen exchange serve (--store FILE|postgres://... | --db FILE) --key FILE [--operator FILE]... [--shared] [--host H] [--port P] [--max-body BYTES] [--cors-origin ORIGIN]... [--relay-queue BYTES] [--relay-total-queue BYTES] [--relay-high-water BYTES] [--relay-stall-timeout DURATION] [--failure-grace DURATION]',
    );
  const { values } = options(argv, {
    db: { type: 'string' },
    store: { type: 'string' },
    shared: { type: 'boolean', default: false },
    key: { type: 'string' },
    name: { type: 'string', default: 'exchange' },
    operator: { type: 'string', multiple: true, default: [] },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7700' },
    'job-timeout': { type: 'string', default: '10m' },
    'failure-grace': { type: 'string', default: '5s' },
    'max-body': { type: 'string', default: '1048576' },
    'relay-queue': { type: 'string' },
    'relay-total-queue': { type: 'string' },
    'relay-high-water': { type: 'string' },
    'relay-stall-timeout': { type: 'string' },
    'cors-origin': { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
  });
  const keyPath = required(values.key, 'key');
  let identity: Identity;
  try {
    await access(keyPath);
    identity = await loadIdentity(keyPath);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
    identity = Identity.generate('exchange', values.name);
    await saveIdentity(keyPath, identity);
  }
  const operators: PublicIdentity[] = [];
  for (const f of values.operator) operators.push(await loadPublicIdentity(f));
  if (values.db !== undefined && values.store !== undefined)
    throw new UsageError('give --store or --db, not both');
  const store = await openStore(required(values.store ?? values.db, 'store'));
  const runners = installedRunners();
  const ex = await Exchange.open({
    identity,
    store,
    operators,
    // With --shared, other exchange processes run jobs from the same store: a job `running`
    // now may be theirs. The jobs of a process that died fail at their deadline instead.
    recoverRunningJobs: !values.shared,
    jobTimeoutMs: parseDuration(values['job-timeout']),
    // After a party reports failure, how long the others have to add their reports to the
    // receipt before the job ends without them.
    failureGraceMs: parseDuration(values['failure-grace']),
    validateParams: (c, p, n, privacy) => {
      if (runners.has(c)) runners.get(c).validateParams(c, p, n, privacy);
    },
  });
  const server = await startExchangeServer({
    exchange: ex,
    host: values.host,
    port: num(values.port, 'port')!,
    maxBodyBytes: num(values['max-body'], 'max-body')!,
    ...(values['cors-origin'].length === 0 ? {} : { corsOrigins: values['cors-origin'] }),
    // Undelivered relay frames kept in memory (queued for absent parties, unread by connected
    // ones): per job, and across all jobs; backpressure and the slow-reader timeout.
    ...(values['relay-queue'] === undefined
      ? {}
      : { maxRelayQueuedBytes: num(values['relay-queue'], 'relay-queue')! }),
    ...(values['relay-total-queue'] === undefined
      ? {}
      : { maxRelayTotalQueuedBytes: num(values['relay-total-queue'], 'relay-total-queue')! }),
    ...(values['relay-high-water'] === undefined
      ? {}
      : { relayHighWaterBytes: num(values['relay-high-water'], 'relay-high-water')! }),
    ...(values['relay-stall-timeout'] === undefined
      ? {}
      : { relayStallTimeoutMs: parseDuration(values['relay-stall-timeout']) }),
  });
  print(
    values.json,
    { listening: server.url, keyId: identity.keyId, publicKey: ex.info.publicKey },
    `exchange ${identity.keyId} listening on ${server.url}`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await store.close();
}
