/**
 * Atomic admission across processes: four processes admit jobs on one SQLite file at once;
 * the quota and the privacy budget are each spent exactly, never twice.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assetDefinition, type InProcess, inProcessExchange } from './helpers/inprocess.js';

const WORKER = fileURLToPath(new URL('./helpers/admit-worker.ts', import.meta.url));
let p: InProcess;

beforeAll(async () => {
  p = await inProcessExchange();
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
  writeFileSync(join(p.dir, 'exchange.key.json'), JSON.stringify(p.ids.exchange.toKeyFile()));
});
afterAll(() => p.close());

function worker(
  asset: string,
  n: number,
): Promise<{ admitted: number; quota: number; budget: number }> {
  const proc = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import',
      import.meta.resolve('tsx'),
      WORKER,
      join(p.dir, 'exchange.db'),
      join(p.dir, 'exchange.key.json'),
      p.ids.consumer.keyId,
      asset,
      String(n),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
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

describe('SQLite store under concurrent processes', () => {
  it('spends a quota exactly once across four processes', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => worker('quota-asset', 25)));
    expect(results.reduce((s, r) => s + r.admitted, 0)).toBe(37);
    expect(results.reduce((s, r) => s + r.quota, 0)).toBe(100 - 37);
    const [live] = (await p.store.listPolicies({ assetIds: ['quota-asset'] })).filter(
      (x) => !x.policy.revoked,
    );
    expect(live!.usage.jobs).toBe(37);
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
    const [live] = (await p.store.listPolicies({ assetIds: ['budget-asset'] })).filter(
      (x) => !x.policy.revoked,
    );
    expect(live!.usage.epsilonMicros).toBe(250_000);
  }, 120_000);
});
