/**
 * The hash-chained ledger of receipts. Entry `seq` (from 1) commits to the entry before it:
 *
 *   receiptHash = SHA-256("unseen/exchange/receipt-entry/v1" 0x00 || canonical(signed receipt))
 *   entryHash   = SHA-256("unseen/exchange/ledger/v1" 0x00 || prevHash || u64 seq || receiptHash)
 *
 * with the first prevHash = SHA-256("unseen/exchange/ledger-genesis/v1" 0x00 || exchange key),
 * so that a ledger cannot be passed off as another exchange's. The exchange signs every
 * entryHash. Editing, removing or reordering an entry breaks the chain at that point; removing
 * entries at the end is caught when the verifier knows a later head (a party's receipt holds
 * its entry's seq and hash; an auditor keeps the last head it saw).
 * @module
 */
import {
  ByteWriter,
  bytesToHex,
  concatBytes,
  equalBytes,
  hexToBytes,
  sha256,
  utf8ToBytes,
} from '@unseen/core';
import { canonicalHash } from './canonical.js';
import { type Identity, verifySignature } from './identity.js';
import { checkReceipt, type UsageReceipt } from './receipt.js';
import type { Signed } from './ticket.js';

export const LEDGER_DOMAIN = 'unseen/exchange/ledger/v1';
export const RECEIPT_ENTRY_DOMAIN = 'unseen/exchange/receipt-entry/v1';

/** One ledger entry. Hashes and the signature are hex. */
export interface LedgerEntry {
  seq: number;
  prevHash: string;
  entryHash: string;
  /** The exchange's signature over entryHash. */
  signature: string;
  receipt: Signed<UsageReceipt>;
}

/** The last entry's position. */
export interface LedgerHead {
  seq: number;
  hash: string;
}

/** The prevHash of entry 1. */
export function genesisHash(exchangePublicKey: Uint8Array): string {
  return bytesToHex(
    sha256(
      concatBytes(
        utf8ToBytes('unseen/exchange/ledger-genesis/v1'),
        new Uint8Array(1),
        exchangePublicKey,
      ),
    ),
  );
}

/** The entry hash of a receipt at `seq` after `prevHash`. */
export function entryHash(prevHash: string, seq: number, receipt: Signed<UsageReceipt>): string {
  const receiptHash = canonicalHash(RECEIPT_ENTRY_DOMAIN, receipt);
  const msg = new ByteWriter(128)
    .bytes(utf8ToBytes(LEDGER_DOMAIN))
    .u8(0)
    .bytes(hexToBytes(prevHash))
    .u64(seq)
    .bytes(receiptHash)
    .finish();
  return bytesToHex(sha256(msg));
}

/** Builds the next entry after `head` (undefined for the first). */
export function makeEntry(
  exchange: Identity,
  head: LedgerHead | undefined,
  receipt: Signed<UsageReceipt>,
): LedgerEntry {
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? genesisHash(exchange.publicKey);
  const hash = entryHash(prevHash, seq, receipt);
  return {
    seq,
    prevHash,
    entryHash: hash,
    signature: bytesToHex(exchange.sign(LEDGER_DOMAIN, hexToBytes(hash))),
    receipt,
  };
}

/** The outcome of {@link verifyLedger}. */
export interface LedgerVerification {
  ok: boolean;
  entries: number;
  head: LedgerHead | undefined;
  /** Problems, each with the seq where it was found (0 for the ledger as a whole). */
  problems: { seq: number; problem: string }[];
}

/** Options of {@link verifyLedger}. */
export interface VerifyLedgerOptions {
  /** Public key of a party by key id, for the reports inside receipts. */
  keyOf: (keyId: string) => Uint8Array | undefined;
  /** A head known from elsewhere: the ledger must contain it (catches truncation). */
  expectedHead?: LedgerHead;
  /** Stop after this many problems (default 100). */
  maxProblems?: number;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Verifies a whole ledger given in order: sequence numbers 1..n, every link, every hash, the
 * exchange's signature on every entry and receipt, every party's report signature, and no
 * job receipted twice.
 */
export function verifyLedger(
  entries: Iterable<LedgerEntry>,
  exchangePublicKey: Uint8Array,
  options: VerifyLedgerOptions,
): LedgerVerification {
  const problems: { seq: number; problem: string }[] = [];
  const max = options.maxProblems ?? 100;
  let prev = genesisHash(exchangePublicKey);
  let expectSeq = 1;
  let count = 0;
  let head: LedgerHead | undefined;
  let sawExpected = options.expectedHead === undefined;
  const jobs = new Set<string>();
  for (const e of entries) {
    if (problems.length >= max) break;
    count++;
    const at = typeof e?.seq === 'number' ? e.seq : expectSeq;
    const add = (problem: string) => problems.push({ seq: at, problem });
    if (e.seq !== expectSeq) add(`expected seq ${expectSeq}, found ${String(e.seq)}`);
    if (e.prevHash !== prev) add('prevHash does not link to the previous entry');
    let computed = '';
    try {
      computed = entryHash(e.prevHash, e.seq, e.receipt);
    } catch {
      add('entry is malformed');
    }
    if (computed !== e.entryHash) add('entryHash does not match the entry');
    if (
      typeof e.entryHash !== 'string' ||
      !HEX64.test(e.entryHash) ||
      typeof e.signature !== 'string' ||
      !/^[0-9a-f]{128}$/.test(e.signature) ||
      !verifySignature(
        exchangePublicKey,
        LEDGER_DOMAIN,
        hexToBytes(e.entryHash),
        hexToBytes(e.signature),
      )
    ) {
      add('exchange signature on the entry does not verify');
    }
    for (const p of checkReceipt(e.receipt, exchangePublicKey, options.keyOf)) add(`receipt: ${p}`);
    const job = e.receipt?.body?.jobId;
    if (jobs.has(job)) add(`job ${job} is receipted twice`);
    jobs.add(job);
    if (options.expectedHead && e.seq === options.expectedHead.seq) {
      if (e.entryHash === options.expectedHead.hash) sawExpected = true;
      else add('entry differs from the expected head');
    }
    prev = typeof e.entryHash === 'string' ? e.entryHash : '';
    expectSeq = (typeof e.seq === 'number' ? e.seq : expectSeq) + 1;
    head = { seq: e.seq, hash: e.entryHash };
  }
  if (!sawExpected)
    problems.push({
      seq: 0,
      problem: `the ledger ends before the expected head ${options.expectedHead!.seq}`,
    });
  return { ok: problems.length === 0, entries: count, head, problems };
}

/** True when two heads are the same position. */
export function sameHead(a: LedgerHead | undefined, b: LedgerHead | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.seq === b.seq && equalBytes(hexToBytes(a.hash), hexToBytes(b.hash));
}
