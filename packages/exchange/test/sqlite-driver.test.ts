/**
 * The SQLite driver of this runtime (node:sqlite on Node 22.13+ and 24, better-sqlite3 on Node
 * 20; CI runs both): transactions commit or leave nothing, errors carry SQLite's codes, a
 * second connection waits for the write lock and then reports busy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSqliteDriver, openSqlite, sqliteErrorCode } from '@unseen/exchange';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'unseen-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe(`sqlite driver (${defaultSqliteDriver()})`, () => {
  it('is the built-in one exactly where the runtime has it', () => {
    const builtin = (() => {
      try {
        return process.getBuiltinModule?.('node:sqlite') !== undefined;
      } catch {
        return false;
      }
    })();
    expect(defaultSqliteDriver()).toBe(builtin ? 'node:sqlite' : 'better-sqlite3');
  });

  it('commits a transaction, or rolls all of it back when it throws; nested ones join', () => {
    const db = openSqlite(join(dir, 'tx.db'));
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
    const put = db.prepare('INSERT INTO t VALUES (?, ?)');
    expect(db.prepare('INSERT INTO t VALUES (?, ?)')).toBe(put); // one prepare per SQL text
    expect(db.immediate(() => put.run('a', 1).changes)).toBe(1);
    const err = caught(() =>
      db.immediate(() => {
        put.run('b', 2);
        db.immediate(() => put.run('c', 3));
        put.run('a', 4); // duplicate key
      }),
    );
    expect(sqliteErrorCode(err)).toBe(19);
    expect(db.prepare('SELECT k, v FROM t ORDER BY k').all()).toEqual([{ k: 'a', v: 1 }]);
    expect({ ...(db.prepare('SELECT v FROM t WHERE k = ?').get('a') as object) }).toEqual({ v: 1 });
    expect(db.prepare('SELECT v FROM t WHERE k = ?').get('zz')).toBeUndefined();
    // Large integers below 2^53 come back exact.
    put.run('big', 2 ** 53 - 1);
    expect((db.prepare('SELECT v FROM t WHERE k = ?').get('big') as { v: number }).v).toBe(
      2 ** 53 - 1,
    );
    db.close();
    db.close();
    expect(db.isOpen).toBe(false);
  });

  it('a second connection waits out busy_timeout for the write lock, then reports busy', () => {
    const path = join(dir, 'busy.db');
    const a = openSqlite(path);
    const b = openSqlite(path);
    a.exec('PRAGMA journal_mode = WAL');
    a.exec('CREATE TABLE t (x INTEGER)');
    b.exec('PRAGMA busy_timeout = 50');
    a.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const err = caught(() => b.immediate(() => b.prepare('INSERT INTO t VALUES (1)').run()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(sqliteErrorCode(err)).toBe(5);
    a.exec('COMMIT');
    expect(b.immediate(() => b.prepare('INSERT INTO t VALUES (1)').run().changes)).toBe(1);
    a.close();
    b.close();
  });

  it.runIf(defaultSqliteDriver() === 'better-sqlite3')(
    'refuses node:sqlite on a runtime without it, with a typed error',
    () => {
      expect(caught(() => openSqlite(join(dir, 'x.db'), { driver: 'node:sqlite' }))).toMatchObject({
        code: 'ERR_UNSUPPORTED',
      });
    },
  );

  it('names errors that are not SQLite errors as such', () => {
    expect(sqliteErrorCode(new Error('x'))).toBeUndefined();
    expect(sqliteErrorCode(null)).toBeUndefined();
    expect(sqliteErrorCode({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })).toBe(19);
    expect(sqliteErrorCode({ errcode: 2067 })).toBe(19);
    expect(sqliteErrorCode({ code: 'ENOENT' })).toBeUndefined();
  });
});
