/**
 * A typed client of the exchange API for providers, consumers and operators: every request
 * signed, every error answer turned back into the {@link UnseenError} the service raised.
 * @module
 */
import { isErrorCode, UnseenError, utf8ToBytes } from '@unseen/core';
import type { Asset, AssetDefinition } from './asset.js';
import { signRequest } from './auth.js';
import type { JobView } from './exchange.js';
import type { Identity, PublicIdentity } from './identity.js';
import type { Job, JobState, PartyRecord } from './job.js';
import type { LedgerEntry, LedgerHead } from './ledger.js';
import type { JobRequest, Policy, PolicyDefinition, PolicyUsage } from './policy.js';
import { connectRelay, type RelaySession } from './relay-client.js';
import type { MeteringRow } from './store.js';
import type { PartyReport, Signed } from './ticket.js';

/** Options of {@link ExchangeClient.connect}. */
export interface ClientOptions {
  /** Timeout of each request, ms (default 30,000). */
  timeoutMs?: number;
  /** The exchange's key id; fetched from GET /v1/exchange when absent. */
  exchangeKeyId?: string;
}

/**
 * A signed-request client.
 * @example
 * ```ts
 * const client = await ExchangeClient.connect('http://127.0.0.1:7700', consumer);
 * const { job } = await client.requestJob({ computation: 'aggregate.count', assets: ['claims'], params: {}, cohort: 100, privacy: null });
 * ```
 */
export class ExchangeClient {
  readonly url: string;
  readonly identity: Identity;
  readonly exchange: { keyId: string; publicKey: string; name: string };
  readonly #timeoutMs: number;

  private constructor(
    url: string,
    identity: Identity,
    exchange: { keyId: string; publicKey: string; name: string },
    timeoutMs: number,
  ) {
    this.url = url.replace(/\/+$/, '');
    this.identity = identity;
    this.exchange = exchange;
    this.#timeoutMs = timeoutMs;
  }

  /** Reads the exchange's identity and returns a client bound to it. */
  static async connect(
    url: string,
    identity: Identity,
    options: ClientOptions = {},
  ): Promise<ExchangeClient> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const res = await fetch(`${url.replace(/\/+$/, '')}/v1/exchange`, {
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((cause) => {
      throw new UnseenError('ERR_CHANNEL_CLOSED', `cannot reach the exchange at ${url}`, { cause });
    });
    const info = (await res.json()) as { keyId: string; publicKey: string; name: string };
    if (options.exchangeKeyId !== undefined && info.keyId !== options.exchangeKeyId) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        'the exchange at this URL has another key than expected',
      );
    }
    return new ExchangeClient(url, identity, info, timeoutMs);
  }

  /**
   * Sends one signed request.
   * @throws UnseenError with the service's code, or `ERR_TIMEOUT` / `ERR_CHANNEL_CLOSED`
   */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    try {
      return await this.#send<T>(method, path, body);
    } catch (e) {
      // A reused keep-alive connection may be reset under our feet; a read is safe to send
      // again (freshly signed). A write is not retried: it may have been applied.
      if (method === 'GET' && e instanceof UnseenError && e.code === 'ERR_CHANNEL_CLOSED') {
        return this.#send<T>(method, path, body);
      }
      throw e;
    }
  }

  async #send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const bytes = body === undefined ? new Uint8Array(0) : utf8ToBytes(JSON.stringify(body));
    const headers: Record<string, string> = signRequest(this.identity, {
      method,
      path,
      body: bytes,
      audience: this.exchange.keyId,
    });
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: bytes as Uint8Array<ArrayBuffer> }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      const timeout = (cause as { name?: string })?.name === 'TimeoutError';
      throw new UnseenError(
        timeout ? 'ERR_TIMEOUT' : 'ERR_CHANNEL_CLOSED',
        `${method} ${path}: ${timeout ? 'timed out' : 'connection failed'}`,
        { cause },
      );
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      throw new UnseenError(
        'ERR_MALFORMED_MESSAGE',
        `${method} ${path}: answer ${res.status} is not JSON`,
      );
    }
    if (!res.ok) {
      const err = (
        parsed as {
          error?: { code?: unknown; message?: unknown; details?: Record<string, unknown> };
        }
      )?.error;
      const code = isErrorCode(err?.code) ? err.code : 'ERR_INTERNAL';
      throw new UnseenError(code, String(err?.message ?? `HTTP ${res.status}`), {
        details: { ...(err?.details ?? {}), status: res.status },
      });
    }
    return parsed as T;
  }

  registerParty(identity: PublicIdentity): Promise<PartyRecord> {
    return this.request('POST', '/v1/parties', identity);
  }
  listParties(): Promise<PartyRecord[]> {
    return this.request('GET', '/v1/parties');
  }
  getParty(keyId: string): Promise<PublicIdentity> {
    return this.request('GET', `/v1/parties/${keyId}`);
  }
  registerAsset(asset: AssetDefinition): Promise<Asset> {
    return this.request('POST', '/v1/assets', asset);
  }
  listAssets(): Promise<Asset[]> {
    return this.request('GET', '/v1/assets');
  }
  getAsset(id: string): Promise<Asset> {
    return this.request('GET', `/v1/assets/${encodeURIComponent(id)}`);
  }
  setPolicy(policy: PolicyDefinition): Promise<Policy> {
    return this.request('POST', '/v1/policies', policy);
  }
  listPolicies(): Promise<{ policy: Policy; usage: PolicyUsage }[]> {
    return this.request('GET', '/v1/policies');
  }
  revokePolicy(id: string): Promise<Policy> {
    return this.request('DELETE', `/v1/policies/${id}`);
  }
  requestJob(request: JobRequest): Promise<JobView> {
    return this.request('POST', '/v1/jobs', request);
  }
  getJob(id: string): Promise<JobView> {
    return this.request('GET', `/v1/jobs/${id}`);
  }
  listJobs(filter: { state?: JobState; limit?: number } = {}): Promise<Job[]> {
    const q = new URLSearchParams();
    if (filter.state) q.set('state', filter.state);
    if (filter.limit) q.set('limit', String(filter.limit));
    const s = q.toString();
    return this.request('GET', `/v1/jobs${s ? `?${s}` : ''}`);
  }
  report(
    jobId: string,
    report: Signed<PartyReport>,
  ): Promise<{ job: Job; entry: LedgerEntry | undefined }> {
    return this.request('POST', `/v1/jobs/${jobId}/reports`, report);
  }
  listReceipts(): Promise<LedgerEntry[]> {
    return this.request('GET', '/v1/receipts');
  }
  getReceipt(jobId: string): Promise<LedgerEntry> {
    return this.request('GET', `/v1/receipts/${jobId}`);
  }
  ledger(from = 1, limit = 1000): Promise<LedgerEntry[]> {
    return this.request('GET', `/v1/ledger?from=${from}&limit=${limit}`);
  }
  ledgerHead(): Promise<LedgerHead | null> {
    return this.request('GET', '/v1/ledger/head');
  }
  metering(): Promise<MeteringRow[]> {
    return this.request('GET', '/v1/metering');
  }

  /** Opens the relay of a job the caller is a party of. */
  relay(
    view: JobView,
    options: { timeoutMs?: number; maxMessageBytes?: number } = {},
  ): Promise<RelaySession> {
    return connectRelay({
      url: this.url,
      identity: this.identity,
      exchangeKeyId: this.exchange.keyId,
      jobId: view.job.id,
      peers: view.parties.filter((p) => p.keyId !== this.identity.keyId),
      ...options,
    });
  }
}
