/**
 * HTTP plumbing of the service: how an {@link UnseenError} becomes a status and a JSON body,
 * and how a request body is read under a size limit.
 * @module
 */
import { type ErrorCode, isUnseenError, UnseenError } from '@unseen/core';

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_INVALID_ARGUMENT: 400,
  ERR_MALFORMED_MESSAGE: 400,
  ERR_UNSUPPORTED_VERSION: 400,
  ERR_PARAMETER_MISMATCH: 400,
  ERR_INVALID_POINT: 400,
  ERR_INTEGRITY: 400,
  ERR_UNAUTHORIZED: 401,
  ERR_REPLAY: 401,
  ERR_POLICY_DENIED: 403,
  ERR_BUDGET_EXHAUSTED: 403,
  ERR_NOT_FOUND: 404,
  ERR_CONFLICT: 409,
  ERR_INVALID_STATE: 409,
  ERR_MESSAGE_TOO_LARGE: 413,
  ERR_QUOTA_EXCEEDED: 429,
  ERR_TIMEOUT: 503,
};

/**
 * The HTTP status of an error: 400 malformed, 401 unauthenticated or replayed, 403 denied
 * (and `ERR_UNAUTHORIZED` of an authenticated party lacking the right), 404, 409, 413 too
 * large, 429 quota, 503 timeout, 500 anything unexpected.
 */
export function statusOf(e: unknown): number {
  if (!isUnseenError(e)) return 500;
  if (e.code === 'ERR_UNAUTHORIZED' && e.details?.authenticated === true) return 403;
  return STATUS[e.code] ?? 400;
}

/** A JSON response. */
export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    },
  });
}

/**
 * The error response: `{ error: { code, message, details? } }`. Unexpected errors answer 500
 * with code `ERR_INTERNAL` and no internals.
 */
export function errorResponse(e: unknown): Response {
  const status = statusOf(e);
  if (!isUnseenError(e)) {
    return json(500, { error: new UnseenError('ERR_INTERNAL', 'internal error').toJSON() });
  }
  const body = (e as UnseenError).toJSON();
  const headers: Record<string, string> =
    status === 401 ? { 'www-authenticate': 'Unseen-Ed25519' } : {};
  if (status === 429) headers['retry-after'] = '1';
  return json(status, { error: body }, headers);
}

/**
 * Reads a body of at most `max` bytes; refuses from Content-Length before reading when it can.
 * @throws UnseenError `ERR_MESSAGE_TOO_LARGE`, `ERR_MALFORMED_MESSAGE`
 */
export async function readBody(req: Request, max: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && (!/^[0-9]{1,15}$/.test(declared) || Number(declared) > max)) {
    throw new UnseenError('ERR_MESSAGE_TOO_LARGE', `request body exceeds ${max} bytes`, {
      details: { max },
    });
  }
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new UnseenError('ERR_MESSAGE_TOO_LARGE', `request body exceeds ${max} bytes`, {
        details: { max },
      });
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Parses a JSON body. @throws UnseenError `ERR_MALFORMED_MESSAGE` */
export function parseJson(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'request body is not valid UTF-8 JSON', {
      cause,
    });
  }
}
