/**
 * The exchange as a Web-standard `fetch` handler: `(Request) => Promise<Response>`, so that
 * it mounts in Node's http (see `node-http.ts`), Hono, Fastify, Express, Deno or Bun. JSON
 * API under `/v1`:
 *
 * | method and path | who | what |
 * |---|---|---|
 * | GET /v1/exchange | anyone | the exchange's key id and public key |
 * | POST /v1/parties, GET /v1/parties | operator | register and list parties |
 * | GET /v1/parties/:keyId | any party | a public identity |
 * | POST /v1/assets, GET /v1/assets, GET /v1/assets/:id | provider; visible assets | assets |
 * | POST /v1/policies, GET /v1/policies, GET/DELETE /v1/policies/:id | provider, operator | policies |
 * | POST /v1/jobs | consumer | request a job (201 admitted, 403/429 denied) |
 * | GET /v1/jobs, GET /v1/jobs/:id | its parties, operator | jobs with their signed tickets |
 * | POST /v1/jobs/:id/reports | its parties | a signed party report |
 * | GET /v1/receipts, GET /v1/receipts/:jobId | its parties, operator | ledger entries |
 * | GET /v1/ledger?from=&limit=, GET /v1/ledger/head | operator; any party | the ledger |
 * | GET /v1/metering | operator (all), others (own) | usage per consumer |
 *
 * Every route but GET /v1/exchange needs a signed request (see `auth.ts`). Errors are
 * `{ error: { code, message, details } }` with the status of `statusOf`.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { AUTH_HEADERS, type ReplayGuard, StoreReplayGuard, verifyRequest } from './auth.js';
import type { Exchange } from './exchange.js';
import { errorResponse, json, parseJson, readBody } from './http.js';
import { JOB_STATES, type JobState, type PartyRecord } from './job.js';

/** Options of {@link createFetchHandler}. */
export interface ServiceOptions {
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Longest time one request may take, ms (default 15,000); then 503 `ERR_TIMEOUT`. */
  requestTimeoutMs?: number;
  /**
   * Replay guard (default: a {@link StoreReplayGuard} on the exchange's store, 2-minute window:
   * every process on the store shares it, and a restart forgets nothing).
   */
  replayGuard?: ReplayGuard;
  /** Called with unexpected errors (500s); defaults to console.error. */
  onError?: (e: unknown) => void;
  /**
   * Origins of browser apps that may call the API from another origin (CORS), e.g.
   * `['https://app.example']`, or `['*']` for any (default: none, so browsers allow only pages
   * served from the exchange's own origin). Requests are authenticated by their signatures,
   * never by cookies, so an allowed origin gains nothing that its users' keys do not give it.
   */
  corsOrigins?: readonly string[];
}

/** Headers a signed request carries, for CORS preflights. */
const CORS_REQUEST_HEADERS = ['content-type', ...Object.values(AUTH_HEADERS)].join(', ');

type Handler = (ctx: {
  actor: PartyRecord;
  body: unknown;
  params: string[];
  url: URL;
}) => Promise<unknown>;

interface Route {
  method: string;
  pattern: RegExp;
  status?: number;
  handler: Handler;
}

const ID = '([0-9A-Za-z._-]{1,64})';

