/**
 * The SQLite driver behind {@link SqliteStore}: Node's built-in `node:sqlite` where the runtime
 * has it (Node 22.13 and later, 24), better-sqlite3 elsewhere (Node 20).
 *
 * Why not better-sqlite3 everywhere: since Node 24.19, `node::ObjectWrap` removes an environment
 * cleanup hook in its destructor, which asserts when V8 collects a better-sqlite3 statement
 * outside a context, and the process aborts (seen here with better-sqlite3 12.11.1 on Node
 * 24.21; WiseLibs/better-sqlite3#1515). The built-in driver has no such addon. Both run the
 * same SQL through this small interface; prepared statements are cached per connection (one
 * prepare per distinct SQL text).
 * @module
 */
import { createRequire } from 'node:module';
import { UnseenError } from '@unseen/core';

/** A value SQLite binds or returns. */
export type SqlValue = string | number | bigint | null | Uint8Array;

/** A prepared statement. */
export interface SqliteStatement {
  run(...params: SqlValue[]): { changes: number };
  /** The first row as an object of columns, or undefined. */
  get(...params: SqlValue[]): unknown;
  /** Every row, each an object of columns. */
  all(...params: SqlValue[]): unknown[];
}

/** Which library talks to SQLite. */
export type SqliteDriver = 'node:sqlite' | 'better-sqlite3';

/** One SQLite connection. */
export interface SqliteDatabase {
  readonly driver: SqliteDriver;
  readonly isOpen: boolean;
  /** Runs one or more statements without results (DDL, pragmas). */
  exec(sql: string): void;
  /** The prepared statement for `sql` (cached). */
  prepare(sql: string): SqliteStatement;
  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction (the write lock is taken before anything is
   * read), committing if it returns and rolling back if it throws. Inside another transaction
   * of this connection `fn` simply joins it.
   */
  immediate<T>(fn: () => T): T;
  close(): void;
}

interface NativeStatement {
  run(...p: unknown[]): { changes: number | bigint };
  get(...p: unknown[]): unknown;
  all(...p: unknown[]): unknown[];
}
interface NativeDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): NativeStatement;
  close(): unknown;
}

type NodeSqlite = { DatabaseSync: new (path: string) => NativeDatabase };

function builtin(): NodeSqlite | undefined {
  try {
    const m = process.getBuiltinModule?.('node:sqlite') as NodeSqlite | undefined;
    return typeof m?.DatabaseSync === 'function' ? m : undefined;
  } catch {
    return undefined; // older Node: no such module, or behind a flag
  }
}

/** The driver {@link openSqlite} uses by default on this runtime. */
export function defaultSqliteDriver(): SqliteDriver {
  return builtin() === undefined ? 'better-sqlite3' : 'node:sqlite';
}

function nativeOpen(path: string, driver: SqliteDriver): NativeDatabase {
  if (driver === 'node:sqlite') {
    const m = builtin();
    if (m === undefined)
      throw new UnseenError('ERR_UNSUPPORTED', 'node:sqlite needs Node 22.13 or later');
    return new m.DatabaseSync(path);
  }
  let Better: new (path: string) => NativeDatabase;
  try {
    Better = createRequire(import.meta.url)('better-sqlite3');
  } catch (e) {
    throw new UnseenError(
      'ERR_UNSUPPORTED',
      'SQLite on this Node needs better-sqlite3 (an optional dependency of @unseen/exchange that did not build here: see its README), or Node 22.13 or later',
      { cause: e },
    );
  }
  return new Better(path);
}

class Connection implements SqliteDatabase {
  readonly driver: SqliteDriver;
  readonly #db: NativeDatabase;
  readonly #cache = new Map<string, SqliteStatement>();
  #open = true;
  #depth = 0;

  constructor(path: string, driver: SqliteDriver) {
    this.driver = driver;
    this.#db = nativeOpen(path, driver);
  }

  get isOpen(): boolean {
    return this.#open;
  }

  exec(sql: string): void {
    this.#db.exec(sql);
  }

  prepare(sql: string): SqliteStatement {
    let s = this.#cache.get(sql);
    if (s === undefined) {
      const native = this.#db.prepare(sql);
      s = {
        run: (...p) => ({ changes: Number(native.run(...p).changes) }),
        get: (...p) => native.get(...p),
        all: (...p) => native.all(...p),
      };
      this.#cache.set(sql, s);
    }
    return s;
  }

  immediate<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.#db.exec('BEGIN IMMEDIATE');
    this.#depth++;
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (e) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // SQLite already rolled back (e.g. after SQLITE_FULL); the first error is the one to see.
      }
      throw e;
    } finally {
      this.#depth--;
    }
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#cache.clear();
    this.#db.close();
  }
}

/** Options of {@link openSqlite}. */
export interface OpenSqliteOptions {
  /** Default: {@link defaultSqliteDriver}. */
  driver?: SqliteDriver;
}

/**
 * Opens (creating if needed) the SQLite database at `path` (`:memory:` for a throwaway one).
 * @throws UnseenError `ERR_UNSUPPORTED` when the driver is not available on this runtime
 */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDatabase {
  return new Connection(path, options.driver ?? defaultSqliteDriver());
}

/**
 * The primary SQLite result code of a driver error, or undefined: every code from node:sqlite;
 * from better-sqlite3 (which names codes) those the store acts on: `SQLITE_BUSY` 5,
 * `SQLITE_LOCKED` 6, `SQLITE_FULL` 13, `SQLITE_CONSTRAINT` 19.
 */
export function sqliteErrorCode(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { errcode, code } = e as { errcode?: unknown; code?: unknown };
  if (typeof errcode === 'number') return errcode & 0xff; // node:sqlite: the extended code
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    const primary = code.slice(7).split('_')[0];
    return PRIMARY[primary ?? ''];
  }
  return undefined;
}

const PRIMARY: Record<string, number> = { BUSY: 5, LOCKED: 6, FULL: 13, CONSTRAINT: 19 };
