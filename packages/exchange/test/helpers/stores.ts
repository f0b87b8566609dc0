/**
 * The store behind a test: each behavioural suite runs once per kind of store, on a fresh
 * SQLite file or a fresh PostgreSQL database.
 */
import { join } from 'node:path';
import { type ExchangeStore, openSqlite, openStore } from '@unseen/exchange';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import { createPgDatabase, pgSkipReason, stopPgServer } from './pg.js';

export type StoreKind = 'sqlite' | 'postgres';

/** Every kind, with the reason it cannot run here (undefined: it runs). */
export const STORE_KINDS: readonly { kind: StoreKind; skip: string | undefined }[] = [
  { kind: 'sqlite', skip: undefined },
  { kind: 'postgres', skip: pgSkipReason },
];

/** A fresh store location. */
export interface StoreFixture {
  kind: StoreKind;
  /** What `openStore` and the CLI's `--store` take: a file path or a `postgres://` URL. */
  location: string;
  /** Opens a new handle (a new connection pool) on it. */
  open(): Promise<ExchangeStore>;
  /** Runs SQL on the database directly, beside the store (to corrupt or inspect it). */
  exec(sql: string): Promise<void>;
  /** Deletes the database (a SQLite file goes with its folder). */
  drop(): Promise<void>;
}

/** A new, empty store of `kind`; a SQLite file goes into `dir`. */
export async function createStoreFixture(kind: StoreKind, dir: string): Promise<StoreFixture> {
  if (kind === 'sqlite') {
    const location = join(dir, 'exchange.db');
    return {
      kind,
      location,
      open: () => openStore(location, { sqlite: { synchronous: 'NORMAL' } }),
      exec: async (sql) => {
        const db = openSqlite(location);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
      },
      drop: async () => {},
    };
  }
  const db = await createPgDatabase();
  return {
    kind,
    location: db.url,
    open: () => openStore(db.url),
    exec: async (sql) => {
      const c = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 10_000 });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    },
    drop: db.drop,
  };
}

/**
 * `describe(name [kind], body)` for every kind of store. A kind that cannot run here shows as
 * one skipped test that gives the reason.
 */
export function describeStores(name: string, body: (kind: StoreKind) => void): void {
  for (const { kind, skip } of STORE_KINDS) {
    describe(`${name} [${kind}]`, () => {
      if (skip === undefined) body(kind);
      else it.skip(`skipped: ${skip}`, () => {});
    });
  }
  afterAll(stopPgServer);
}
