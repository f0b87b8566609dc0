/**
 * Verifying the ledger a store holds, with the party keys the same store holds.
 * @module
 */
import { parsePublicKey } from './identity.js';
import {
  type LedgerEntry,
  type LedgerHead,
  type LedgerVerification,
  verifyLedger,
} from './ledger.js';
import type { ExchangeStore } from './store.js';

/**
 * Verifies a store's whole ledger, reading it in pages of 1,000. Pass a head known from outside
 * the store (a receipt, an auditor's note) to detect truncation.
 */
export async function verifyStoreLedger(
  store: ExchangeStore,
  exchangePublicKey: Uint8Array,
  expectedHead?: LedgerHead,
): Promise<LedgerVerification> {
  const keys = new Map<string, Uint8Array>();
  for (const p of await store.listParties()) keys.set(p.keyId, parsePublicKey(p.publicKey));
  const entries: LedgerEntry[] = [];
  for (let from = 1; ; ) {
    const page = await store.ledgerEntries(from, 1000);
    entries.push(...page);
    if (page.length < 1000) break;
    from = page[page.length - 1]!.seq + 1;
  }
  return verifyLedger(entries, exchangePublicKey, {
    keyOf: (k) => keys.get(k),
    ...(expectedHead === undefined ? {} : { expectedHead }),
  });
}
