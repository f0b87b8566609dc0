import { type LedgerEntry, parsePublicKey, verifyLedger } from '@unseen/exchange';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type InProcess, inProcessExchange, runJobs } from './helpers/inprocess.js';
import { describeStores } from './helpers/stores.js';

let p: InProcess;
let entries: LedgerEntry[];
let keyOf: (k: string) => Uint8Array | undefined;

const clone = (es: LedgerEntry[]): LedgerEntry[] => JSON.parse(JSON.stringify(es));

function verify(es: LedgerEntry[], head = true) {
  const last = entries[entries.length - 1]!;
  return verifyLedger(es, p.ids.exchange.publicKey, {
    keyOf,
    ...(head ? { expectedHead: { seq: last.seq, hash: last.entryHash } } : {}),
  });
}

/** Every string or number leaf of a JSON value, as a path. */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (v !== null && typeof v === 'object') {
    return Object.entries(v).flatMap(([k, x]) =>
      leaves(x, [...path, Array.isArray(v) ? Number(k) : k]),
    );
  }
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null
    ? [path]
    : [];
}

function mutate(v: unknown, path: (string | number)[], fn: (x: unknown) => unknown): void {
  let o = v as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  o[last] = fn(o[last]);
}

function change(x: unknown): unknown {
  if (typeof x === 'number') return x + 1;
  if (typeof x === 'boolean') return !x;
  if (x === null) return 0;
  const s = String(x);
  if (/^[0-9a-f]+$/.test(s) && s.length > 0) return s.slice(0, -1) + (s.endsWith('0') ? '1' : '0');
  return `${s}x`;
}

/**
 * The ledger as each store gives it back (JSONB in PostgreSQL reorders keys and rewrites
 * numbers): it verifies, and every edit of it is caught.
 */
describeStores('ledger verification', (kind) => {
  beforeAll(async () => {
    p = await inProcessExchange({ store: kind });
    await runJobs(p, 8);
    entries = await p.store.ledgerEntries(1, 100);
    const keys = new Map(
      (await p.store.listParties()).map((x) => [x.keyId, parsePublicKey(x.publicKey)]),
    );
    keyOf = (k) => keys.get(k);
  });
  afterAll(() => p.close());

  it('a ledger as written verifies: chain, signatures of the exchange and of every party', () => {
    const v = verify(entries);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.entries).toBe(8);
    expect(entries.filter((e) => e.receipt.body.status === 'failed')).toHaveLength(2);
    expect(entries.every((e) => e.receipt.body.reports.length === 2)).toBe(true);
  });

  it('detects any edit of any field of any entry', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (i, j) => {
        const es = clone(entries);
        const at = i % es.length;
        const paths = leaves(es[at]);
        const path = paths[j % paths.length]!;
        mutate(es[at], path, change);
        expect(verify(es).ok).toBe(false);
        expect(verify(es, false).ok).toBe(false);
      }),
      { numRuns: 80 },
    );
  }, 120_000);

  it('detects removal of any entry (the tail through a known head) and any reordering', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat(), (i, a, b) => {
        const removed = clone(entries);
        removed.splice(i % removed.length, 1);
        expect(verify(removed).ok).toBe(false);
        const swapped = clone(entries);
        const x = a % swapped.length;
        const y = b % swapped.length;
        fc.pre(x !== y);
        [swapped[x], swapped[y]] = [swapped[y]!, swapped[x]!];
        expect(verify(swapped, false).ok).toBe(false);
      }),
      { numRuns: 40 },
    );
    // Without a known head, removing a middle entry is still caught; the tail needs the head.
    const middle = clone(entries);
    middle.splice(5, 1);
    expect(verify(middle, false).ok).toBe(false);
    expect(verify(clone(entries).slice(0, -1), false).ok).toBe(true);
    expect(verify(clone(entries).slice(0, -1), true).ok).toBe(false);
  }, 120_000);

  it('detects a re-signed forgery: valid-looking entries from another exchange key', async () => {
    const other = await inProcessExchange({ store: kind });
    try {
      await runJobs(other, 2);
      const foreign = await other.store.ledgerEntries(1, 10);
      expect(verify([...clone(entries), ...foreign], false).ok).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('detects a swapped report signature and a duplicated job', () => {
    const es = clone(entries);
    const r = es[0]!.receipt.body.reports;
    [r[0]!.signature, r[1]!.signature] = [r[1]!.signature, r[0]!.signature];
    expect(verify(es).problems.some((x) => x.problem.includes('does not verify'))).toBe(true);
    const dup = clone(entries);
    dup[1]!.receipt = dup[0]!.receipt;
    expect(verify(dup).ok).toBe(false);
  });
});