function routes(ex: Exchange): Route[] {
  const r = (method: string, path: string, handler: Handler, status?: number): Route => ({
    method,
    pattern: new RegExp(`^${path.replaceAll(':id', ID)}$`),
    handler,
    ...(status === undefined ? {} : { status }),
  });
  const intParam = (url: URL, name: string, def: number, max: number) => {
    const v = url.searchParams.get(name);
    if (v === null) return def;
    if (!/^[0-9]{1,9}$/.test(v))
      throw new UnseenError('ERR_INVALID_ARGUMENT', `${name}: expected an integer`);
    return aint(Number(v), name, 0, max);
  };
  const state = (url: URL): JobState | undefined => {
    const s = url.searchParams.get('state');
    if (s === null) return undefined;
    if (!(JOB_STATES as readonly string[]).includes(s))
      throw new UnseenError('ERR_INVALID_ARGUMENT', `state: unknown ${s}`);
    return s as JobState;
  };
  return [
    r('POST', '/v1/parties', ({ actor, body }) => ex.registerParty(actor, body), 201),
    r('GET', '/v1/parties', ({ actor }) => ex.listParties(actor)),
    r('GET', '/v1/parties/:id', ({ actor, params }) => ex.getParty(actor, params[0]!)),
    r('POST', '/v1/assets', ({ actor, body }) => ex.registerAsset(actor, body), 201),
    r('GET', '/v1/assets', ({ actor }) => ex.listAssets(actor)),
    r('GET', '/v1/assets/:id', ({ actor, params }) => ex.getAsset(actor, params[0]!)),
    r('POST', '/v1/policies', ({ actor, body }) => ex.setPolicy(actor, body), 201),
    r('GET', '/v1/policies', ({ actor }) => ex.listPolicies(actor)),
    r('GET', '/v1/policies/:id', ({ actor, params }) => ex.getPolicy(actor, params[0]!)),
    r('DELETE', '/v1/policies/:id', ({ actor, params }) => ex.revokePolicy(actor, params[0]!)),
    r('POST', '/v1/jobs', ({ actor, body }) => ex.requestJob(actor, body), 201),
    r('GET', '/v1/jobs', ({ actor, url }) => {
      const s = state(url);
      return ex.listJobs(actor, {
        limit: intParam(url, 'limit', 1000, 10_000),
        ...(s ? { state: s } : {}),
      });
    }),
    r('GET', '/v1/jobs/:id', ({ actor, params }) => ex.getJob(actor, params[0]!)),
    r('POST', '/v1/jobs/:id/reports', ({ actor, params, body }) =>
      ex.submitReport(actor, params[0]!, body),
    ),
    r('GET', '/v1/receipts', ({ actor, url }) =>
      ex.listReceipts(actor, intParam(url, 'limit', 1000, 10_000)),
    ),
    r('GET', '/v1/receipts/:id', ({ actor, params }) => ex.getReceipt(actor, params[0]!)),
    r('GET', '/v1/ledger', ({ actor, url }) =>
      ex.ledger(actor, intParam(url, 'from', 1, 2 ** 30), intParam(url, 'limit', 1000, 10_000)),
    ),
    r('GET', '/v1/ledger/head', async () => (await ex.store.ledgerHead()) ?? null),
    r('GET', '/v1/metering', ({ actor }) => ex.metering(actor)),
  ];
}

/** Deepest nesting of arrays and objects a request body may have (the root counts as 1). */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a request body as JSON after checking its nesting depth on the raw bytes, so that no
 * deeply nested value is ever built: later steps (canonical JSON, `JSON.stringify` into the
 * store) recurse over the value and would overflow the stack. The size is bounded before, by
 * `maxBodyBytes`. The scan is byte-wise: in UTF-8 the bytes of `"`, `\`, brackets and braces
 * never occur inside a multi-byte character.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (details `{ maxDepth }` when too deep)
 */
export function parseRequestJson(bytes: Uint8Array): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new UnseenError(
          'ERR_MALFORMED_MESSAGE',
          `request body nests deeper than ${MAX_JSON_DEPTH} levels`,
          { details: { maxDepth: MAX_JSON_DEPTH } },
        );
      }
    } else if (b === 0x5d || b === 0x7d) depth--;
  }
  return parseJson(bytes);
}

/** The origin of every request URL the Node adapter builds; the Host header never enters it. */
export const REQUEST_ORIGIN = 'http://exchange.invalid';

/**
 * The URL of an HTTP request-target in origin form (`/path?query`, RFC 9112 section 3.2.1),
 * on the fixed {@link REQUEST_ORIGIN}; `undefined` for any other form (absolute, authority,
 * asterisk) and for a target the URL parser would change (dot segments, `//`, backslashes,
 * characters it escapes, a fragment): the path that is routed and verified is then exactly
 * the one on the request line, the one a proxy or an access log sees.
 */
