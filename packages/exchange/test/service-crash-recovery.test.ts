/**
 * SIGKILL of the exchange process in the middle of jobs: after a restart on the same SQLite
 * file no receipt a party received is lost or changed, no job is left half-receipted, the jobs
 * that were running end as failed with a receipt, `unseen ledger verify` passes, and the
 * service runs jobs again.
 */
import { join } from 'node:path';
import { isUnseenError } from '@unseen/core';
import { type JobRequest, type LedgerEntry, runAsConsumer, SqliteStore } from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Network, startNetwork } from './helpers/network.js';
import { runCli } from './helpers/processes.js';

let net: Network;
beforeAll(async () => {
  net = await startNetwork({ rows: 120 });
  await net.clients.provider.setPolicy({
    assetId: 'customers',
    consumer: net.ids.consumer.keyId,
    computations: ['aggregate.count', 'aggregate.sum'],
    minCohort: 1,
    budget: null,
    maxEpsilonPerJob: null,
    quota: null,
    expiresAt: Date.now() + 3_600_000,
  });
}, 120_000);
afterAll(() => net?.close());

const job: JobRequest = {
  computation: 'aggregate.count',
  assets: ['customers'],
  params: {},
  cohort: 0,
  privacy: null,
};

describe('crash recovery', () => {
  it('SIGKILL during jobs loses no committed receipt and leaves none half-written', async () => {
    const received: LedgerEntry[] = [];
    // A job that is running when the exchange dies: the consumer holds its relay open and
    // never starts the protocol.
    const hanging = await net.clients.consumer.requestJob(job);
    const session = await net.clients.consumer.relay(hanging);
    for (let i = 0; i < 3; i++) {
      const view = await net.clients.consumer.requestJob(job);
      received.push(
        (await runAsConsumer({ client: net.clients.consumer, view, runners: net.runners })).receipt,
      );
    }
    // Four loops of jobs race the kill.
    let killed = false;
    const loops = Array.from({ length: 4 }, async () => {
      while (!killed) {
        try {
          const view = await net.clients.consumer.requestJob(job);
          received.push(
            (
              await runAsConsumer({
                client: net.clients.consumer,
                view,
                runners: net.runners,
                timeoutMs: 5000,
              })
            ).receipt,
          );
        } catch (e) {
          if (!isUnseenError(e)) throw e;
          return;
        }
      }
    });
    while (received.length < 8) await new Promise((r) => setTimeout(r, 20));
    killed = true;
    net.exchange.proc.kill('SIGKILL');
    const { signal } = await net.exchange.exited;
    expect(signal).toBe('SIGKILL');
    await Promise.allSettled(loops);
    session.close();

    const port = new URL(net.exchange.url).port;
    await net.restartExchange(['--port', port]);

    // Every receipt a party holds is in the ledger, unchanged.
    for (const r of received) {
      const again = await net.clients.consumer.getReceipt(r.receipt.body.jobId);
      expect(again.entryHash).toBe(r.entryHash);
      expect(again.seq).toBe(r.seq);
    }
    // The job that was running has ended, failed, with a receipt.
    const { job: ended } = await net.clients.consumer.getJob(hanging.job.id);
    expect(ended.state).toBe('failed');
    expect(ended.error?.code).toBe('ERR_PROTOCOL_ABORTED');
    expect((await net.clients.consumer.getReceipt(hanging.job.id)).receipt.body.status).toBe(
      'failed',
    );

    // The CLI verifies the ledger from the file, and it contains the last head a party saw.
    const last = received.reduce((a, b) => (a.seq > b.seq ? a : b));
    const verify = await runCli([
      'ledger',
      'verify',
      '--db',
      join(net.dir, 'exchange.db'),
      '--head',
      `${last.seq}:${last.entryHash}`,
      '--json',
    ]);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

    // No half-written job: a final job has exactly its ledger entry, a live one has none.
    const store = SqliteStore.open(join(net.dir, 'exchange.db'));
    try {
      for (const j of await store.listJobs({ limit: 10_000 })) {
        const entry = await store.ledgerEntryByJob(j.id);
        if (j.state === 'finished' || j.state === 'failed') {
          expect(entry?.seq).toBe(j.receiptSeq);
          expect(entry?.receipt.body.status).toBe(j.state);
        } else {
          expect(entry).toBeUndefined();
          expect(j.receiptSeq).toBeNull();
        }
      }
    } finally {
      await store.close();
    }

    // The service works again, with the same provider process that outlived the crash.
    const view = await net.clients.consumer.requestJob(job);
    const after = await runAsConsumer({ client: net.clients.consumer, view, runners: net.runners });
    expect(after.result).toMatchObject({ value: 120 });
    expect(after.receipt.seq).toBeGreaterThan(last.seq);
  }, 120_000);
});
