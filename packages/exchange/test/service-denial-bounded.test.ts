/**
 * A denied job request costs the store a bounded number of bytes, whatever its body: params
 * above 4 KiB of canonical JSON are recorded as their size and SHA-256, small params as they
 * are; the denials still count in metering. Requests go over a real socket to a real server on
 * a SQLite file, and the test reads what the file holds.
 */
import { statSync } from 'node:fs';
import { bytesToHex, sha256 } from '@unseen/core';
import {
  canonicalBytes,
  ExchangeClient,
  type ExchangeServer,
  type JobRequest,
  openSqlite,
  startExchangeServer,
} from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, inProcessExchange } from './helpers/inprocess.js';

let p: InProcess;
let server: ExchangeServer;
let consumer: ExchangeClient;

beforeAll(async () => {
  p = await inProcessExchange({ store: 'sqlite' });
  server = await startExchangeServer({ exchange: p.ex });
  consumer = await ExchangeClient.connect(server.url, p.ids.consumer);
});
afterAll(async () => {
  await server.close();
  await p.close();
});

const dbBytes = () =>
  ['', '-wal'].reduce((n, s) => {
    try {
      return n + statSync(p.fixture.location + s).size;
    } catch {
      return n;
    }
  }, 0);

function denials(): { consumer: string; code: string; reason: string | null; request: string }[] {
  const db = openSqlite(p.fixture.location);
  try {
    return db
      .prepare('SELECT consumer, code, reason, request FROM denials ORDER BY id')
      .all() as never;
  } finally {
    db.close();
  }
}

const ask = (params: Record<string, unknown>) =>
  consumer.requestJob({
    computation: 'aggregate.count',
    assets: ['nothing-here'],
    params,
    cohort: 0,
    privacy: null,
  });

describe('denials', () => {
  it('records 1 MB params as their size and hash: 20 denials grow the database by far less than 1 MiB', async () => {
    const before = dbBytes();
    const seen = denials().length;
    const params = { blob: 'x'.repeat(1_000_000) };
    for (let i = 0; i < 20; i++)
      await expect(ask(params)).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED' });
    const grown = dbBytes() - before;
    expect(grown).toBeLessThan(2 ** 20); // each request stored in full: > 20 MiB
    const rows = denials().slice(seen);
    expect(rows.length).toBe(20);
    const canonical = canonicalBytes(params);
    for (const row of rows) {
      expect(row.consumer).toBe(p.ids.consumer.keyId);
      expect(row.code).toBe('ERR_POLICY_DENIED');
      expect(row.reason).toBe('no-policy');
      expect(row.request.length).toBeLessThan(1024);
      const request = JSON.parse(row.request) as JobRequest;
      expect(request).toEqual({
        computation: 'aggregate.count',
        assets: ['nothing-here'],
        params: { $omitted: { bytes: canonical.length, sha256: bytesToHex(sha256(canonical)) } },
        cohort: 0,
        privacy: null,
      });
    }
  });

  it('keeps params up to 4 KiB of canonical JSON as they are', async () => {
    const seen = denials().length;
    // {"s":"..."} is 8 bytes of framing: 4088 characters make exactly 4096 bytes.
    const atBound = { s: 'y'.repeat(4088), n: undefined };
    const above = { s: 'y'.repeat(4089) };
    const small = { window: [1, 2, 3], label: 'é' };
    expect(canonicalBytes(atBound).length).toBe(4096);
    for (const params of [atBound, above, small])
      await expect(ask(params)).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED' });
    const [a, b, c] = denials()
      .slice(seen)
      .map((r) => (JSON.parse(r.request) as JobRequest).params);
    expect(a).toEqual({ s: 'y'.repeat(4088) });
    expect(b).toEqual({
      $omitted: { bytes: 4097, sha256: bytesToHex(sha256(canonicalBytes(above))) },
    });
    expect(c).toEqual(small);
  });

  it('params without a canonical form (too deep for it) are omitted, not a stack overflow', async () => {
    const seen = denials().length;
    const deep = JSON.parse(`{"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    await expect(
      p.ex.requestJob(p.actors.consumer, {
        computation: 'aggregate.count',
        assets: ['nothing-here'],
        params: deep,
        cohort: 0,
      }),
    ).rejects.toMatchObject({ code: 'ERR_POLICY_DENIED' });
    const [row] = denials().slice(seen);
    expect(JSON.parse(row!.request).params).toEqual({ $omitted: { bytes: null, sha256: null } });
  });

  it('denials still count in metering', async () => {
    const rows = await consumer.metering();
    const mine = rows.find((r) => r.consumer === p.ids.consumer.keyId);
    expect(mine).toMatchObject({ denied: 24 });
  });
});