export function requestUrl(target: string | undefined): URL | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  let url: URL;
  try {
    url = new URL(target, REQUEST_ORIGIN);
  } catch {
    return undefined;
  }
  if (url.origin !== REQUEST_ORIGIN || url.pathname + url.search !== target) return undefined;
  return url;
}

/**
 * Authenticates a request against the exchange's parties.
 * @returns the signer and the body it signed
 */
export async function authenticate(
  ex: Exchange,
  req: Request,
  guard: ReplayGuard,
  maxBodyBytes: number,
): Promise<{ actor: PartyRecord; body: Uint8Array; url: URL }> {
  const url = new URL(req.url);
  const body = await readBody(req, maxBodyBytes);
  const keyId = await verifyRequest(
    {
      method: req.method,
      path: url.pathname + url.search,
      body,
      headers: req.headers,
      audience: ex.identity.keyId,
    },
    (k) => ex.publicKeyOf(k),
    guard,
    ex.now(),
  );
  return { actor: await ex.party(keyId), body, url };
}

/**
 * The exchange's HTTP API as a fetch handler.
 * @example
 * ```ts
 * const handler = createFetchHandler(exchange);
 * const res = await handler(new Request('http://x/v1/exchange'));
 * ```
 */
export function createFetchHandler(
  ex: Exchange,
  options: ServiceOptions = {},
): (req: Request) => Promise<Response> {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const guard = options.replayGuard ?? new StoreReplayGuard(ex.store);
  const onError =
    options.onError ?? ((e: unknown) => console.error('unseen exchange: unexpected error', e));
  const table = routes(ex);
  const cors = new Set(options.corsOrigins ?? []);
  /** The Access-Control-Allow-Origin for a request's Origin, if it is allowed. */
  const allowOrigin = (req: Request): string | undefined => {
    const origin = req.headers.get('origin');
    if (origin === null || cors.size === 0) return undefined;
    return cors.has('*') ? '*' : cors.has(origin) ? origin : undefined;
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    if (url.pathname === '/v1/exchange' && req.method === 'GET') return json(200, ex.info);
    const candidates = table.filter((r) => r.pattern.test(url.pathname));
    if (candidates.length === 0) throw new UnseenError('ERR_NOT_FOUND', `no route ${url.pathname}`);
    const route = candidates.find((r) => r.method === req.method);
    if (route === undefined) {
      return json(
        405,
        { error: { code: 'ERR_INVALID_ARGUMENT', message: `method ${req.method} not allowed` } },
        {
          allow: candidates.map((c) => c.method).join(', '),
        },
      );
    }
    const { actor, body } = await authenticate(ex, req, guard, maxBody);
    const params = route.pattern.exec(url.pathname)!.slice(1);
    const result = await route.handler({ actor, body: parseRequestJson(body), params, url });
    return json(route.status ?? 200, result ?? null);
  };

  return async (req) => {
    const origin = allowOrigin(req);
    if (origin !== undefined && req.method === 'OPTIONS') {
      // A CORS preflight (Fetch standard, "CORS protocol").
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': 'GET, POST, DELETE',
          'access-control-allow-headers': CORS_REQUEST_HEADERS,
          'access-control-max-age': '600',
          vary: 'origin',
        },
      });
    }
    const res = await answer(req);
    if (origin !== undefined) {
      res.headers.set('access-control-allow-origin', origin);
      res.headers.append('vary', 'origin');
    }
    return res;
  };

  async function answer(req: Request): Promise<Response> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new UnseenError('ERR_TIMEOUT', `request took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      return await Promise.race([handle(req), timeout]);
    } catch (e) {
      const res = errorResponse(e);
      if (res.status >= 500 && !(e instanceof UnseenError && e.code === 'ERR_TIMEOUT')) onError(e);
      return res;
    } finally {
      clearTimeout(timer);
    }
  }
}
