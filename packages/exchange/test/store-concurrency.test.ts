/**
 * Atomic admission and ledger appends across processes, on each store: four exchange processes
 * admit and finish jobs on one store at once; the quota and the privacy budget are each spent
 * exactly, never twice, and the receipts they append form one unbroken, verifiable chain.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { verifyStoreLedger } from '@unseen/exchange';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assetDefinition, type InProcess, inProcessExchange } from './helpers/inprocess.js';
import { writeKey } from './helpers/processes.js';
import { describeStores } from './helpers/stores.js';

const WORKER = fileURLToPath(new URL('./helpers/admit-worker.ts', import.meta.url));

interface Counts {
  admitted: number;
  quota: number;
  budget: number;
  receipts: number;
}

describeStores('concurrent exchange processes on one store', (kind) => {
  let p: InProcess;
  const keys = { exchange: '', consumer: '', provider: '' };

  beforeAll(async () => {
    p = await inProcessExchange({ store: kind });
    for (const [id, quota, budget] of [
      ['quota-asset', 37, null],
      ['budget-asset', null, 0.25],
    ] as const) {
      await p.ex.registerAsset(p.actors.provider, assetDefinition(id));
      await p.ex.setPolicy(p.actors.provider, {
        assetId: id,
        consumer: p.ids.consumer.keyId,
        computations: ['aggregate.count'],
        minCohort: 1,
        budget: budget === null ? { epsilon: 100, delta: 0 } : { epsilon: budget, delta: 0 },
        maxEpsilonPerJob: null,
        quota,
        expiresAt: Date.now() + 3_600_000,
      });
    }
    for (const who of ['exchange', 'consumer', 'provider'] as const)
      keys[who] = writeKey(p.dir, p.ids[who]);
  });
  afterAll(() => p?.close());

  function worker(asset: string, n: number): Promise<Counts> {
    const proc = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        import.meta.resolve('tsx'),
        WORKER,
        p.fixture.location,
        keys.exchange,
        keys.consumer,
        keys.provider,
        asset,
        String(n),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => {
      out += c;
    });
    proc.stderr.on('data', (c) => {
      err += c;
    });
    return new Promise((resolve, reject) =>
      proc.on('exit', (code) =>
        code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker failed: ${err}`)),
      ),
    );
  }

  const liveUsage = async (assetId: string) =>
    (await p.store.listPolicies({ assetIds: [assetId] })).find((x) => !x.policy.revoked)!.usage;

  it('spends a quota exactly once across four processes', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => worker('quota-asset', 25)));
    expect(results.reduce((s, r) => s + r.admitted, 0)).toBe(37);
    expect(results.reduce((s, r) => s + r.quota, 0)).toBe(100 - 37);
    expect((await liveUsage('quota-asset')).jobs).toBe(37);
    expect(
      (await p.store.listJobs({ limit: 10_000 })).filter(
        (j) => j.request.assets[0] === 'quota-asset',
      ),
    ).toHaveLength(37);
  }, 120_000);

  it('spends a privacy budget exactly across four processes (25 jobs of 0.01 in 0.25)', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => worker('budget-asset', 15)));
    expect(results.reduce((s, r) => s + r.admitted, 0)).toBe(25);
    expect(results.reduce((s, r) => s + r.budget, 0)).toBe(60 - 25);
    expect((await liveUsage('budget-asset')).epsilonMicros).toBe(250_000);
  }, 120_000);

  it('appends every receipt once, in one unbroken chain, whichever process ended the job', async () => {
    const jobs = await p.store.listJobs({ limit: 10_000 });
    expect(jobs).toHaveLength(37 + 25);
    expect(jobs.every((j) => j.state === 'finished')).toBe(true);
    const head = await p.store.ledgerHead();
    expect(head?.seq).toBe(62);
    const entries = await p.store.ledgerEntries(1, 1000);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 62 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.receipt.body.jobId)).size).toBe(62);
    for (const j of jobs) expect((await p.store.ledgerEntryByJob(j.id))?.seq).toBe(j.receiptSeq);
    const v = await verifyStoreLedger(p.store, p.ids.exchange.publicKey, {
      seq: head!.seq,
      hash: head!.hash,
    });
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
