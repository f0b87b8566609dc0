/** An exchange process, a provider process and in-test clients, on loopback with SQLite on disk. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ExchangeClient,
  Identity,
  localAggregateRunner,
  psiRunner,
  RunnerRegistry,
} from '@unseen/exchange';
import { type CliProcess, runCli, startCli, startExchange, stop, writeKey } from './processes.js';

export interface Network {
  dir: string;
  exchange: CliProcess & { url: string; keyId: string };
  provider: CliProcess | undefined;
  ids: { operator: Identity; provider: Identity; consumer: Identity; consumer2: Identity };
  keys: { operator: string; provider: string; consumer: string; consumer2: string };
  clients: {
    operator: ExchangeClient;
    provider: ExchangeClient;
    consumer: ExchangeClient;
    consumer2: ExchangeClient;
  };
  runners: RunnerRegistry;
  /** Restarts the exchange on the same database (after a stop or a kill). */
  restartExchange(extra?: string[]): Promise<void>;
  startProvider(): Promise<void>;
  close(): Promise<void>;
}

/** A CSV of `rows` customers with an age and an income. */
export function customersCsv(rows: number): string {
  const lines = ['id,age,income'];
  for (let i = 0; i < rows; i++) lines.push(`c${i},${20 + (i % 50)},${1000 + ((i * 37) % 9000)}`);
  return `${lines.join('\n')}\n`;
}

export async function startNetwork(
  options: { rows?: number; exchangeArgs?: string[]; withProvider?: boolean } = {},
): Promise<Network> {
  const dir = mkdtempSync(join(tmpdir(), 'unseen-net-'));
  const ids = {
    operator: Identity.generate('operator', 'operator'),
    provider: Identity.generate('provider', 'bank'),
    consumer: Identity.generate('consumer', 'shop'),
    consumer2: Identity.generate('consumer', 'other-shop'),
  };
  const keys = {
    operator: writeKey(dir, ids.operator),
    provider: writeKey(dir, ids.provider),
    consumer: writeKey(dir, ids.consumer),
    consumer2: writeKey(dir, ids.consumer2),
  };
  writeFileSync(join(dir, 'customers.csv'), customersCsv(options.rows ?? 200));
  const opPub = join(dir, 'operator.pub.json');
  const net: Network = {
    dir,
    exchange: await startExchange(dir, opPub, options.exchangeArgs),
    provider: undefined,
    ids,
    keys,
    clients: undefined as unknown as Network['clients'],
    runners: new RunnerRegistry([localAggregateRunner, psiRunner]),
    async restartExchange(extra: string[] = []) {
      net.exchange = await startExchange(dir, opPub, [...(options.exchangeArgs ?? []), ...extra]);
      await connectAll();
    },
    async startProvider() {
      const p = startCli([
        'provider',
        'serve',
        '--url',
        net.exchange.url,
        '--key',
        keys.provider,
        '--asset',
        join(dir, 'customers.csv'),
        '--poll',
        '100',
        '--json',
      ]);
      await p.waitFor((l) => Array.isArray(l.serving), 60_000);
      net.provider = p;
    },
    async close() {
      if (net.provider) await stop(net.provider);
      await stop(net.exchange);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const connectAll = async () => {
    net.clients = {
      operator: await ExchangeClient.connect(net.exchange.url, ids.operator),
      provider: await ExchangeClient.connect(net.exchange.url, ids.provider),
      consumer: await ExchangeClient.connect(net.exchange.url, ids.consumer),
      consumer2: await ExchangeClient.connect(net.exchange.url, ids.consumer2),
    };
  };
  await connectAll();
  for (const who of ['provider', 'consumer', 'consumer2'] as const)
    await net.clients.operator.registerParty(ids[who].public);
  const reg = await runCli([
    'asset',
    'register',
    '--url',
    net.exchange.url,
    '--key',
    keys.provider,
    '--asset',
    join(dir, 'customers.csv'),
    '--offer',
    'aggregate.count,aggregate.sum,aggregate.mean,psi.cardinality,psi.intersection,psi.sum',
    '--json',
  ]);
  if (reg.code !== 0) throw new Error(`asset register failed: ${reg.stderr}`);
  if (options.withProvider !== false) await net.startProvider();
  return net;
}
