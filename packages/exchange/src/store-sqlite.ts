/**
 * The SQLite store (node:sqlite, or better-sqlite3 on Node 20; see sqlite-driver.ts): one file on disk in WAL mode with `synchronous = FULL`,
 * so a committed receipt survives a killed process and a power cut. Transactions are
 * `BEGIN IMMEDIATE`: they take the write lock before reading, so admissions from several
 * processes sharing the file serialize instead of spending the same budget twice.
 * @module
 */

import { UnseenError } from '@unseen/core';
import type { Asset } from './asset.js';
import type { Denial, Job, JobState, PartyRecord } from './job.js';
import type { LedgerEntry, LedgerHead } from './ledger.js';
import type { Policy, PolicyUsage } from './policy.js';
import {
  openSqlite,
  type SqliteDatabase,
  type SqliteDriver,
  sqliteErrorCode,
} from './sqlite-driver.js';
import {
  type AdmissionSnapshot,
  type ExchangeStore,
  type JobFilter,
  type MeteringRow,
  NONCE_PRUNE_INTERVAL_MS,
} from './store.js';

const SCHEMA_VERSION = '1';

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parties (
  key_id TEXT PRIMARY KEY, role TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assets (
  id TEXT PRIMARY KEY, provider TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS assets_provider ON assets(provider);
CREATE TABLE IF NOT EXISTS policies (
  id TEXT PRIMARY KEY, asset_id TEXT NOT NULL, consumer TEXT NOT NULL, body TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0,
  jobs INTEGER NOT NULL DEFAULT 0 CHECK (jobs >= 0),
  epsilon_micros INTEGER NOT NULL DEFAULT 0 CHECK (epsilon_micros >= 0),
  delta_femtos INTEGER NOT NULL DEFAULT 0 CHECK (delta_femtos >= 0));
CREATE UNIQUE INDEX IF NOT EXISTS policies_live ON policies(asset_id, consumer) WHERE revoked = 0;
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, consumer TEXT NOT NULL, state TEXT NOT NULL, body TEXT NOT NULL,
  admitted_at INTEGER NOT NULL, relayed_bytes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE TABLE IF NOT EXISTS job_parties (
  job_id TEXT NOT NULL, key_id TEXT NOT NULL, PRIMARY KEY (job_id, key_id));
CREATE INDEX IF NOT EXISTS job_parties_key ON job_parties(key_id);
CREATE TABLE IF NOT EXISTS ledger (
  seq INTEGER PRIMARY KEY, job_id TEXT NOT NULL UNIQUE, prev_hash TEXT NOT NULL,
  entry_hash TEXT NOT NULL, signature TEXT NOT NULL, receipt TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS denials (
  id INTEGER PRIMARY KEY AUTOINCREMENT, consumer TEXT NOT NULL, at INTEGER NOT NULL,
  code TEXT NOT NULL, reason TEXT, request TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (
  key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, nonce));
CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces(expires_at);
`;

interface PolicyRow {
  body: string;
  revoked: number;
  jobs: number;
  epsilon_micros: number;
  delta_femtos: number;
}

function policyOf(row: PolicyRow): { policy: Policy; usage: PolicyUsage } {
  const policy = { ...(JSON.parse(row.body) as Policy), revoked: row.revoked === 1 };
  return {
    policy,
    usage: { jobs: row.jobs, epsilonMicros: row.epsilon_micros, deltaFemtos: row.delta_femtos },
  };
}

function entryOf(row: {
  seq: number;
  prev_hash: string;
  entry_hash: string;
  signature: string;
  receipt: string;
}): LedgerEntry {
  return {
    seq: row.seq,
    prevHash: row.prev_hash,
    entryHash: row.entry_hash,
    signature: row.signature,
    receipt: JSON.parse(row.receipt) as LedgerEntry['receipt'],
  };
}

function isConstraint(e: unknown): boolean {
  return sqliteErrorCode(e) === 19;
}

/** Options of {@link SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** `synchronous` pragma (default FULL: committed transactions survive power loss). */
  synchronous?: 'FULL' | 'NORMAL';
  /** How long to wait for another process's write lock, ms (default 5,000). */
  busyTimeoutMs?: number;
  /** Default: node:sqlite where the runtime has it, else better-sqlite3. */
  driver?: SqliteDriver;
}

/**
 * An {@link ExchangeStore} in one SQLite file.
 * @example
 * ```ts
 * const store = SqliteStore.open('exchange.db');
 * ```
 */
export class SqliteStore implements ExchangeStore {
  readonly db: SqliteDatabase;
  readonly path: string;
  #nextPrune = 0;

  private constructor(path: string, options: SqliteStoreOptions) {
    this.path = path;
    this.db = openSqlite(path, options.driver === undefined ? {} : { driver: options.driver });
    // busy_timeout first: switching to WAL itself waits for a lock when processes start at once.
    this.db.exec(`PRAGMA busy_timeout = ${Math.floor(options.busyTimeoutMs ?? 5000)}`);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec(`PRAGMA synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    this.db.exec('PRAGMA foreign_keys = ON');
    this.db.exec(DDL);
    const v = this.db.prepare('SELECT value FROM meta WHERE key = ?').get('schema') as
      | { value: string }
      | undefined;
    if (v === undefined)
      this.db.prepare('INSERT OR IGNORE INTO meta VALUES (?, ?)').run('schema', SCHEMA_VERSION);
    else if (v.value !== SCHEMA_VERSION) {
      this.db.close();
      throw new UnseenError(
        'ERR_UNSUPPORTED_VERSION',
        `store ${path}: schema ${v.value}, expected ${SCHEMA_VERSION}`,
      );
    }
  }

  /** Opens (creating if needed) the store at `path` (`:memory:` for a throwaway one). */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    return new SqliteStore(path, options);
  }

  #tx<T>(fn: () => T): T {
    return this.db.immediate(fn);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (
      this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
        | { value: string }
        | undefined
    )?.value;
  }

  async initMeta(key: string, value: string): Promise<string> {
    return this.#tx(() => {
      this.db.prepare('INSERT OR IGNORE INTO meta VALUES (?, ?)').run(key, value);
      return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string })
        .value;
    });
  }

  async insertParty(party: PartyRecord): Promise<void> {
    try {
      this.db
        .prepare('INSERT INTO parties VALUES (?, ?, ?)')
        .run(party.keyId, party.role, JSON.stringify(party));
    } catch (e) {
      if (isConstraint(e))
        throw new UnseenError('ERR_CONFLICT', `party ${party.keyId} is already registered`);
      throw e;
    }
  }

  async getParty(keyId: string): Promise<PartyRecord | undefined> {
    const row = this.db.prepare('SELECT body FROM parties WHERE key_id = ?').get(keyId) as
      | { body: string }
      | undefined;
    return row && (JSON.parse(row.body) as PartyRecord);
  }

  async listParties(): Promise<PartyRecord[]> {
    return (
      this.db.prepare('SELECT body FROM parties ORDER BY key_id').all() as { body: string }[]
    ).map((r) => JSON.parse(r.body) as PartyRecord);
  }

  async insertAsset(asset: Asset): Promise<void> {
    try {
      this.db
        .prepare('INSERT INTO assets VALUES (?, ?, ?)')
        .run(asset.id, asset.provider, JSON.stringify(asset));
    } catch (e) {
      if (isConstraint(e))
        throw new UnseenError('ERR_CONFLICT', `asset ${asset.id} already exists`);
      throw e;
    }
  }

  #getAsset(id: string): Asset | undefined {
    const row = this.db.prepare('SELECT body FROM assets WHERE id = ?').get(id) as
      | { body: string }
      | undefined;
    return row && (JSON.parse(row.body) as Asset);
  }

  async getAsset(id: string): Promise<Asset | undefined> {
    return this.#getAsset(id);
  }

  async listAssets(filter: { provider?: string; ids?: readonly string[] } = {}): Promise<Asset[]> {
    let rows: { body: string }[];
    if (filter.provider !== undefined) {
      rows = this.db
        .prepare('SELECT body FROM assets WHERE provider = ? ORDER BY id')
        .all(filter.provider) as { body: string }[];
    } else
      rows = this.db.prepare('SELECT body FROM assets ORDER BY id').all() as { body: string }[];
    const assets = rows.map((r) => JSON.parse(r.body) as Asset);
    return filter.ids === undefined ? assets : assets.filter((a) => filter.ids!.includes(a.id));
  }

  async putPolicy(policy: Policy): Promise<void> {
    this.#tx(() => {
      this.db
        .prepare(
          'UPDATE policies SET revoked = 1 WHERE asset_id = ? AND consumer = ? AND revoked = 0',
        )
        .run(policy.assetId, policy.consumer);
      // What the pair spent under every earlier policy stays spent (see ExchangeStore.putPolicy).
      const prev = this.db
        .prepare(
          `SELECT jobs, epsilon_micros, delta_femtos FROM policies
           WHERE asset_id = ? AND consumer = ? ORDER BY rowid DESC LIMIT 1`,
        )
        .get(policy.assetId, policy.consumer) as
        | { jobs: number; epsilon_micros: number; delta_femtos: number }
        | undefined;
      try {
        this.db
          .prepare(
            `INSERT INTO policies (id, asset_id, consumer, body, revoked, jobs, epsilon_micros, delta_femtos)
             VALUES (?, ?, ?, ?, 0, ?, ?, ?)`,
          )
          .run(
            policy.id,
            policy.assetId,
            policy.consumer,
            JSON.stringify({ ...policy, revoked: false }),
            prev?.jobs ?? 0,
            prev?.epsilon_micros ?? 0,
            prev?.delta_femtos ?? 0,
          );
      } catch (e) {
        if (isConstraint(e))
          throw new UnseenError('ERR_CONFLICT', `policy ${policy.id} already exists`);
        throw e;
      }
    });
  }

  async getPolicy(id: string): Promise<{ policy: Policy; usage: PolicyUsage } | undefined> {
    const row = this.db.prepare('SELECT * FROM policies WHERE id = ?').get(id) as
      | PolicyRow
      | undefined;
    return row && policyOf(row);
  }

  async listPolicies(filter: { assetIds?: readonly string[]; consumer?: string } = {}) {
    const rows = (
      filter.consumer === undefined
        ? this.db.prepare('SELECT * FROM policies ORDER BY rowid').all()
        : this.db
            .prepare('SELECT * FROM policies WHERE consumer = ? ORDER BY rowid')
            .all(filter.consumer)
    ) as (PolicyRow & { asset_id: string })[];
    return rows
      .filter((r) => filter.assetIds === undefined || filter.assetIds.includes(r.asset_id))
      .map(policyOf);
  }

  async revokePolicy(id: string): Promise<void> {
    const r = this.db.prepare('UPDATE policies SET revoked = 1 WHERE id = ?').run(id);
    if (r.changes === 0) throw new UnseenError('ERR_NOT_FOUND', `no policy ${id}`);
  }

  async admitJob(
    consumer: string,
    assetIds: readonly string[],
    admit: (s: AdmissionSnapshot) => Job,
  ): Promise<Job> {
    return this.#tx(() => {
      const assets = new Map<string, Asset>();
      const policies = new Map<string, { policy: Policy; usage: PolicyUsage }>();
      const live = this.db.prepare(
        'SELECT * FROM policies WHERE asset_id = ? AND consumer = ? AND revoked = 0',
      );
      for (const id of assetIds) {
        const a = this.#getAsset(id);
        if (a !== undefined) assets.set(id, a);
        const row = live.get(id, consumer) as PolicyRow | undefined;
        if (row !== undefined) policies.set(id, policyOf(row));
      }
      const job = admit({ assets, policies });
      const spend = this.db.prepare(
        'UPDATE policies SET jobs = jobs + 1, epsilon_micros = epsilon_micros + ?, delta_femtos = delta_femtos + ? WHERE id = ? AND revoked = 0',
      );
      for (const s of job.spends) {
        if (spend.run(s.epsilonMicros, s.deltaFemtos, s.policyId).changes !== 1) {
          throw new UnseenError(
            'ERR_INVALID_STATE',
            `policy ${s.policyId} changed during admission`,
          );
        }
      }
      this.#insertJob(job);
      return job;
    });
  }

  #insertJob(job: Job): void {
    this.db
      .prepare(
        'INSERT INTO jobs (id, consumer, state, body, admitted_at, relayed_bytes) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(job.id, job.consumer, job.state, JSON.stringify(job), job.admittedAt, job.relayedBytes);
    const party = this.db.prepare('INSERT OR IGNORE INTO job_parties VALUES (?, ?)');
    for (const k of [job.consumer, ...job.providers]) party.run(job.id, k);
  }

  async recordDenial(d: Denial): Promise<void> {
    this.db
      .prepare('INSERT INTO denials (consumer, at, code, reason, request) VALUES (?, ?, ?, ?, ?)')
      .run(d.consumer, d.at, d.code, d.reason, JSON.stringify(d.request));
  }

  #getJob(id: string): Job | undefined {
    const row = this.db.prepare('SELECT body FROM jobs WHERE id = ?').get(id) as
      | { body: string }
      | undefined;
    return row && (JSON.parse(row.body) as Job);
  }

  async getJob(id: string): Promise<Job | undefined> {
    return this.#getJob(id);
  }

  async listJobs(filter: JobFilter = {}): Promise<Job[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.party !== undefined) {
      where.push('id IN (SELECT job_id FROM job_parties WHERE key_id = ?)');
      args.push(filter.party);
    }
    if (filter.state !== undefined) {
      where.push('state = ?');
      args.push(filter.state);
    }
    const sql = `SELECT body FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY admitted_at, id LIMIT ?`;
    args.push(Math.min(Math.max(1, filter.limit ?? 1000), 10_000));
    return (this.db.prepare(sql).all(...args) as { body: string }[]).map(
      (r) => JSON.parse(r.body) as Job,
    );
  }

  #casJob(job: Job, from: readonly JobState[], expected?: Job): boolean {
    const marks = from.map(() => '?').join(', ');
    // The stored body is JSON.stringify of the job as written, and parsing and stringifying
    // again gives the same text, so equal text means an unchanged job.
    const sameBody = expected === undefined ? '' : ' AND body = ?';
    const r = this.db
      .prepare(
        `UPDATE jobs SET state = ?, body = ?, relayed_bytes = ? WHERE id = ? AND state IN (${marks})${sameBody}`,
      )
      .run(
        job.state,
        JSON.stringify(job),
        job.relayedBytes,
        job.id,
        ...from,
        ...(expected === undefined ? [] : [JSON.stringify(expected)]),
      );
    return r.changes === 1;
  }

  async updateJob(job: Job, from: readonly JobState[], expected?: Job): Promise<boolean> {
    return this.#tx(() => this.#casJob(job, from, expected));
  }

  async finishJob(
    jobId: string,
    build: (job: Job, head: LedgerHead | undefined) => { job: Job; entry: LedgerEntry },
  ): Promise<LedgerEntry | undefined> {
    return this.#tx(() => {
      const job = this.#getJob(jobId);
      if (job === undefined) throw new UnseenError('ERR_NOT_FOUND', `no job ${jobId}`);
      if (job.state === 'finished' || job.state === 'failed') return undefined;
      const { job: done, entry } = build(job, this.#head());
      if (!this.#casJob({ ...done, receiptSeq: entry.seq }, ['admitted', 'running'])) {
        throw new UnseenError(
          'ERR_INVALID_STATE',
          `job ${jobId} changed while it was being finished`,
        );
      }
      this.db
        .prepare('INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?)')
        .run(
          entry.seq,
          jobId,
          entry.prevHash,
          entry.entryHash,
          entry.signature,
          JSON.stringify(entry.receipt),
        );
      return entry;
    });
  }

  #head(): LedgerHead | undefined {
    const row = this.db
      .prepare('SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1')
      .get() as { seq: number; entry_hash: string } | undefined;
    return row && { seq: row.seq, hash: row.entry_hash };
  }

  async ledgerHead(): Promise<LedgerHead | undefined> {
    return this.#head();
  }

  async ledgerEntries(fromSeq: number, limit: number): Promise<LedgerEntry[]> {
    const rows = this.db
      .prepare('SELECT * FROM ledger WHERE seq >= ? ORDER BY seq LIMIT ?')
      .all(fromSeq, limit);
    return (rows as Parameters<typeof entryOf>[0][]).map(entryOf);
  }

  async ledgerEntryByJob(jobId: string): Promise<LedgerEntry | undefined> {
    const row = this.db.prepare('SELECT * FROM ledger WHERE job_id = ?').get(jobId);
    return row === undefined ? undefined : entryOf(row as Parameters<typeof entryOf>[0]);
  }

  async metering(): Promise<MeteringRow[]> {
    const rows = this.db
      .prepare(
        `SELECT c.consumer AS consumer,
           (SELECT COUNT(*) FROM jobs j WHERE j.consumer = c.consumer) AS jobs,
           (SELECT COUNT(*) FROM jobs j WHERE j.consumer = c.consumer AND j.state = 'finished') AS finished,
           (SELECT COUNT(*) FROM jobs j WHERE j.consumer = c.consumer AND j.state = 'failed') AS failed,
           (SELECT COUNT(*) FROM denials d WHERE d.consumer = c.consumer) AS denied,
           (SELECT COALESCE(SUM(relayed_bytes), 0) FROM jobs j WHERE j.consumer = c.consumer) AS bytes,
           (SELECT COALESCE(SUM(epsilon_micros), 0) FROM policies p WHERE p.consumer = c.consumer
              AND p.rowid = (SELECT MAX(q.rowid) FROM policies q
                             WHERE q.asset_id = p.asset_id AND q.consumer = p.consumer)) AS eps
         FROM (SELECT consumer FROM jobs UNION SELECT consumer FROM denials) c ORDER BY c.consumer`,
      )
      .all() as (Omit<MeteringRow, 'epsilonSpent'> & { eps: number })[];
    return rows.map(({ eps, ...r }) => ({ ...r, epsilonSpent: eps / 1e6 }));
  }

  async rememberNonce(
    keyId: string,
    nonce: string,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    if (now >= this.#nextPrune) {
      this.#nextPrune = now + NONCE_PRUNE_INTERVAL_MS;
      this.db.prepare('DELETE FROM nonces WHERE expires_at < ?').run(now);
    }
    const r = this.db
      .prepare(
        `INSERT INTO nonces VALUES (?, ?, ?) ON CONFLICT (key_id, nonce)
         DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at < ?`,
      )
      .run(keyId, nonce, expiresAt, now);
    return r.changes === 1;
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }
}
