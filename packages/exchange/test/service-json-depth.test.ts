/**
 * Deeply nested JSON bodies are refused with 400 `ERR_MALFORMED_MESSAGE` before any value is
 * built, on every route that takes a body, over a real socket; bodies within the depth bound
 * reach the exchange, and nothing ever answers 500 (the handler's `onError` stays silent).
 */
import { utf8ToBytes } from '@unseen/core';
import {
  type ExchangeServer,
  MAX_JSON_DEPTH,
  parseRequestJson,
  signRequest,
  startExchangeServer,
} from '@unseen/exchange';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, inProcessExchange } from './helpers/inprocess.js';

let p: InProcess;
let server: ExchangeServer;
const unexpected: unknown[] = [];

beforeAll(async () => {
  p = await inProcessExchange();
  server = await startExchangeServer({ exchange: p.ex, onError: (e) => unexpected.push(e) });
});
afterAll(async () => {
  await server.close();
  await p.close();
});

interface Answer {
  status: number;
  error: { code: string; details?: unknown };
}

async function post(path: string, text: string): Promise<Answer> {
  const body = utf8ToBytes(text);
  const headers = {
    ...signRequest(p.ids.consumer, { method: 'POST', path, body, audience: p.ex.identity.keyId }),
    'content-type': 'application/json',
  };
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers,
    body: body as Uint8Array<ArrayBuffer>,
  });
  const json = (await res.json()) as { error: Answer['error'] };
  return { status: res.status, error: json.error };
}

/** `n` nested containers, arrays and objects as `kinds` says (cycled). */
function nest(n: number, kinds: readonly ('a' | 'o')[] = ['a']): string {
  let open = '';
  let close = '';
  for (let i = 0; i < n; i++) {
    const k = kinds[i % kinds.length];
    open += k === 'a' ? '[' : '{"k":';
    close = (k === 'a' ? ']' : '}') + close;
  }
  return open + (n > 0 ? '1' : '0') + close;
}

const job = (params: string) =>
  `{"computation":"aggregate.count","assets":["none"],"cohort":0,"params":{"x":${params}}}`;

describe('JSON nesting depth', () => {
  it('refuses 200,000 levels of nesting in job params with 400, not 500', async () => {
    const { status, error } = await post('/v1/jobs', job(nest(200_000)));
    expect(status).toBe(400);
    expect(error).toMatchObject({
      code: 'ERR_MALFORMED_MESSAGE',
      details: { maxDepth: MAX_JSON_DEPTH },
    });
    expect(unexpected).toEqual([]);
  });

  it('the bound is exact: 64 levels in all reach the exchange, 65 do not', async () => {
    // The body itself and params are 2 levels.
    const ok = await post('/v1/jobs', job(nest(MAX_JSON_DEPTH - 2, ['a', 'o'])));
    expect(ok.status).toBe(403);
    expect(ok.error.code).toBe('ERR_POLICY_DENIED');
    const deep = await post('/v1/jobs', job(nest(MAX_JSON_DEPTH - 1, ['o', 'a'])));
    expect(deep.status).toBe(400);
    expect(deep.error.code).toBe('ERR_MALFORMED_MESSAGE');
    expect(unexpected).toEqual([]);
  });

  it('brackets inside strings and escapes do not count', async () => {
    const s = JSON.stringify(`\\"${'['.repeat(10_000)}{"`);
    const { status, error } = await post('/v1/jobs', job(s));
    expect(status).toBe(403);
    expect(error.code).toBe('ERR_POLICY_DENIED');
  });

  it('refuses deep bodies on every route that takes one', async () => {
    const id = 'ab'.repeat(16);
    for (const path of ['/v1/parties', '/v1/assets', '/v1/policies', `/v1/jobs/${id}/reports`]) {
      const { status, error } = await post(path, nest(5_000, ['o', 'a']));
      expect(status, path).toBe(400);
      expect(error.code, path).toBe('ERR_MALFORMED_MESSAGE');
    }
    expect(unexpected).toEqual([]);
  });

  it('random nestings: 400 above the bound, the exchange decides below it, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 150 }),
        fc.array(fc.constantFrom('a' as const, 'o' as const), { minLength: 1, maxLength: 4 }),
        async (n, kinds) => {
          const { status, error } = await post('/v1/jobs', job(nest(n, kinds)));
          if (n + 2 > MAX_JSON_DEPTH) {
            expect(status).toBe(400);
            expect(error.code).toBe('ERR_MALFORMED_MESSAGE');
          } else {
            expect(status).toBe(403);
            expect(error.code).toBe('ERR_POLICY_DENIED');
          }
        },
      ),
      { numRuns: 40 },
    );
    expect(unexpected).toEqual([]);
  });

  it('parseRequestJson agrees with a plain depth count on random JSON', () => {
    const depthOf = (v: unknown): number =>
      typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.constantFrom('a', 'o'), { minLength: 1, maxLength: 4 }),
        (inner, n, kinds) => {
          let v: unknown = inner;
          for (let i = 0; i < n; i++) v = kinds[i % kinds.length] === 'a' ? [v] : { '"[{': v };
          const bytes = utf8ToBytes(JSON.stringify(v));
          if (depthOf(v) > MAX_JSON_DEPTH) {
            expect(() => parseRequestJson(bytes)).toThrow(
              expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
            );
          } else expect(parseRequestJson(bytes)).toEqual(JSON.parse(JSON.stringify(v)));
        },
      ),
      { numRuns: 500 },
    );
  });
});
