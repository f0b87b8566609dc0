/**
 * Signed requests. Every request to the exchange carries four headers: the signer's key id,
 * a millisecond timestamp, a random 16-byte nonce and an ed25519 signature over the canonical
 * request: method, path with query, SHA-256 of the body, timestamp, nonce, key id and the
 * audience (the exchange's key id, so that a request signed for one exchange is refused by
 * another). The verifier checks, in this order: header syntax, the timestamp window, the
 * signer's key, the signature, and last the nonce against a {@link ReplayGuard}, so that an
 * unauthenticated sender can neither fill the nonce cache nor learn anything beyond a 401.
 * @module
 */
import { ByteWriter, bytesToHex, hexToBytes, randomBytes, sha256, UnseenError } from '@unseen/core';
import { akeyId, type Identity, verifySignature } from './identity.js';
import type { ExchangeStore } from './store.js';

/** Header names of a signed request. */
export const AUTH_HEADERS = {
  key: 'x-unseen-key',
  timestamp: 'x-unseen-timestamp',
  nonce: 'x-unseen-nonce',
  signature: 'x-unseen-signature',
} as const;

/** Signature domain of requests. */
export const REQUEST_DOMAIN = 'unseen/exchange/request/v1';
/** Default accepted clock difference between signer and verifier: 2 minutes. */
export const DEFAULT_WINDOW_MS = 120_000;

/** The fields a request signature covers. */
export interface RequestToSign {
  method: string;
  /** Path and query exactly as sent, e.g. `/v1/jobs?state=admitted`. */
  path: string;
  body: Uint8Array;
  /** The key id of the exchange the request is for. */
  audience: string;
}

/** The canonical bytes a request signature covers. */
export function canonicalRequest(
  req: { method: string; path: string; bodyHash: Uint8Array; audience: string },
  keyId: string,
  timestamp: number,
  nonce: Uint8Array,
): Uint8Array {
  return new ByteWriter(128 + req.path.length)
    .string(req.method.toUpperCase())
    .string(req.path)
    .bytes(req.bodyHash)
    .u64(timestamp)
    .bytes(nonce)
    .string(keyId)
    .string(req.audience)
    .finish();
}

/**
 * The headers that authenticate `req` as coming from `signer`.
 * @example
 * ```ts
 * const headers = signRequest(consumer, { method: 'POST', path: '/v1/jobs', body, audience });
 * await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
 * ```
 */
export function signRequest(
  signer: Identity,
  req: RequestToSign,
  now: number = Date.now(),
): Record<string, string> {
  const nonce = randomBytes(16);
  const timestamp = Math.floor(now);
  const bytes = canonicalRequest(
    { method: req.method, path: req.path, bodyHash: sha256(req.body), audience: req.audience },
    signer.keyId,
    timestamp,
    nonce,
  );
  return {
    [AUTH_HEADERS.key]: signer.keyId,
    [AUTH_HEADERS.timestamp]: String(timestamp),
    [AUTH_HEADERS.nonce]: bytesToHex(nonce),
    [AUTH_HEADERS.signature]: bytesToHex(signer.sign(REQUEST_DOMAIN, bytes)),
  };
}

/**
 * The signature fields of {@link signRequest} as a query string (without `?`), for a client that
 * cannot set headers: a browser's `WebSocket` opening a job relay, the one route that accepts
 * them. The signature covers `req.path`, which carries no query of its own. The fields are
 * single-use (the nonce) and expire with the timestamp window, so a URL seen in a log cannot
 * open another connection.
 * @example
 * ```ts
 * const path = `/v1/jobs/${jobId}/relay`;
 * const q = signRequestQuery(me, { method: 'GET', path, body: new Uint8Array(0), audience });
 * const ws = new WebSocket(`ws://127.0.0.1:7700${path}?${q}`);
 * ```
 */
export function signRequestQuery(
  signer: Identity,
  req: RequestToSign,
  now: number = Date.now(),
): string {
  return new URLSearchParams(signRequest(signer, req, now)).toString();
}

/** Remembers nonces for as long as their timestamps are acceptable. */
export interface ReplayGuard {
  /** Accepted |now - timestamp| in ms. */
  readonly windowMs: number;
  /**
   * Accepts `(keyId, nonce)` once while `timestamp` is inside the window; records it.
   * @throws UnseenError `ERR_REPLAY` (seen before, or outside the window)
   */
  check(keyId: string, nonce: string, timestamp: number, now: number): void | Promise<void>;
}

function outsideWindow(windowMs: number, skewMs: number): UnseenError {
  return new UnseenError('ERR_REPLAY', `request timestamp is outside the ${windowMs} ms window`, {
    details: { reason: 'timestamp-window', skewMs },
  });
}

function nonceReused(): UnseenError {
  return new UnseenError('ERR_REPLAY', 'request nonce was seen before', {
    details: { reason: 'nonce-reused' },
  });
}

/** Options of {@link MemoryReplayGuard}. */
export interface ReplayGuardOptions {
  /** Accepted |now - timestamp| in ms (default 120,000). */
  windowMs?: number;
  /** Timestamps before this are refused (default: construction time, see below). */
  notBefore?: number;
  /** Nonces held at most (default 1,000,000); past it the guard answers `ERR_QUOTA_EXCEEDED`. */
  maxEntries?: number;
}

/**
 * An in-process replay guard. Its memory is lost on restart, so by default it refuses every
 * timestamp older than its own creation: a request captured before a restart cannot be
 * replayed after it (clients whose clock lags retry with a fresh signature). Exchanges that run
 * several processes share one guard in their store instead.
 */
