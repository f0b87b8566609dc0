/**
 * The exchange: the one place that decides. It registers parties, assets and policies, admits
 * or denies jobs, collects the parties' reports and writes each job's receipt to the ledger.
 * It never receives data: assets arrive as descriptions and commitments, jobs as requests, and
 * results only as hashes inside reports. Every method takes the authenticated caller (`actor`)
 * and checks its role first, then ownership.
 * @module
 */
import { bytesToHex, hexToBytes, randomBytes, sha256, UnseenError } from '@unseen/core';
import type { Classification } from './asset.js';
import { type Asset, parseAssetDefinition } from './asset.js';
import { verifyStoreLedger } from './audit.js';
import { canonicalBytes } from './canonical.js';
import { type Computation, familyOf } from './computations.js';
import { type Identity, type PublicIdentity, parsePublicIdentity } from './identity.js';
import { type Denial, isFinal, type Job, type JobState, type PartyRecord } from './job.js';
import { type LedgerEntry, type LedgerHead, type LedgerVerification, makeEntry } from './ledger.js';
import {
  type ClassificationRule,
  checkClassification,
  DEFAULT_CLASSIFICATION_RULES,
  decide,
  type Policy,
  type PolicyUsage,
  type PrivacyAmount,
  parseJobRequest,
  parsePolicyDefinition,
} from './policy.js';
import { buildReceipt, RECEIPT_DOMAIN } from './receipt.js';
import { checkReport } from './report.js';
import { forbidden, requireRole } from './roles.js';
import type { ExchangeStore, MeteringRow } from './store.js';
import {
  type JobTicket,
  type PartyReport,
  REPORT_DOMAIN,
  type Signed,
  signBody,
  TICKET_DOMAIN,
  verifyBody,
} from './ticket.js';

/** Checks a computation's parameters before admission (the installed runners supply it). */
export type ParamsValidator = (
  computation: Computation,
  params: Record<string, unknown>,
  cohort: number,
  privacy: PrivacyAmount | null,
) => void;

/** Options of {@link Exchange.open}. */
export interface ExchangeOptions {
  /** The exchange's own key (role `exchange`). */
  identity: Identity;
  store: ExchangeStore;
  /** Operators to register if absent (the first operator bootstraps everything else). */
  operators?: readonly PublicIdentity[];
  /** Policy floors per classification (default {@link DEFAULT_CLASSIFICATION_RULES}). */
  rules?: Readonly<Record<Classification, ClassificationRule>>;
  /** How long an admitted job may take before it fails with `ERR_TIMEOUT` (default 10 min). */
  jobTimeoutMs?: number;
  /** Checks parameters before admission, e.g. `(c, p, n) => runners.get(c).validateParams(c, p, n)`. */
  validateParams?: ParamsValidator;
  /** After a party reports failure, how long the others have to report before the job ends (default 5 s). */
  failureGraceMs?: number;
  /** Clock (ms since epoch); tests may pin it. */
  now?: () => number;
  /**
   * Fail the jobs left `running` by a previous process (default true). Their relay
   * connections died with it. Turn off for a second process sharing a live store.
   */
  recoverRunningJobs?: boolean;
}

/** A job with the public identities of its parties, as the API returns it. */
export interface JobView {
  job: Job;
  parties: PublicIdentity[];
}

const ID_RE = /^[0-9a-f]{32}$/;

/** The exchange service logic, independent of HTTP. */
export class Exchange {
  readonly identity: Identity;
  readonly store: ExchangeStore;
  readonly rules: Readonly<Record<Classification, ClassificationRule>>;
  readonly jobTimeoutMs: number;
  readonly #validate: ParamsValidator | undefined;
  readonly #graceMs: number;
  readonly #now: () => number;
  readonly #relayed = new Map<string, number>();
  readonly #keys = new Map<string, Uint8Array>();
  readonly #jobEndListeners = new Set<(job: Job) => void>();

