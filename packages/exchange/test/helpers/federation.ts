/**
 * An exchange process and several provider processes on loopback with SQLite on disk, each
 * provider serving CSV assets; the operator and the consumer are clients in the test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, PRG_SEED_BYTES, Prg, randomBytes } from '@unseen/core';
import {
  aggregateRunner,
  type Computation,
  ExchangeClient,
  federatedRunner,
  Identity,
  loadCsvAsset,
  psiRunner,
  RunnerRegistry,
} from '@unseen/exchange';
import { type CliProcess, startCli, startExchange, stop, writeKey } from './processes.js';

export interface ProviderSpec {
  name: string;
  /** Asset id -> CSV text. */
  assets: Record<string, string>;
  offer: Computation[];
}

export interface Federation {
  dir: string;
  exchange: CliProcess & { url: string; keyId: string };
  providers: CliProcess[];
  ids: { operator: Identity; consumer: Identity; providers: Identity[] };
  clients: { operator: ExchangeClient; consumer: ExchangeClient; providers: ExchangeClient[] };
  runners: RunnerRegistry;
  close(): Promise<void>;
}

/** A seeded stream of uniforms in [0, 1) for test data (core's AES-CTR `Prg`, drawn ahead). */
async function seededUniforms(seed: number, count: number): Promise<() => number> {
  const key = new Uint8Array(PRG_SEED_BYTES);
  new DataView(key.buffer).setUint32(0, seed);
  const words = await (await Prg.create(key)).uint32s(count);
  let i = 0;
  return () => words[i++]! / 2 ** 32;
}

/**
 * Loan records `id,age,income,debt,defaulted`: the default follows a logistic model of the debt
 * ratio and age, so a model can learn it.
 */
export async function loansCsv(rows: number, seed: number, prefix: string): Promise<string> {
  const rnd = await seededUniforms(seed, 4 * rows);
  const lines = ['id,age,income,debt,defaulted'];
  for (let i = 0; i < rows; i++) {
    const age = 20 + Math.floor(rnd() * 50);
    const income = 1000 + Math.floor(rnd() * 9000);
    const debt = Math.floor(rnd() * income * 1.5);
    const z = 6 * (debt / income - 0.75) - 0.03 * (age - 45);
    const defaulted = rnd() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
    lines.push(`${prefix}${i},${age},${income},${debt},${defaulted}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function startFederation(options: {
  providers: ProviderSpec[];
  exchangeArgs?: string[];
}): Promise<Federation> {
  const dir = mkdtempSync(join(tmpdir(), 'unseen-fed-'));
  const operator = Identity.generate('operator', 'operator');
  const consumer = Identity.generate('consumer', 'shop');
  const providerIds = options.providers.map((p) => Identity.generate('provider', p.name));
  writeKey(dir, operator);
  writeKey(dir, consumer);
  const exchange = await startExchange(dir, join(dir, 'operator.pub.json'), options.exchangeArgs);
  const started: CliProcess[] = [];
  const fed: Federation = {
    dir,
    exchange,
    providers: started,
    ids: { operator, consumer, providers: providerIds },
    clients: {
      operator: await ExchangeClient.connect(exchange.url, operator),
      consumer: await ExchangeClient.connect(exchange.url, consumer),
      providers: await Promise.all(
        providerIds.map((id) => ExchangeClient.connect(exchange.url, id)),
      ),
    },
    runners: new RunnerRegistry([aggregateRunner, psiRunner, federatedRunner]),
    async close() {
      await Promise.all(started.map((p) => stop(p)));
      await stop(exchange);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await fed.clients.operator.registerParty(consumer.public);
    for (const [i, spec] of options.providers.entries()) {
      const id = providerIds[i]!;
      const key = writeKey(dir, id);
      // The provider process derives its commitments from this secret (see `unseen asset register`).
      const secret = randomBytes(32);
      writeFileSync(`${key}.commit-secret`, `${bytesToHex(secret)}\n`, { mode: 0o600 });
      await fed.clients.operator.registerParty(id.public);
      const files: string[] = [];
      for (const [assetId, csv] of Object.entries(spec.assets)) {
        const file = join(dir, `${assetId}.csv`);
        writeFileSync(file, csv);
        files.push(file);
        const loaded = await loadCsvAsset(file, { id: assetId, commitSecret: secret });
        await fed.clients.providers[i]!.registerAsset({
          id: assetId,
          title: assetId,
          schema: loaded.schema,
          classification: 'general',
          commitment: loaded.commitment,
          computations: spec.offer,
        });
      }
      const p = startCli([
        'provider',
        'serve',
        '--url',
        exchange.url,
        '--key',
        key,
        ...files.flatMap((f) => ['--asset', f]),
        '--poll',
        '100',
        '--json',
      ]);
      started.push(p);
    }
    await Promise.all(started.map((p) => p.waitFor((l) => Array.isArray(l.serving), 60_000)));
  } catch (e) {
    await fed.close();
    throw e;
  }
  return fed;
}
