/**
 * CORS for browser apps on other origins (`corsOrigins`, `--cors-origin`), over real HTTP: an
 * allowed origin gets its preflight answered (the methods and the signature headers) and its
 * answers marked; any other origin, or an exchange without the option, gets no CORS header, so
 * browsers keep their same-origin rule. The browser side is in client-entry-chromium.test.ts.
 */
import { ExchangeClient, type ExchangeServer, startExchangeServer } from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, inProcessExchange } from './helpers/inprocess.js';

const APP = 'https://shop.example';
let p: InProcess;
let allowing: ExchangeServer;
let anyOrigin: ExchangeServer;
let plain: ExchangeServer;

beforeAll(async () => {
  p = await inProcessExchange();
  allowing = await startExchangeServer({ exchange: p.ex, corsOrigins: [APP] });
  anyOrigin = await startExchangeServer({ exchange: p.ex, corsOrigins: ['*'] });
  plain = await startExchangeServer({ exchange: p.ex });
});
afterAll(async () => {
  for (const s of [allowing, anyOrigin, plain]) await s.close();
  await p.close();
});

const preflight = (url: string, origin: string) =>
  fetch(`${url}/v1/jobs`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-unseen-key,x-unseen-signature',
    },
  });

describe('CORS', () => {
  it('answers the preflight of an allowed origin with the methods and signature headers', async () => {
    const res = await preflight(allowing.url, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
    expect(res.headers.get('access-control-allow-headers')?.split(', ')).toEqual([
      'content-type',
      'x-unseen-key',
      'x-unseen-timestamp',
      'x-unseen-nonce',
      'x-unseen-signature',
    ]);
    expect(res.headers.get('vary')).toBe('origin');
    expect(res.headers.get('content-length')).toBeNull();
    expect(await res.text()).toBe('');
    const star = await preflight(anyOrigin.url, 'http://anything.example:8080');
    expect(star.status).toBe(204);
    expect(star.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('marks answers to an allowed origin, signed requests and errors alike', async () => {
    const client = await ExchangeClient.connect(allowing.url, p.ids.consumer);
    const get = (path: string, origin: string) =>
      fetch(`${allowing.url}${path}`, { headers: { origin } });
    const info = await get('/v1/exchange', APP);
    expect(info.headers.get('access-control-allow-origin')).toBe(APP);
    const unsigned = await get('/v1/jobs', APP);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('access-control-allow-origin')).toBe(APP);
    expect(unsigned.headers.get('vary')).toContain('origin');
    expect((await client.listJobs()).length).toBe(0);
  });

  it('gives other origins, and exchanges without the option, no CORS header', async () => {
    for (const [url, origin] of [
      [allowing.url, 'https://evil.example'],
      [plain.url, APP],
    ] as const) {
      const pre = await preflight(url, origin);
      expect(pre.status).toBe(405); // OPTIONS is no route of the API
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const res = await fetch(`${url}/v1/exchange`, { headers: { origin } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
