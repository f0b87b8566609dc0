/**
 * Opening a store from one location string, as the CLI's `--store` takes it.
 * @module
 */
import type { ExchangeStore } from './store.js';
import { PostgresStore, type PostgresStoreOptions } from './store-postgres.js';
import { SqliteStore, type SqliteStoreOptions } from './store-sqlite.js';

/** True for a `postgres://` or `postgresql://` connection string. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** Options of {@link openStore}, per kind of store. */
export interface OpenStoreOptions {
  sqlite?: SqliteStoreOptions;
  postgres?: PostgresStoreOptions;
}

/**
 * Opens the store at `location`: a `postgres://` or `postgresql://` URL opens a
 * {@link PostgresStore}, anything else is the path of a {@link SqliteStore} file (created if
 * absent).
 * @example
 * ```ts
 * const store = await openStore(process.env.UNSEEN_STORE ?? 'exchange.db');
 * ```
 */
export async function openStore(
  location: string,
  options: OpenStoreOptions = {},
): Promise<ExchangeStore> {
  return isPostgresUrl(location)
    ? PostgresStore.open(location, options.postgres)
    : SqliteStore.open(location, options.sqlite);
}
