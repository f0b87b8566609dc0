/**
 * `unseen ledger verify`: checks a ledger from its store (a SQLite file or a PostgreSQL
 * database) or from a running exchange.
 * @module
 */
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
import { isPostgresUrl, openStore } from '../store-open.js';
import { connect, loadPublicIdentity, options, print, UsageError } from './args.js';

function parseHead(text: string | undefined): LedgerHead | undefined {
  if (text === undefined) return undefined;
  const m = /^([0-9]+):([0-9a-f]{64})$/.exec(text);
  if (!m) throw new UsageError('--head must be SEQ:HASH');
  return { seq: Number(m[1]), hash: m[2]! };
}

/** A store location for messages: a URL without its password. */
function redact(location: string): string {
  return isPostgresUrl(location)
    ? location.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
    : location;
}

/** Exit code 0 when the ledger verifies, 1 when it does not. */
export async function ledger(cmd: string | undefined, argv: string[]): Promise<number> {
  if (cmd !== 'verify')
    throw new UsageError(
      'unseen ledger verify (--db FILE | --url postgres://... | --url URL --key OPERATOR-KEY) [--exchange-key PUBFILE] [--head SEQ:HASH] [--json]',
    );
  const { values } = options(argv, {
    db: { type: 'string' },
    store: { type: 'string' },
    url: { type: 'string' },
    key: { type: 'string' },
    head: { type: 'string' },
    'exchange-key': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const head = parseHead(values.head);
  // The exchange's public key as the verifier knows it from elsewhere. Without it the key comes
  // from the store (or service) being verified, and whoever can rewrite that can also re-key it
  // and re-sign: the check then proves integrity, not who wrote the ledger.
  const pinned =
    values['exchange-key'] === undefined
      ? undefined
      : await loadPublicIdentity(values['exchange-key']);
  if (pinned !== undefined && pinned.role !== 'exchange')
    throw new UsageError(`${values['exchange-key']} is a ${pinned.role} key, not an exchange's`);
  /** The key to verify with: the pinned one, after checking that the source claims the same. */
  const exchangeKey = (claimed: string): { key: Uint8Array; mismatch?: string } => {
    if (pinned === undefined || pinned.publicKey === claimed) return { key: hexToBytes(claimed) };
    return {
      key: hexToBytes(pinned.publicKey),
      mismatch: `the ledger names exchange key ${claimed}, not the pinned ${pinned.publicKey}`,
    };
  };
  let result: LedgerVerification;
  let mismatch: string | undefined;
  const storeAt =
    values.store ??
    values.db ??
    (values.url !== undefined && isPostgresUrl(values.url) ? values.url : undefined);
  if (storeAt !== undefined) {
    // A SQLite file must exist (opening would create an empty one).
    if (!isPostgresUrl(storeAt)) await access(storeAt);
    const store = await openStore(storeAt);
    try {
      const pk = await store.getMeta('exchangePublicKey');
      if (pk === undefined) throw new UsageError(`${redact(storeAt)} holds no exchange`);
      const k = exchangeKey(pk);
      mismatch = k.mismatch;
      result = await verifyStoreLedger(store, k.key, head);
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
    const k = exchangeKey(client.exchange.publicKey);
    mismatch = k.mismatch;
    result = verifyLedger(entries, k.key, {
      keyOf: (k) => keys.get(k),
      ...(head ? { expectedHead: head } : {}),
    });
  } else throw new UsageError('give --db FILE, --url postgres://... or --url URL --key FILE');
  if (mismatch !== undefined)
    result = {
      ...result,
      ok: false,
      problems: [{ seq: 0, problem: mismatch }, ...result.problems],
    };
  const text = result.ok
    ? `ledger OK: ${result.entries} entries, head ${result.head ? `${result.head.seq}:${result.head.hash}` : '(empty)'}`
    : `ledger FAILED (${result.problems.length} problems):\n${result.problems.map((p) => `  seq ${p.seq}: ${p.problem}`).join('\n')}`;
  const note =
    pinned === undefined
      ? "\nnote: the exchange key came from the ledger's own source; pass --exchange-key to check who signed it"
      : '';
  print(values.json, { ...result, exchangeKeyPinned: pinned !== undefined }, text + note);
  return result.ok ? 0 : 1;
}
