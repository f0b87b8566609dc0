/** `unseen ledger verify`: checks a ledger from its SQLite file or from a running exchange. @module */
import { access } from 'node:fs/promises';
import { hexToBytes } from '@unseen/core';
import { verifyStoreLedger } from '../audit.js';
import { parsePublicKey } from '../identity.js';
import {
  type LedgerEntry,
  type LedgerHead,
  type LedgerVerification,
  verifyLedger,
} from '../ledger.js';
import { SqliteStore } from '../store-sqlite.js';
import { connect, options, print, UsageError } from './args.js';

function parseHead(text: string | undefined): LedgerHead | undefined {
  if (text === undefined) return undefined;
  const m = /^([0-9]+):([0-9a-f]{64})$/.exec(text);
  if (!m) throw new UsageError('--head must be SEQ:HASH');
  return { seq: Number(m[1]), hash: m[2]! };
}

/** Exit code 0 when the ledger verifies, 1 when it does not. */
export async function ledger(cmd: string | undefined, argv: string[]): Promise<number> {
  if (cmd !== 'verify')
    throw new UsageError(
      'unseen ledger verify (--db FILE | --url URL --key OPERATOR-KEY) [--head SEQ:HASH] [--json]',
    );
  const { values } = options(argv, {
    db: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
    head: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const head = parseHead(values.head);
  let result: LedgerVerification;
  if (values.db !== undefined) {
    await access(values.db);
    const store = SqliteStore.open(values.db);
    try {
      const pk = await store.getMeta('exchangePublicKey');
      if (pk === undefined) throw new UsageError(`${values.db} holds no exchange`);
      result = await verifyStoreLedger(store, hexToBytes(pk), head);
    } finally {
      await store.close();
    }
  } else if (values.url !== undefined) {
    const client = await connect(values.url, values.key);
    const keys = new Map<string, Uint8Array>();
    for (const p of await client.listParties()) keys.set(p.keyId, parsePublicKey(p.publicKey));
    const entries: LedgerEntry[] = [];
    for (let from = 1; ; ) {
      const page = await client.ledger(from, 1000);
      entries.push(...page);
      if (page.length < 1000) break;
      from = page[page.length - 1]!.seq + 1;
    }
    result = verifyLedger(entries, hexToBytes(client.exchange.publicKey), {
      keyOf: (k) => keys.get(k),
      ...(head ? { expectedHead: head } : {}),
    });
  } else throw new UsageError('give --db FILE or --url URL --key FILE');
  const text = result.ok
    ? `ledger OK: ${result.entries} entries, head ${result.head ? `${result.head.seq}:${result.head.hash}` : '(empty)'}`
    : `ledger FAILED (${result.problems.length} problems):\n${result.problems.map((p) => `  seq ${p.seq}: ${p.problem}`).join('\n')}`;
  print(values.json, result, text);
  return result.ok ? 0 : 1;
}
