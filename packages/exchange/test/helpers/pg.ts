/**
 * PostgreSQL for tests. With `UNSEEN_PG_URL` set (CI starts one server for the whole run), each
 * test database is created on that server; without it, the first test that needs PostgreSQL
 * starts a private cluster for its test file with `scripts/pg-test-server.sh`, stopped when the
 * file's tests end (and at the latest when the process exits). Every caller gets a fresh
 * database of its own, dropped afterwards.
 *
 * Without the server binaries the PostgreSQL tests skip with the reason, except under CI=true,
 * where they fail: CI installs PostgreSQL and must run them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesToHex, randomBytes } from '@unseen/core';
import pg from 'pg';

const SCRIPT = fileURLToPath(new URL('../../scripts/pg-test-server.sh', import.meta.url));

function serverBinariesPresent(): boolean {
  if (process.env.PG_BINDIR !== undefined) return existsSync(`${process.env.PG_BINDIR}/initdb`);
  try {
    if (
      readdirSync('/usr/lib/postgresql').some((v) =>
        existsSync(`/usr/lib/postgresql/${v}/bin/initdb`),
      )
    )
      return true;
  } catch {}
  return (process.env.PATH ?? '')
    .split(':')
    .some((d) => d !== '' && existsSync(`${d}/initdb`) && existsSync(`${d}/pg_ctl`));
}

/**
 * Why the PostgreSQL tests cannot run here, or undefined when they can. Under CI=true always
 * undefined: there a missing server is a failure, not a skip.
 */
export const pgSkipReason: string | undefined =
  process.env.UNSEEN_PG_URL !== undefined || process.env.CI === 'true' || serverBinariesPresent()
    ? undefined
    : 'PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql, or set UNSEEN_PG_URL';

let cluster: Promise<{ url: string; dir: string | undefined }> | undefined;

function server(): Promise<{ url: string; dir: string | undefined }> {
  cluster ??= (async () => {
    const given = process.env.UNSEEN_PG_URL;
    if (given !== undefined) return { url: given, dir: undefined };
    let out: string;
    try {
      out = execFileSync('bash', [SCRIPT, 'start'], { encoding: 'utf8', timeout: 60_000 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`could not start a PostgreSQL test cluster: ${err.stderr || err.message}`);
    }
    const url = /^UNSEEN_PG_URL=(.+)$/m.exec(out)?.[1];
    const dir = /^UNSEEN_PG_DIR=(.+)$/m.exec(out)?.[1];
    if (url === undefined || dir === undefined) throw new Error(`pg-test-server.sh said: ${out}`);
    process.once('exit', () => stopSync(dir));
    return { url, dir };
  })();
  return cluster;
}

function stopSync(dir: string): void {
  try {
    execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore', timeout: 30_000 });
  } catch {}
}

/** Stops this file's private cluster, if it started one. */
export async function stopPgServer(): Promise<void> {
  if (cluster === undefined) return;
  const started = cluster;
  cluster = undefined;
  const { dir } = await started.catch(() => ({ dir: undefined }));
  if (dir !== undefined) stopSync(dir);
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({
    connectionString: (await server()).url,
    connectionTimeoutMillis: 10_000,
  });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database: its URL and a function that drops it. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `unseen_test_${bytesToHex(randomBytes(8))}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL((await server()).url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
