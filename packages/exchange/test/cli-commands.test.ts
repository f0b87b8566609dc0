/** The `unseen` CLI as a user runs it: keys, ledger verification of a file, tamper detection. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Identity, openSqlite } from '@unseen/exchange';
import { afterAll, describe, expect, it } from 'vitest';
import { inProcessExchange, runJobs } from './helpers/inprocess.js';
import { runCli, writeKey } from './helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'unseen-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('unseen CLI', () => {
  it('generates key files readable by their owner only, and prints public identities', async () => {
    const out = join(dir, 'op.json');
    const r = await runCli([
      'keys',
      'generate',
      '--role',
      'operator',
      '--name',
      'ops',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code).toBe(0);
    const pub = JSON.parse(r.stdout);
    expect(pub).toMatchObject({ role: 'operator', name: 'ops' });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(Identity.fromKeyFile(JSON.parse(readFileSync(out, 'utf8'))).keyId).toBe(pub.keyId);
    // Never overwrites a key.
    expect(
      (await runCli(['keys', 'generate', '--role', 'operator', '--name', 'ops', '--out', out]))
        .code,
    ).toBe(1);
    const again = await runCli(['keys', 'public', '--key', out]);
    expect(JSON.parse(again.stdout)).toEqual(pub);
  });

  it('usage errors exit 2 with help', async () => {
    const r = await runCli(['ledger', 'verify']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give --db FILE');
    expect((await runCli(['nonsense'])).code).toBe(2);
    expect((await runCli(['keys', 'generate', '--bogus'])).code).toBe(2);
    // A relay bound that is not a byte count is refused before the exchange listens.
    const serve = await runCli([
      'exchange',
      'serve',
      '--store',
      join(dir, 'bounds.db'),
      '--key',
      join(dir, 'bounds.key.json'),
      '--port',
      '0',
      '--relay-total-queue=-5',
    ]);
    expect(serve.code).not.toBe(0);
    expect(serve.stderr).toMatch(/maxTotalQueuedBytes/);
    expect(serve.stdout).not.toMatch(/listening/);
  });

  it('ledger verify passes on a sound ledger file and fails on an edited one', async () => {
    const p = await inProcessExchange();
    await runJobs(p, 5);
    const db = join(p.dir, 'exchange.db');
    const head = await p.store.ledgerHead();
    await p.store.close();
    const ok = await runCli([
      'ledger',
      'verify',
      '--db',
      db,
      '--head',
      `${head!.seq}:${head!.hash}`,
    ]);
    expect(ok.stdout).toContain('ledger OK: 5 entries');
    expect(ok.stdout).toContain('pass --exchange-key');
    expect(ok.code).toBe(0);
    // Pinned to the exchange's key known from elsewhere: OK; pinned to another exchange's key
    // (what a re-keyed, re-signed file amounts to): refused, whatever the file claims.
    writeKey(p.dir, p.ids.exchange);
    const pinned = await runCli([
      'ledger',
      'verify',
      '--db',
      db,
      '--exchange-key',
      join(p.dir, 'ex.pub.json'),
    ]);
    expect(pinned.code).toBe(0);
    expect(pinned.stdout).not.toContain('pass --exchange-key');
    writeKey(p.dir, Identity.generate('exchange', 'impostor'));
    const wrong = await runCli([
      'ledger',
      'verify',
      '--db',
      db,
      '--json',
      '--exchange-key',
      join(p.dir, 'impostor.pub.json'),
    ]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).problems[0].problem).toMatch(/not the pinned/);
    writeKey(p.dir, p.ids.consumer);
    const notExchange = await runCli([
      'ledger',
      'verify',
      '--db',
      db,
      '--exchange-key',
      join(p.dir, 'shop.pub.json'),
    ]);
    expect(notExchange.code).toBe(2);
    // An operator with file access edits a receipt's byte count.
    const raw = openSqlite(db);
    const row = raw.prepare('SELECT receipt FROM ledger WHERE seq = 3').get() as {
      receipt: string;
    };
    const receipt = JSON.parse(row.receipt);
    receipt.body.bytes.relayed += 1;
    raw.prepare('UPDATE ledger SET receipt = ? WHERE seq = 3').run(JSON.stringify(receipt));
    raw.close();
    const bad = await runCli(['ledger', 'verify', '--db', db, '--json']);
    expect(bad.code).toBe(1);
    const v = JSON.parse(bad.stdout);
    expect(v.ok).toBe(false);
    expect(v.problems.map((x: { seq: number }) => x.seq)).toContain(3);
    // Deleting the last entry is caught against a head a party kept.
    const raw2 = openSqlite(db);
    raw2.prepare('UPDATE ledger SET receipt = ? WHERE seq = 3').run(row.receipt);
    raw2.prepare('DELETE FROM ledger WHERE seq = 5').run();
    raw2.close();
    expect((await runCli(['ledger', 'verify', '--db', db])).code).toBe(0);
    expect(
      (await runCli(['ledger', 'verify', '--db', db, '--head', `${head!.seq}:${head!.hash}`])).code,
    ).toBe(1);
    rmSync(p.dir, { recursive: true, force: true });
  }, 60_000);
});
