/**
 * The PostgreSQL store (node-postgres `pg`), for an exchange that outgrows one machine: several
 * exchange processes on several hosts share one database, and with it the quotas, the privacy
 * budgets, the ledger and the replay protection.
 *
 * The same tables as the SQLite store, with JSONB bodies. Transactions run at READ COMMITTED
 * and take explicit locks where the exchange needs atomicity:
 *
 * - admission locks the consumer's live policy rows on the requested assets with
 *   `SELECT ... ORDER BY id FOR UPDATE` (one statement, rows locked in id order, so two
 *   admissions over the same assets in another order cannot deadlock), decides on the locked
 *   rows' current usage, spends, and inserts the job in the same transaction;
 * - finishing a job takes a transaction-scoped advisory lock on the ledger head
 *   (`pg_advisory_xact_lock`), locks the job row, reads the head, and in the same transaction
 *   moves the job to its final state and appends its receipt; a second process appending at
 *   the same time waits for the lock and then sees the new head;
 * - nonces of authenticated requests go into one table with `INSERT ... ON CONFLICT`, so a
 *   request accepted by one process is a replay for every other.
 *
 * Deadlocks and serialization failures are retried a few times; lock and statement timeouts
 * surface as `ERR_TIMEOUT`; nothing waits forever.
 * @module
 */
import { bytesToHex, randomInt, sha256, UnseenError, utf8ToBytes } from '@unseen/core';
import pg from 'pg';
import type { Asset } from './asset.js';
import type { Denial, Job, JobState, PartyRecord } from './job.js';
import type { LedgerEntry, LedgerHead } from './ledger.js';
import type { Policy, PolicyUsage } from './policy.js';
import {
  type AdmissionSnapshot,
  type ExchangeStore,
  type JobFilter,
  type MeteringRow,
  NONCE_PRUNE_INTERVAL_MS,
} from './store.js';

const SCHEMA_VERSION = '1';