export class MemoryReplayGuard implements ReplayGuard {
  readonly windowMs: number;
  readonly notBefore: number;
  readonly #maxEntries: number;
  readonly #seen = new Map<string, number>();
  #nextPrune = 0;

  constructor(options: ReplayGuardOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
    this.notBefore = options.notBefore ?? Date.now();
    this.#maxEntries = options.maxEntries ?? 1_000_000;
  }

  get size(): number {
    return this.#seen.size;
  }

  check(keyId: string, nonce: string, timestamp: number, now: number): void {
    if (Math.abs(now - timestamp) > this.windowMs)
      throw outsideWindow(this.windowMs, now - timestamp);
    if (timestamp < this.notBefore) {
      throw new UnseenError(
        'ERR_REPLAY',
        'request was signed before this exchange started; sign it again',
        {
          details: { reason: 'before-start' },
        },
      );
    }
    const id = `${keyId}:${nonce}`;
    if (this.#seen.has(id)) throw nonceReused();
    if (now >= this.#nextPrune || this.#seen.size >= this.#maxEntries) this.#prune(now);
    if (this.#seen.size >= this.#maxEntries) {
      throw new UnseenError(
        'ERR_QUOTA_EXCEEDED',
        'too many requests in the replay window; retry later',
      );
    }
    this.#seen.set(id, timestamp + this.windowMs);
  }

  #prune(now: number): void {
    for (const [id, expiry] of this.#seen) if (expiry < now) this.#seen.delete(id);
    this.#nextPrune = now + Math.min(this.windowMs, 10_000);
  }
}

/** Options of {@link StoreReplayGuard}. */
export interface StoreReplayGuardOptions {
  /** Accepted |now - timestamp| in ms (default 120,000). */
  windowMs?: number;
}

/**
 * A replay guard whose nonces live in the exchange's store
 * ({@link ExchangeStore.rememberNonce}): every exchange process on one store refuses a request
 * another has accepted, and a restart forgets nothing, so unlike {@link MemoryReplayGuard} it
 * needs no `notBefore` cut-off. A nonce is held until its timestamp leaves the window.
 * @example
 * ```ts
 * const server = await startExchangeServer({ exchange, replayGuard: new StoreReplayGuard(store) });
 * ```
 */
export class StoreReplayGuard implements ReplayGuard {
  readonly windowMs: number;
  readonly #store: Pick<ExchangeStore, 'rememberNonce'>;

  constructor(store: Pick<ExchangeStore, 'rememberNonce'>, options: StoreReplayGuardOptions = {}) {
    this.#store = store;
    this.windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  }

  async check(keyId: string, nonce: string, timestamp: number, now: number): Promise<void> {
    if (Math.abs(now - timestamp) > this.windowMs)
      throw outsideWindow(this.windowMs, now - timestamp);
    if (!(await this.#store.rememberNonce(keyId, nonce, timestamp + this.windowMs, now))) {
      throw nonceReused();
    }
  }
}

/** What {@link verifyRequest} needs to know about the request. */
export interface RequestToVerify {
  method: string;
  path: string;
  body: Uint8Array;
  headers: { get(name: string): string | null };
  audience: string;
}

function unauthorized(message: string, reason: string): UnseenError {
  return new UnseenError('ERR_UNAUTHORIZED', message, { details: { reason } });
}

/**
 * Authenticates a request.
 * @param lookup returns the signer's public key for a key id, or undefined if unknown
 * @returns the signer's key id
 * @throws UnseenError `ERR_UNAUTHORIZED` (missing or malformed headers, unknown key, bad
 *   signature), `ERR_REPLAY` (timestamp outside the window, nonce reused)
 */
export async function verifyRequest(
  req: RequestToVerify,
  lookup: (keyId: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined,
  guard: ReplayGuard,
  now: number = Date.now(),
): Promise<string> {
  const keyId = req.headers.get(AUTH_HEADERS.key);
  const ts = req.headers.get(AUTH_HEADERS.timestamp);
  const nonce = req.headers.get(AUTH_HEADERS.nonce);
  const sig = req.headers.get(AUTH_HEADERS.signature);
  if (keyId === null || ts === null || nonce === null || sig === null) {
    throw unauthorized(
      'request is not signed: x-unseen-key, -timestamp, -nonce and -signature are required',
      'unsigned',
    );
  }
  try {
    akeyId(keyId);
  } catch {
    throw unauthorized('x-unseen-key is not a key id', 'malformed-header');
  }
  if (!/^[0-9]{1,15}$/.test(ts) || !/^[0-9a-f]{32}$/.test(nonce) || !/^[0-9a-f]{128}$/.test(sig)) {
    throw unauthorized('x-unseen-timestamp, -nonce or -signature is malformed', 'malformed-header');
  }
  const timestamp = Number(ts);
  if (Math.abs(now - timestamp) > guard.windowMs)
    throw outsideWindow(guard.windowMs, now - timestamp);
  const publicKey = await lookup(keyId);
  if (publicKey === undefined) throw unauthorized('unknown signer', 'unknown-key');
  const bytes = canonicalRequest(
    { method: req.method, path: req.path, bodyHash: sha256(req.body), audience: req.audience },
    keyId,
    timestamp,
    hexToBytes(nonce),
  );
  if (!verifySignature(publicKey, REQUEST_DOMAIN, bytes, hexToBytes(sig))) {
    throw unauthorized('request signature does not verify', 'bad-signature');
  }
  await guard.check(keyId, nonce, timestamp, now);
  return keyId;
}
