/**
 * The storage interface of an exchange. Every method is async so that a networked database
 * (PostgreSQL) can implement it; the SQLite store answers synchronously inside. Two methods
 * carry the atomicity the exchange depends on:
 *
 * - {@link ExchangeStore.admitJob} reads the assets, live policies and usage of a request,
 *   calls the pure `admit` callback, and records the job and its spends, all in one
 *   serializable transaction: concurrent requests cannot both spend the last unit.
 * - {@link ExchangeStore.finishJob} moves a job to its final state and appends its receipt to
 *   the ledger in one transaction: a crash leaves either both or neither.
 *
 * Two stores implement it: {@link SqliteStore} (one file, `BEGIN IMMEDIATE` transactions) and
 * {@link PostgresStore} (`SELECT ... FOR UPDATE` on the policy rows, an advisory lock on the
 * ledger head), both with a nonce table ({@link ExchangeStore.rememberNonce}) so that every
 * exchange process on one store shares replay protection. {@link openStore} opens either from a
 * location string.
 * @module
 */
import type { Asset } from './asset.js';
import type { Denial, Job, JobState, PartyRecord } from './job.js';
import type { LedgerEntry, LedgerHead } from './ledger.js';
import type { Policy, PolicyUsage } from './policy.js';

/** How often a store deletes expired nonces ({@link ExchangeStore.rememberNonce}), ms. */
export const NONCE_PRUNE_INTERVAL_MS = 10_000;

/** What {@link ExchangeStore.admitJob} hands to the admission callback. */
export interface AdmissionSnapshot {
  /** The requested assets that exist, by id. */
  assets: ReadonlyMap<string, Asset>;
  /** The live (not revoked) policy of the consumer on each asset, with its usage. */
  policies: ReadonlyMap<string, { policy: Policy; usage: PolicyUsage }>;
}

/** Filters of {@link ExchangeStore.listJobs}. */
export interface JobFilter {
  /** Jobs of this consumer or with this provider. */
  party?: string;
  state?: JobState;
  limit?: number;
}

/** Per-consumer usage counts. */
export interface MeteringRow {
  consumer: string;
  jobs: number;
  finished: number;
  failed: number;
  denied: number;
  bytes: number;
  epsilonSpent: number;
}

/** Storage of parties, assets, policies, jobs and the ledger. */
export interface ExchangeStore {
  /** Reads a metadata value (e.g. the exchange's public key the ledger is bound to). */
  getMeta(key: string): Promise<string | undefined>;
  /** Sets a metadata value if it is not set; returns the value now stored. */
  initMeta(key: string, value: string): Promise<string>;

  /** Adds a party. @throws UnseenError `ERR_CONFLICT` if the key id exists */
  insertParty(party: PartyRecord): Promise<void>;
  getParty(keyId: string): Promise<PartyRecord | undefined>;
  listParties(): Promise<PartyRecord[]>;

  /** Adds an asset. @throws UnseenError `ERR_CONFLICT` if the id exists */
  insertAsset(asset: Asset): Promise<void>;
  getAsset(id: string): Promise<Asset | undefined>;
  listAssets(filter?: { provider?: string; ids?: readonly string[] }): Promise<Asset[]>;

  /**
   * Adds a policy, revoking the live policy of the same (asset, consumer) in the same
   * transaction. The new policy starts with the usage of the pair's latest earlier policy (live
   * or revoked): a privacy budget, once spent, stays spent, and setting a policy again (to
   * extend its expiry, say) never hands a consumer a fresh budget or quota. A provider that
   * means to allow more raises the budget or quota of the new policy.
   */
  putPolicy(policy: Policy): Promise<void>;
  getPolicy(id: string): Promise<{ policy: Policy; usage: PolicyUsage } | undefined>;
  listPolicies(filter?: {
    assetIds?: readonly string[];
    consumer?: string;
  }): Promise<{ policy: Policy; usage: PolicyUsage }[]>;
  /** Revokes a policy. @throws UnseenError `ERR_NOT_FOUND` */
  revokePolicy(id: string): Promise<void>;

  /**
   * Admits a job atomically: snapshot, `admit(snapshot)` (throws to deny), then insert the
   * job and add its spends to the policies' usage.
   */
  admitJob(
    consumer: string,
    assetIds: readonly string[],
    admit: (snapshot: AdmissionSnapshot) => Job,
  ): Promise<Job>;
  /** Records a refused request. */
  recordDenial(denial: Denial): Promise<void>;
  getJob(id: string): Promise<Job | undefined>;
  listJobs(filter?: JobFilter): Promise<Job[]>;
  /**
   * Replaces a job if it is still in one of `from` states and, when `expected` is given, still
   * equal to `expected` (compare-and-set; the state alone does not change when a second party
   * reports, so read-modify-write updates pass the job they read).
   * @returns false (and changes nothing) if the stored job did not match
   */
  updateJob(job: Job, from: readonly JobState[], expected?: Job): Promise<boolean>;
  /**
   * Ends a job and appends its receipt in one transaction. `build` receives the current head
   * and the stored job and returns the final job and the ledger entry (or throws to abort).
   * @returns the entry, or undefined if the job had already ended
   */
  finishJob(
    jobId: string,
    build: (job: Job, head: LedgerHead | undefined) => { job: Job; entry: LedgerEntry },
  ): Promise<LedgerEntry | undefined>;

  ledgerHead(): Promise<LedgerHead | undefined>;
  /** Entries with seq >= `fromSeq`, in order, at most `limit`. */
  ledgerEntries(fromSeq: number, limit: number): Promise<LedgerEntry[]>;
  ledgerEntryByJob(jobId: string): Promise<LedgerEntry | undefined>;
  metering(): Promise<MeteringRow[]>;

  /**
   * Records the nonce of an authenticated request until `expiresAt` (ms since epoch), atomically
   * across every process sharing the store. A nonce whose record expired before `now` may be
   * recorded again; expired records are pruned from time to time.
   * @returns true if `(keyId, nonce)` was recorded now, false if it is held already (a replay)
   */
  rememberNonce(keyId: string, nonce: string, expiresAt: number, now: number): Promise<boolean>;
  close(): Promise<void>;
}