// Ordering is byte order (COLLATE "C") everywhere, as in SQLite, whatever the database's locale.
const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parties (
  key_id TEXT COLLATE "C" PRIMARY KEY, role TEXT NOT NULL, body JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS assets (
  id TEXT COLLATE "C" PRIMARY KEY, provider TEXT NOT NULL, body JSONB NOT NULL);
CREATE INDEX IF NOT EXISTS assets_provider ON assets(provider);
CREATE TABLE IF NOT EXISTS policies (
  id TEXT PRIMARY KEY, n BIGINT GENERATED ALWAYS AS IDENTITY,
  asset_id TEXT NOT NULL, consumer TEXT NOT NULL, body JSONB NOT NULL,
  revoked BOOLEAN NOT NULL DEFAULT FALSE,
  jobs BIGINT NOT NULL DEFAULT 0 CHECK (jobs >= 0),
  epsilon_micros BIGINT NOT NULL DEFAULT 0 CHECK (epsilon_micros >= 0),
  delta_femtos BIGINT NOT NULL DEFAULT 0 CHECK (delta_femtos >= 0));
CREATE UNIQUE INDEX IF NOT EXISTS policies_live ON policies(asset_id, consumer) WHERE NOT revoked;
CREATE INDEX IF NOT EXISTS policies_consumer ON policies(consumer);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT COLLATE "C" PRIMARY KEY, consumer TEXT NOT NULL, state TEXT NOT NULL,
  body JSONB NOT NULL, admitted_at BIGINT NOT NULL, relayed_bytes BIGINT NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_consumer ON jobs(consumer);
CREATE INDEX IF NOT EXISTS jobs_admitted ON jobs(admitted_at, id);
CREATE TABLE IF NOT EXISTS job_parties (
  job_id TEXT NOT NULL, key_id TEXT NOT NULL, PRIMARY KEY (job_id, key_id));
CREATE INDEX IF NOT EXISTS job_parties_key ON job_parties(key_id);
CREATE TABLE IF NOT EXISTS ledger (
  seq BIGINT PRIMARY KEY CHECK (seq >= 1), job_id TEXT NOT NULL UNIQUE, prev_hash TEXT NOT NULL,
  entry_hash TEXT NOT NULL, signature TEXT NOT NULL, receipt JSONB NOT NULL);
CREATE TABLE IF NOT EXISTS denials (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, consumer TEXT NOT NULL, at BIGINT NOT NULL,
  code TEXT NOT NULL, reason TEXT, request JSONB NOT NULL);
CREATE INDEX IF NOT EXISTS denials_consumer ON denials(consumer);
CREATE TABLE IF NOT EXISTS nonces (
  key_id TEXT NOT NULL, nonce TEXT NOT NULL, expires_at BIGINT NOT NULL,
  PRIMARY KEY (key_id, nonce));
CREATE INDEX IF NOT EXISTS nonces_expiry ON nonces(expires_at);
`;

/** A 64-bit advisory lock key: the first 8 bytes of SHA-256(name), as a signed integer. */
function lockKey(name: string): string {
  const hex = bytesToHex(sha256(utf8ToBytes(name)).subarray(0, 8));
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/** Serializes appends to the ledger (transaction-scoped, per database). */
const LEDGER_LOCK = lockKey('unseen/exchange/ledger-head/v1');
/** Serializes schema creation by processes that start at the same time. */
const SCHEMA_LOCK = lockKey('unseen/exchange/schema/v1');

/** Attempts of a transaction that hits a deadlock or a serialization failure. */
const MAX_ATTEMPTS = 5;

/** `BIGINT` (and `COUNT(*)`) as a JS number: every value this store keeps is below 2^53. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

interface PolicyRow {
  body: Policy;
  revoked: boolean;
  jobs: number;
  epsilon_micros: number;
  delta_femtos: number;
}

function policyOf(row: PolicyRow): { policy: Policy; usage: PolicyUsage } {
  return {
    policy: { ...row.body, revoked: row.revoked },
    usage: { jobs: row.jobs, epsilonMicros: row.epsilon_micros, deltaFemtos: row.delta_femtos },
  };
}

interface LedgerRow {
  seq: number;
  prev_hash: string;
  entry_hash: string;
  signature: string;
  receipt: LedgerEntry['receipt'];
}

function entryOf(row: LedgerRow): LedgerEntry {
  return {
    seq: row.seq,
    prevHash: row.prev_hash,
    entryHash: row.entry_hash,
    signature: row.signature,
    receipt: row.receipt,
  };
}

/** The SQLSTATE of a PostgreSQL error, or undefined. */
function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function constraintOf(e: unknown): string | undefined {
  const c = (e as { constraint?: unknown } | null)?.constraint;
  return typeof c === 'string' ? c : undefined;
}

/** Deadlock detected, serialization failure: the transaction may simply be run again. */
function isRetryable(e: unknown): boolean {
  const s = sqlState(e);
  return s === '40P01' || s === '40001';
}

/** Turns the errors a caller can act on into `UnseenError`s; passes others through. */
function mapError(e: unknown): unknown {
  if (e instanceof UnseenError) return e;
  const state = sqlState(e);
  if (state === '55P03' || state === '57014') {
    return new UnseenError('ERR_TIMEOUT', 'the PostgreSQL store did not answer in time', {
      cause: e,
    });
  }
  if (isRetryable(e)) {
    return new UnseenError('ERR_CONFLICT', 'the PostgreSQL store is busy; retry', { cause: e });
  }
  if (state === '22P05' || state === '22021') {
    return new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'PostgreSQL cannot store text with U+0000 (or invalid UTF-8)',
      { cause: e },
    );
  }
  if (e instanceof Error && /timeout exceeded when trying to connect/i.test(e.message)) {
    return new UnseenError('ERR_TIMEOUT', 'no PostgreSQL connection became free in time', {
      cause: e,
    });
  }
  return e;
}

const json = (v: unknown): string => JSON.stringify(v);

/** Options of {@link PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** Connections in this process's pool (default 10). */
  maxConnections?: number;
  /** How long to wait for a free connection, ms (default 10,000). */
  connectTimeoutMs?: number;
  /** How long one statement may run, ms (default 30,000). */
  statementTimeoutMs?: number;
  /** How long a statement waits for a row or advisory lock, ms (default 10,000). */
  lockTimeoutMs?: number;
  /** Called when an idle pooled connection fails (the pool replaces it); default: ignored. */
  onError?: (e: Error) => void;
}

type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * An {@link ExchangeStore} in a PostgreSQL database (12 or later). Give it a database of its
 * own, or a schema of its own through the URL's `options=-c search_path=NAME`. The password may
 * come from the URL, from `PGPASSWORD` or from `~/.pgpass`.
 * @example
 * ```ts
 * const store = await PostgresStore.open('postgres://exchange@db.internal/exchange');
 * const exchange = await Exchange.open({ identity, store, recoverRunningJobs: false });
 * ```
 */
export class PostgresStore implements ExchangeStore {
  readonly pool: pg.Pool;
  #nextPrune = 0;
  #closed = false;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /**
   * Connects, creates the tables if they do not exist, and checks the schema version.
   * @param url a `postgres://` or `postgresql://` connection string
   * @throws UnseenError `ERR_UNSUPPORTED_VERSION` if the database holds another schema version
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      lock_timeout: options.lockTimeoutMs ?? 10_000,
      idle_in_transaction_session_timeout: 60_000,
      application_name: 'unseen-exchange',
      types: TYPES,
    });
    pool.on('error', options.onError ?? (() => {}));
    const store = new PostgresStore(pool);
    try {
      await store.#tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await c.query(DDL);
        await c.query('INSERT INTO meta VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
          'schema',
          SCHEMA_VERSION,
        ]);
        const { rows } = await c.query('SELECT value FROM meta WHERE key = $1', ['schema']);
        const v = (rows[0] as { value: string }).value;
        if (v !== SCHEMA_VERSION) {
          throw new UnseenError(
            'ERR_UNSUPPORTED_VERSION',
            `PostgreSQL store: schema ${v}, expected ${SCHEMA_VERSION}`,
          );
        }
      });
    } catch (e) {
      await pool.end();
      throw e;
    }
    return store;
  }

  async #query<R>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query(text, values)).rows as R[];
    } catch (e) {
      throw mapError(e);
    }
  }

  async #run(text: string, values: unknown[] = []): Promise<number> {
    try {
      return (await this.pool.query(text, values)).rowCount ?? 0;
    } catch (e) {
      throw mapError(e);
    }
  }

  /**
   * Runs `fn` in a transaction on one connection. Retries it (a new transaction) after a
   * deadlock, a serialization failure, or an error `retry` accepts.
   */
  async #tx<T>(fn: (c: Queryable) => Promise<T>, retry?: (e: unknown) => boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (e) {
        throw mapError(e);
      }
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const out = await fn(client);
        await client.query('COMMIT');
        return out;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (r) {
          broken = r as Error; // the connection is gone: the server rolled back
        }
        if (attempt < MAX_ATTEMPTS && (isRetryable(e) || (retry?.(e) ?? false))) {
          await new Promise((r) => setTimeout(r, 2 ** attempt + randomInt(8)));
          continue;
        }
        throw mapError(e);
      } finally {
        client.release(broken);
      }
    }
  }

  async getMeta(key: string): Promise<string | undefined> {
    const [row] = await this.#query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [
      key,
    ]);
    return row?.value;
  }

  async initMeta(key: string, value: string): Promise<string> {
    // Two statements: the SELECT's snapshot is taken after the INSERT has waited out a
    // concurrent insert of the same key, so it sees whichever value won.
    await this.#run('INSERT INTO meta VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.getMeta(key))!;
  }

  async insertParty(party: PartyRecord): Promise<void> {
    const n = await this.#run(
      'INSERT INTO parties VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING',
      [party.keyId, party.role, json(party)],
    );
    if (n === 0)
      throw new UnseenError('ERR_CONFLICT', `party ${party.keyId} is already registered`);
  }

  async getParty(keyId: string): Promise<PartyRecord | undefined> {
    const [row] = await this.#query<{ body: PartyRecord }>(
      'SELECT body FROM parties WHERE key_id = $1',
      [keyId],
    );
    return row?.body;
  }

  async listParties(): Promise<PartyRecord[]> {
    return (
      await this.#query<{ body: PartyRecord }>('SELECT body FROM parties ORDER BY key_id')
    ).map((r) => r.body);
  }

  async insertAsset(asset: Asset): Promise<void> {
    const n = await this.#run(
      'INSERT INTO assets VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [asset.id, asset.provider, json(asset)],
    );
    if (n === 0) throw new UnseenError('ERR_CONFLICT', `asset ${asset.id} already exists`);
  }

  async getAsset(id: string): Promise<Asset | undefined> {
    const [row] = await this.#query<{ body: Asset }>('SELECT body FROM assets WHERE id = $1', [id]);
    return row?.body;
  }

  async listAssets(filter: { provider?: string; ids?: readonly string[] } = {}): Promise<Asset[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.provider !== undefined) {
      args.push(filter.provider);
      where.push(`provider = $${args.length}`);
    }
    if (filter.ids !== undefined) {
      args.push([...filter.ids]);
      where.push(`id = ANY($${args.length}::text[])`);
    }
    const rows = await this.#query<{ body: Asset }>(
      `SELECT body FROM assets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id`,
      args,
    );
    return rows.map((r) => r.body);
  }

  async putPolicy(policy: Policy): Promise<void> {
    // Two processes replacing the live policy of one (asset, consumer) at once: the second
    // insert meets the first's new live row in `policies_live`; it runs again and revokes it,
    // as it would have had it come second (SQLite serializes the two outright).
    await this.#tx(
      async (c) => {
        await c.query(
          'UPDATE policies SET revoked = TRUE WHERE asset_id = $1 AND consumer = $2 AND NOT revoked',
          [policy.assetId, policy.consumer],
        );
        try {
          // What the pair spent under every earlier policy stays spent (ExchangeStore.putPolicy).
          await c.query(
            `INSERT INTO policies (id, asset_id, consumer, body, jobs, epsilon_micros, delta_femtos)
             SELECT $1, $2, $3, $4, COALESCE(MAX(jobs), 0), COALESCE(MAX(epsilon_micros), 0),
               COALESCE(MAX(delta_femtos), 0)
             FROM (SELECT jobs, epsilon_micros, delta_femtos FROM policies
                   WHERE asset_id = $2 AND consumer = $3 ORDER BY n DESC LIMIT 1) prev`,
            [policy.id, policy.assetId, policy.consumer, json({ ...policy, revoked: false })],
          );
        } catch (e) {
          if (sqlState(e) === '23505' && constraintOf(e) === 'policies_pkey') {
            throw new UnseenError('ERR_CONFLICT', `policy ${policy.id} already exists`);
          }
          throw e;
        }
      },
      (e) => sqlState(e) === '23505' && constraintOf(e) === 'policies_live',
    );
  }

  async getPolicy(id: string): Promise<{ policy: Policy; usage: PolicyUsage } | undefined> {
    const [row] = await this.#query<PolicyRow>('SELECT * FROM policies WHERE id = $1', [id]);
    return row && policyOf(row);
  }

  async listPolicies(filter: { assetIds?: readonly string[]; consumer?: string } = {}) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.consumer !== undefined) {
      args.push(filter.consumer);
      where.push(`consumer = $${args.length}`);
    }
    if (filter.assetIds !== undefined) {
      args.push([...filter.assetIds]);
      where.push(`asset_id = ANY($${args.length}::text[])`);
    }
    const rows = await this.#query<PolicyRow>(
      `SELECT * FROM policies ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY n`,
      args,
    );
    return rows.map(policyOf);
  }

  async revokePolicy(id: string): Promise<void> {
    if ((await this.#run('UPDATE policies SET revoked = TRUE WHERE id = $1', [id])) === 0) {
      throw new UnseenError('ERR_NOT_FOUND', `no policy ${id}`);
    }
  }

  async admitJob(
    consumer: string,
    assetIds: readonly string[],
    admit: (s: AdmissionSnapshot) => Job,
  ): Promise<Job> {
    return this.#tx(async (c) => {
      const ids = [...assetIds];
      // The live policies first, locked in id order: concurrent admissions on any of them wait
      // here and then read the usage the earlier one left (at READ COMMITTED, FOR UPDATE
      // returns the newest committed version of a row it had to wait for).
      const lock = () =>
        c.query<PolicyRow & { asset_id: string }>(
          `SELECT * FROM policies WHERE asset_id = ANY($1::text[]) AND consumer = $2 AND NOT revoked
           ORDER BY id FOR UPDATE`,
          [ids, consumer],
        );
      let locked = await lock();
      // A policy replaced while this waited for its row: the re-check drops the revoked row, and
      // the new one was not in this statement's snapshot. A second statement sees it (the rows
      // locked so far stay locked), so a replacement never turns into a 'no-policy' denial.
      if (locked.rows.length < new Set(ids).size) locked = await lock();
      const found = await c.query<{ id: string; body: Asset }>(
        'SELECT id, body FROM assets WHERE id = ANY($1::text[])',
        [ids],
      );
      const assets = new Map(found.rows.map((r) => [r.id, r.body]));
      const policies = new Map(locked.rows.map((r) => [r.asset_id, policyOf(r)]));
      const job = admit({ assets, policies });
      for (const s of job.spends) {
        const r = await c.query(
          `UPDATE policies SET jobs = jobs + 1, epsilon_micros = epsilon_micros + $1,
             delta_femtos = delta_femtos + $2 WHERE id = $3 AND NOT revoked`,
          [s.epsilonMicros, s.deltaFemtos, s.policyId],
        );
        if (r.rowCount !== 1) {
          throw new UnseenError(
            'ERR_INVALID_STATE',
            `policy ${s.policyId} changed during admission`,
          );
        }
      }
      await c.query(
        `INSERT INTO jobs (id, consumer, state, body, admitted_at, relayed_bytes)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [job.id, job.consumer, job.state, json(job), job.admittedAt, job.relayedBytes],
      );
      await c.query(
        'INSERT INTO job_parties SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING',
        [job.id, [job.consumer, ...job.providers]],
      );
      return job;
    });
  }

  async recordDenial(d: Denial): Promise<void> {
    await this.#run(
      'INSERT INTO denials (consumer, at, code, reason, request) VALUES ($1, $2, $3, $4, $5)',
      [d.consumer, d.at, d.code, d.reason, json(d.request)],
    );
  }

  async getJob(id: string): Promise<Job | undefined> {
    const [row] = await this.#query<{ body: Job }>('SELECT body FROM jobs WHERE id = $1', [id]);
    return row?.body;
  }

  async listJobs(filter: JobFilter = {}): Promise<Job[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.party !== undefined) {
      args.push(filter.party);
      where.push(`id IN (SELECT job_id FROM job_parties WHERE key_id = $${args.length})`);
    }
    if (filter.state !== undefined) {
      args.push(filter.state);
      where.push(`state = $${args.length}`);
    }
    args.push(Math.min(Math.max(1, filter.limit ?? 1000), 10_000));
    const rows = await this.#query<{ body: Job }>(
      `SELECT body FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY admitted_at, id LIMIT $${args.length}`,
      args,
    );
    return rows.map((r) => r.body);
  }

  static #casSql =
    'UPDATE jobs SET state = $1, body = $2, relayed_bytes = $3 WHERE id = $4 AND state = ANY($5::text[])';

  async updateJob(job: Job, from: readonly JobState[], expected?: Job): Promise<boolean> {
    const args = [job.state, json(job), job.relayedBytes, job.id, [...from]];
    // JSONB equality: the same job whatever key order or number spelling the database keeps.
    const n =
      expected === undefined
        ? await this.#run(PostgresStore.#casSql, args)
        : await this.#run(`${PostgresStore.#casSql} AND body = $6::jsonb`, [
            ...args,
            json(expected),
          ]);
    return n === 1;
  }

  async finishJob(
    jobId: string,
    build: (job: Job, head: LedgerHead | undefined) => { job: Job; entry: LedgerEntry },
  ): Promise<LedgerEntry | undefined> {
    return this.#tx(async (c) => {
      // Lock order: the ledger head, then the job row (no other transaction holds a job row
      // and then waits for the ledger lock, so this cannot deadlock).
      await c.query('SELECT pg_advisory_xact_lock($1)', [LEDGER_LOCK]);
      const { rows } = await c.query<{ body: Job }>(
        'SELECT body FROM jobs WHERE id = $1 FOR UPDATE',
        [jobId],
      );
      const job = rows[0]?.body;
      if (job === undefined) throw new UnseenError('ERR_NOT_FOUND', `no job ${jobId}`);
      if (job.state === 'finished' || job.state === 'failed') return undefined;
      const { job: done, entry } = build(job, await this.#head(c));
      const final = { ...done, receiptSeq: entry.seq };
      const moved = await c.query(PostgresStore.#casSql, [
        final.state,
        json(final),
        final.relayedBytes,
        jobId,
        ['admitted', 'running'],
      ]);
      if (moved.rowCount !== 1) {
        throw new UnseenError(
          'ERR_INVALID_STATE',
          `job ${jobId} changed while it was being finished`,
        );
      }
      await c.query('INSERT INTO ledger VALUES ($1, $2, $3, $4, $5, $6)', [
        entry.seq,
        jobId,
        entry.prevHash,
        entry.entryHash,
        entry.signature,
        json(entry.receipt),
      ]);
      return entry;
    });
  }

  async #head(c: Queryable): Promise<LedgerHead | undefined> {
    const { rows } = await c.query<{ seq: number; entry_hash: string }>(
      'SELECT seq, entry_hash FROM ledger ORDER BY seq DESC LIMIT 1',
    );
    const row = rows[0];
    return row && { seq: row.seq, hash: row.entry_hash };
  }

  async ledgerHead(): Promise<LedgerHead | undefined> {
    try {
      return await this.#head(this.pool);
    } catch (e) {
      throw mapError(e);
    }
  }

  async ledgerEntries(fromSeq: number, limit: number): Promise<LedgerEntry[]> {
    return (
      await this.#query<LedgerRow>('SELECT * FROM ledger WHERE seq >= $1 ORDER BY seq LIMIT $2', [
        fromSeq,
        limit,
      ])
    ).map(entryOf);
  }

  async ledgerEntryByJob(jobId: string): Promise<LedgerEntry | undefined> {
    const [row] = await this.#query<LedgerRow>('SELECT * FROM ledger WHERE job_id = $1', [jobId]);
    return row && entryOf(row);
  }

  async metering(): Promise<MeteringRow[]> {
    const rows = await this.#query<Omit<MeteringRow, 'epsilonSpent'> & { eps: number }>(
      `SELECT c.consumer AS consumer,
         (SELECT COUNT(*) FROM jobs j WHERE j.consumer = c.consumer) AS jobs,
         (SELECT COUNT(*) FROM jobs j WHERE j.consumer = c.consumer AND j.state = 'finished') AS finished,
         (SELECT COUNT(*) FROM jobs j WHERE j.consumer = c.consumer AND j.state = 'failed') AS failed,
         (SELECT COUNT(*) FROM denials d WHERE d.consumer = c.consumer) AS denied,
         (SELECT COALESCE(SUM(relayed_bytes), 0) FROM jobs j WHERE j.consumer = c.consumer)::bigint AS bytes,
         (SELECT COALESCE(SUM(epsilon_micros), 0) FROM policies p WHERE p.consumer = c.consumer
            AND p.n = (SELECT MAX(q.n) FROM policies q
                       WHERE q.asset_id = p.asset_id AND q.consumer = p.consumer))::bigint AS eps
       FROM (SELECT consumer FROM jobs UNION SELECT consumer FROM denials) c
       ORDER BY c.consumer COLLATE "C"`,
    );
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
      await this.#run('DELETE FROM nonces WHERE expires_at < $1', [now]);
    }
    // Two processes offered the same nonce at once: the second insert waits for the first to
    // commit, then finds its unexpired row and changes nothing.
    const n = await this.#run(
      `INSERT INTO nonces VALUES ($1, $2, $3) ON CONFLICT (key_id, nonce)
       DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE nonces.expires_at < $4`,
      [keyId, nonce, expiresAt, now],
    );
    return n === 1;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}