  private constructor(options: ExchangeOptions) {
    if (options.identity.role !== 'exchange') {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        'the exchange identity must have role "exchange"',
      );
    }
    this.identity = options.identity;
    this.store = options.store;
    this.rules = options.rules ?? DEFAULT_CLASSIFICATION_RULES;
    this.jobTimeoutMs = options.jobTimeoutMs ?? 600_000;
    this.#validate = options.validateParams;
    this.#graceMs = options.failureGraceMs ?? 5000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Opens an exchange on a store: binds the store to this exchange's key (a store holds one
   * exchange's ledger), registers bootstrap operators, and fails the jobs that were running
   * when the previous process stopped (their relay connections are gone).
   * @throws UnseenError `ERR_PARAMETER_MISMATCH` if the store belongs to another exchange key
   */
  static async open(options: ExchangeOptions): Promise<Exchange> {
    const ex = new Exchange(options);
    const pk = bytesToHex(ex.identity.publicKey);
    const bound = await ex.store.initMeta('exchangePublicKey', pk);
    if (bound !== pk) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        'this store holds the ledger of another exchange key',
      );
    }
    await ex.store.initMeta('exchangeName', ex.identity.name);
    for (const op of options.operators ?? []) {
      const p = parsePublicIdentity(op);
      if (p.role !== 'operator')
        throw new UnseenError('ERR_INVALID_ARGUMENT', 'bootstrap identities must be operators');
      if ((await ex.store.getParty(p.keyId)) === undefined) {
        try {
          await ex.store.insertParty({ ...p, addedAt: ex.now(), addedBy: ex.identity.keyId });
        } catch (e) {
          // Another exchange process on the same store registered it first.
          if (!(e instanceof UnseenError && e.code === 'ERR_CONFLICT')) throw e;
        }
      }
    }
    const stale =
      options.recoverRunningJobs === false
        ? []
        : await ex.store.listJobs({ state: 'running', limit: 10_000 });
    for (const job of stale) {
      await ex.failJob(
        job.id,
        'ERR_PROTOCOL_ABORTED',
        'the exchange restarted while the job was running',
      );
    }
    return ex;
  }

  now(): number {
    return this.#now();
  }

  /** What anyone may know about this exchange. */
  get info(): { keyId: string; publicKey: string; name: string; role: 'exchange' } {
    return {
      keyId: this.identity.keyId,
      publicKey: bytesToHex(this.identity.publicKey),
      name: this.identity.name,
      role: 'exchange',
    };
  }

  /** The public key of a registered party (cached), or undefined. */
  async publicKeyOf(keyId: string): Promise<Uint8Array | undefined> {
    if (keyId === this.identity.keyId) return this.identity.publicKey;
    const cached = this.#keys.get(keyId);
    if (cached) return cached;
    const p = await this.store.getParty(keyId);
    if (p === undefined) return undefined;
    const pk = hexToBytes(p.publicKey);
    this.#keys.set(keyId, pk);
    return pk;
  }

  /** The registered party `keyId`. @throws UnseenError `ERR_UNAUTHORIZED` if unknown */
  async party(keyId: string): Promise<PartyRecord> {
    const p = await this.store.getParty(keyId);
    if (p === undefined)
      throw new UnseenError('ERR_UNAUTHORIZED', 'unknown party', {
        details: { reason: 'unknown-key' },
      });
    return p;
  }

  // --- parties -------------------------------------------------------------------------

  async registerParty(actor: PartyRecord, body: unknown): Promise<PartyRecord> {
    requireRole(actor.role, 'party.register');
    const p = parsePublicIdentity(body);
    if (p.role === 'exchange')
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'role "exchange" cannot be registered');
    const record = { ...p, addedAt: this.now(), addedBy: actor.keyId };
    await this.store.insertParty(record);
    return record;
  }

  async listParties(actor: PartyRecord): Promise<PartyRecord[]> {
    requireRole(actor.role, 'party.list');
    return this.store.listParties();
  }

  /** Any authenticated party may read a public identity (to check signatures). */
  async getParty(_actor: PartyRecord, keyId: string): Promise<PublicIdentity> {
    const p = await this.store.getParty(keyId);
    if (p === undefined) throw new UnseenError('ERR_NOT_FOUND', `no party ${keyId}`);
    return { keyId: p.keyId, publicKey: p.publicKey, role: p.role, name: p.name };
  }

  // --- assets --------------------------------------------------------------------------

  async registerAsset(actor: PartyRecord, body: unknown): Promise<Asset> {
    requireRole(actor.role, 'asset.register');
    const asset: Asset = {
      ...parseAssetDefinition(body),
      provider: actor.keyId,
      registeredAt: this.now(),
    };
    await this.store.insertAsset(asset);
    return asset;
  }

  async #visibleAssetIds(actor: PartyRecord): Promise<Set<string>> {
    const live = (await this.store.listPolicies({ consumer: actor.keyId })).filter(
      (p) => !p.policy.revoked,
    );
    return new Set(live.map((p) => p.policy.assetId));
  }

  /** Operators see every asset, providers their own, consumers those a live policy gives them. */
  async listAssets(actor: PartyRecord): Promise<Asset[]> {
    requireRole(actor.role, 'asset.read');
    if (actor.role === 'operator') return this.store.listAssets();
    if (actor.role === 'provider') return this.store.listAssets({ provider: actor.keyId });
    const ids = [...(await this.#visibleAssetIds(actor))];
    return this.store.listAssets({ ids });
  }

  async getAsset(actor: PartyRecord, id: string): Promise<Asset> {
    requireRole(actor.role, 'asset.read');
    const a = await this.store.getAsset(id);
    const visible =
      a !== undefined &&
      (actor.role === 'operator' ||
        (actor.role === 'provider' && a.provider === actor.keyId) ||
        (actor.role === 'consumer' && (await this.#visibleAssetIds(actor)).has(id)));
    if (!visible) throw new UnseenError('ERR_NOT_FOUND', `no asset ${id}`);
    return a;
  }

  // --- policies ------------------------------------------------------------------------

  async setPolicy(actor: PartyRecord, body: unknown): Promise<Policy> {
    requireRole(actor.role, 'policy.set');
    const def = parsePolicyDefinition(body);
    const asset = await this.store.getAsset(def.assetId);
    if (asset === undefined || (actor.role === 'provider' && asset.provider !== actor.keyId)) {
      throw new UnseenError('ERR_NOT_FOUND', `no asset ${def.assetId} of this provider`);
    }
    const consumer = await this.store.getParty(def.consumer);
    if (consumer?.role !== 'consumer')
      throw new UnseenError('ERR_NOT_FOUND', `no consumer ${def.consumer}`);
    const notOffered = def.computations.filter((c) => !asset.computations.includes(c));
    if (notOffered.length > 0) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `asset ${asset.id} does not offer ${notOffered.join(', ')}`,
      );
    }
    const now = this.now();
    if (def.expiresAt <= now)
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'policy.expiresAt is in the past');
    checkClassification(def, asset, this.rules, now);
    const policy: Policy = {
      ...def,
      id: bytesToHex(randomBytes(16)),
      createdBy: actor.keyId,
      createdAt: now,
      revoked: false,
    };
    await this.store.putPolicy(policy);
    return policy;
  }

  async #ownPolicy(
    actor: PartyRecord,
    id: string,
  ): Promise<{ policy: Policy; usage: PolicyUsage }> {
    const found = ID_RE.test(id) ? await this.store.getPolicy(id) : undefined;
    if (found !== undefined) {
      if (actor.role === 'operator' || found.policy.consumer === actor.keyId) return found;
      const asset = await this.store.getAsset(found.policy.assetId);
      if (actor.role === 'provider' && asset?.provider === actor.keyId) return found;
    }
    throw new UnseenError('ERR_NOT_FOUND', `no policy ${id}`);
  }

  async revokePolicy(actor: PartyRecord, id: string): Promise<Policy> {
    requireRole(actor.role, 'policy.revoke');
    const { policy } = await this.#ownPolicy(actor, id);
    await this.store.revokePolicy(policy.id);
    return { ...policy, revoked: true };
  }

  async getPolicy(actor: PartyRecord, id: string): Promise<{ policy: Policy; usage: PolicyUsage }> {
    requireRole(actor.role, 'policy.read');
    return this.#ownPolicy(actor, id);
  }

  /** Operators see all policies, providers those on their assets, consumers their own. */
  async listPolicies(actor: PartyRecord): Promise<{ policy: Policy; usage: PolicyUsage }[]> {
    requireRole(actor.role, 'policy.read');
    if (actor.role === 'operator') return this.store.listPolicies();
    if (actor.role === 'consumer') return this.store.listPolicies({ consumer: actor.keyId });
    const assetIds = (await this.store.listAssets({ provider: actor.keyId })).map((a) => a.id);
    return this.store.listPolicies({ assetIds });
  }

  // --- jobs ----------------------------------------------------------------------------

  /**
   * Admits a job or denies it with the reason. Admission and the spend of quota and budget on
   * every policy involved are one transaction.
   * @throws UnseenError `ERR_POLICY_DENIED`, `ERR_QUOTA_EXCEEDED`, `ERR_BUDGET_EXHAUSTED`,
   *   `ERR_INVALID_ARGUMENT`
   */
  async requestJob(actor: PartyRecord, body: unknown): Promise<JobView> {
    requireRole(actor.role, 'job.request');
    const request = parseJobRequest(body);
    const family = familyOf(request.computation);
    if (family === 'psi' && request.assets.length !== 1) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'a PSI job runs on exactly one asset');
    }
    this.#validate?.(request.computation, request.params, request.cohort, request.privacy);
    const now = this.now();
    try {
      const job = await this.store.admitJob(actor.keyId, request.assets, ({ assets, policies }) => {
        const spends = request.assets.map((id) => {
          const asset = assets.get(id);
          const entry = policies.get(id);
          if (asset === undefined) {
            // Same answer as an existing asset without a policy: existence is not revealed.
            throw new UnseenError(
              'ERR_POLICY_DENIED',
              `no policy lets this consumer use asset ${id}`,
              {
                details: { reason: 'no-policy', assetId: id },
              },
            );
          }
          return decide(
            request,
            asset,
            entry?.policy,
            entry?.usage ?? { jobs: 0, epsilonMicros: 0, deltaFemtos: 0 },
            now,
            this.rules,
          );
        });
        const jobAssets = request.assets.map((id) => assets.get(id)!);
        const providers = [...new Set(jobAssets.map((a) => a.provider))].sort();
        const id = bytesToHex(randomBytes(16));
        const ticket: JobTicket = {
          v: 1,
          jobId: id,
          exchange: this.identity.keyId,
          consumer: actor.keyId,
          computation: request.computation,
          params: request.params,
          assets: jobAssets.map((a) => ({
            id: a.id,
            provider: a.provider,
            root: a.commitment.root,
            rows: a.commitment.rows,
          })),
          cohort: request.cohort,
          minCohort: Math.max(...request.assets.map((a) => policies.get(a)!.policy.minCohort)),
          privacy: request.privacy,
          issuedAt: now,
          expiresAt: now + this.jobTimeoutMs,
        };
        return {
          id,
          consumer: actor.keyId,
          providers,
          request,
          ticket: signBody(this.identity, TICKET_DOMAIN, ticket),
          spends,
          state: 'admitted',
          admittedAt: now,
          startedAt: null,
          finishedAt: null,
          deadline: now + this.jobTimeoutMs,
          reports: {},
          relayedBytes: 0,
          error: null,
          receiptSeq: null,
        };
      });
      return this.#view(job);
    } catch (e) {
      if (
        e instanceof UnseenError &&
        ['ERR_POLICY_DENIED', 'ERR_QUOTA_EXCEEDED', 'ERR_BUDGET_EXHAUSTED'].includes(e.code)
      ) {
        const reason = e.details?.reason;
        const denial: Denial = {
          consumer: actor.keyId,
          at: now,
          code: e.code,
          reason: typeof reason === 'string' ? reason.slice(0, DENIAL_MAX_REASON_CHARS) : null,
          request: { ...request, params: deniedParams(request.params) },
        };
        await this.store.recordDenial(denial);
      }
      throw e;
    }
  }

  async #view(job: Job): Promise<JobView> {
    const parties: PublicIdentity[] = [];
    for (const k of [job.consumer, ...job.providers]) {
      const p = await this.store.getParty(k);
      if (p) parties.push({ keyId: p.keyId, publicKey: p.publicKey, role: p.role, name: p.name });
    }
    return { job, parties };
  }

  /** True when `actor` is the job's consumer or one of its providers. */
  isParty(actor: PartyRecord, job: Job): boolean {
    return job.consumer === actor.keyId || job.providers.includes(actor.keyId);
  }

  async #partyJob(actor: PartyRecord, id: string): Promise<Job> {
    const job = ID_RE.test(id) ? await this.store.getJob(id) : undefined;
    if (job === undefined || (actor.role !== 'operator' && !this.isParty(actor, job))) {
      throw new UnseenError('ERR_NOT_FOUND', `no job ${id}`);
    }
    return job;
  }

  async getJob(actor: PartyRecord, id: string): Promise<JobView> {
    requireRole(actor.role, 'job.read');
    return this.#view(await this.#partyJob(actor, id));
  }

  async listJobs(
    actor: PartyRecord,
    filter: { state?: JobState; limit?: number } = {},
  ): Promise<Job[]> {
    requireRole(actor.role, 'job.read');
    return this.store.listJobs(
      actor.role === 'operator' ? filter : { ...filter, party: actor.keyId },
    );
  }

  /**
   * Checks that `actor` may join the relay of job `id` now, and marks the job running.
   * @throws UnseenError `ERR_NOT_FOUND`, `ERR_INVALID_STATE` (job over), `ERR_TIMEOUT`
   */
  async joinJob(actor: PartyRecord, id: string): Promise<Job> {
    requireRole(actor.role, 'job.relay');
    const job = await this.#partyJob(actor, id);
    if (isFinal(job.state)) throw new UnseenError('ERR_INVALID_STATE', `job ${id} is ${job.state}`);
    if (this.now() >= job.deadline) {
      await this.failJob(id, 'ERR_TIMEOUT', 'the job passed its deadline');
      throw new UnseenError('ERR_TIMEOUT', `job ${id} passed its deadline`);
    }
    return this.#markRunning(job);
  }

  async #markRunning(job: Job): Promise<Job> {
    if (job.state !== 'admitted') return job;
    const running: Job = { ...job, state: 'running', startedAt: this.now() };
    if (await this.store.updateJob(running, ['admitted'])) return running;
    return (await this.store.getJob(job.id))!;
  }

  /** Calls `listener` whenever a job ends (finished or failed); returns an unsubscribe function. */
  onJobEnd(listener: (job: Job) => void): () => void {
    this.#jobEndListeners.add(listener);
    return () => this.#jobEndListeners.delete(listener);
  }

  /** Counts bytes the relay carried for a job (flushed into the receipt). */
  addRelayedBytes(jobId: string, n: number): void {
    this.#relayed.set(jobId, (this.#relayed.get(jobId) ?? 0) + n);
  }

  /**
   * Accepts a party's signed report. When every party has reported, or one reports failure,
   * the job ends and its receipt is appended.
   * @returns the job after the report, and the ledger entry if this report ended it
   * @throws UnseenError `ERR_UNAUTHORIZED` (not this party's report), `ERR_INTEGRITY`
   *   (signature, ticket), `ERR_CONFLICT` (reported twice), `ERR_INVALID_STATE` (job over)
   */
  async submitReport(
    actor: PartyRecord,
    id: string,
    body: unknown,
  ): Promise<{ job: Job; entry: LedgerEntry | undefined }> {
    requireRole(actor.role, 'job.report');
    await this.#partyJob(actor, id); // a job it is no party to does not exist for it
    const signed = body as Signed<PartyReport>;
    const r = signed?.body;
    if (typeof r !== 'object' || r === null)
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'report: expected { body, signature }');
    if (r.party !== actor.keyId) throw forbidden('a party may only submit its own report');
    if (!verifyBody(hexToBytes(actor.publicKey), REPORT_DOMAIN, signed)) {
      throw new UnseenError('ERR_INTEGRITY', 'report signature does not verify');
    }
    // The parties report at about the same time: a report that loses the compare-and-set to
    // another party's is applied again to the job as that one left it (each attempt reads,
    // checks and writes afresh; a party's own report can only be added once).
    let next: Job | undefined;
    for (let attempt = 0; next === undefined; attempt++) {
      const job = await this.#partyJob(actor, id);
      const role = job.consumer === actor.keyId ? 'consumer' : 'provider';
      checkReport(r, job, role);
      if (isFinal(job.state))
        throw new UnseenError('ERR_INVALID_STATE', `job ${id} is already ${job.state}`);
      if (job.reports[actor.keyId] !== undefined)
        throw new UnseenError('ERR_CONFLICT', 'this party has already reported');
      const now = this.now();
      const candidate: Job = {
        ...job,
        state: 'running',
        startedAt: job.startedAt ?? now,
        reports: { ...job.reports, [actor.keyId]: { body: r, signature: signed.signature } },
        // A failure ends the job once every party has reported, or after a short grace for the
        // others to add their reports to the receipt.
        deadline:
          r.status === 'failed' ? Math.min(job.deadline, now + this.#graceMs) : job.deadline,
      };
      if (await this.store.updateJob(candidate, [job.state], job)) next = candidate;
      else if (attempt >= 16)
        throw new UnseenError('ERR_CONFLICT', `job ${id} keeps changing concurrently; retry`);
    }
    const all = [next.consumer, ...next.providers].every((k) => next.reports[k] !== undefined);
    if (!all) return { job: next, entry: undefined };
    const failed = Object.values(next.reports).find((s) => s.body.status === 'failed');
    const entry = await this.#finish(
      id,
      failed === undefined
        ? null
        : {
            code: failed.body.error ?? 'ERR_PROTOCOL_ABORTED',
            message: `party ${failed.body.party} reported failure`,
          },
    );
    return { job: (await this.store.getJob(id))!, entry };
  }

  /** Fails a job that has not ended (timeout, abort, restart) and receipts it. */
  async failJob(id: string, code: string, message: string): Promise<LedgerEntry | undefined> {
    return this.#finish(id, { code, message });
  }

  /** Fails every job past its deadline. Returns how many it failed. */
  async sweep(): Promise<number> {
    const now = this.now();
    let n = 0;
    for (const state of ['admitted', 'running'] as const) {
      for (const job of await this.store.listJobs({ state, limit: 10_000 })) {
        if (job.deadline > now) continue;
        const failed = Object.values(job.reports).find((s) => s.body.status === 'failed')?.body;
        const ended = failed
          ? await this.failJob(
              job.id,
              failed.error ?? 'ERR_PROTOCOL_ABORTED',
              `party ${failed.party} reported failure`,
            )
          : await this.failJob(job.id, 'ERR_TIMEOUT', 'the job passed its deadline');
        if (ended) n++;
      }
    }
    return n;
  }

  async #finish(
    id: string,
    error: { code: string; message: string } | null,
  ): Promise<LedgerEntry | undefined> {
    const relayed = this.#relayed.get(id) ?? 0;
    const entry = await this.store.finishJob(id, (job, head) => {
      const finishedAt = this.now();
      const receipt = buildReceipt(job, this.identity.keyId, error, relayed, finishedAt);
      const signed = signBody(this.identity, RECEIPT_DOMAIN, receipt);
      const entry = makeEntry(this.identity, head, signed);
      const done: Job = {
        ...job,
        state: receipt.status,
        finishedAt,
        relayedBytes: relayed,
        error,
        receiptSeq: entry.seq,
      };
      return { job: done, entry };
    });
    this.#relayed.delete(id);
    if (entry !== undefined) {
      const job = await this.store.getJob(id);
      if (job) for (const l of this.#jobEndListeners) l(job);
    }
    return entry;
  }

  // --- receipts, ledger, metering ------------------------------------------------------

  /** A job's receipt: for its parties and operators. @throws UnseenError `ERR_NOT_FOUND` */
  async getReceipt(actor: PartyRecord, jobId: string): Promise<LedgerEntry> {
    requireRole(actor.role, 'receipt.read');
    const job = await this.#partyJob(actor, jobId);
    const entry = await this.store.ledgerEntryByJob(job.id);
    if (entry === undefined)
      throw new UnseenError('ERR_NOT_FOUND', `job ${jobId} has no receipt yet`);
    return entry;
  }

  /** Receipts of the actor's jobs (all for operators). */
  async listReceipts(actor: PartyRecord, limit = 1000): Promise<LedgerEntry[]> {
    requireRole(actor.role, 'receipt.read');
    if (actor.role === 'operator') return this.store.ledgerEntries(1, limit);
    const out: LedgerEntry[] = [];
    for (const job of await this.store.listJobs({ party: actor.keyId, limit })) {
      if (!isFinal(job.state)) continue;
      const e = await this.store.ledgerEntryByJob(job.id);
      if (e) out.push(e);
    }
    return out;
  }

  async ledger(actor: PartyRecord, from: number, limit: number): Promise<LedgerEntry[]> {
    requireRole(actor.role, 'ledger.read');
    return this.store.ledgerEntries(from, limit);
  }

  async metering(actor: PartyRecord): Promise<MeteringRow[]> {
    requireRole(actor.role, 'metering.read');
    const rows = await this.store.metering();
    return actor.role === 'operator' ? rows : rows.filter((r) => r.consumer === actor.keyId);
  }

  /** Verifies the whole ledger in the store, page by page. */
  async verifyLedger(expectedHead?: LedgerHead): Promise<LedgerVerification> {
    return verifyStoreLedger(this.store, this.identity.publicKey, expectedHead);
  }
}

/** Largest job params a denial keeps as they are, in bytes of canonical JSON. */
export const DENIAL_MAX_PARAMS_BYTES = 4096;
/** Longest reason a denial keeps, in UTF-16 code units. */
export const DENIAL_MAX_REASON_CHARS = 256;

/**
 * The params a denial records: as they are up to {@link DENIAL_MAX_PARAMS_BYTES} of canonical
 * JSON; above, `{ $omitted: { bytes, sha256 } }`, the size and SHA-256 (hex) of their
 * canonical JSON (RFC 8785), so that a denied request costs the store a bounded number of
 * bytes whatever its body. Params without a canonical form (too deep, a lone surrogate) keep
 * only `{ $omitted: { bytes: null, sha256: null } }`.
 */
function deniedParams(params: Record<string, unknown>): Record<string, unknown> {
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes(params);
  } catch {
    return { $omitted: { bytes: null, sha256: null } };
  }
  if (bytes.length <= DENIAL_MAX_PARAMS_BYTES) return params;
  return { $omitted: { bytes: bytes.length, sha256: bytesToHex(sha256(bytes)) } };
}
