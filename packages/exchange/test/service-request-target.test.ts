/**
 * The path the service routes and verifies is the request-target on the request line, never
 * the Host header: raw HTTP over a real socket with hostile Host headers and request-targets
 * in absolute, authority, asterisk and non-normalized forms. Every such request gets 400
 * `ERR_MALFORMED_MESSAGE` (or Node's own 400), the relay refuses them too, and the connection
 * and the server keep serving.
 */
import { connect } from 'node:net';
import {
  type ExchangeServer,
  type Identity,
  requestUrl,
  signRequest,
  startExchangeServer,
} from '@unseen/exchange';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, inProcessExchange } from './helpers/inprocess.js';

let p: InProcess;
let server: ExchangeServer;
let port: number;

beforeAll(async () => {
  p = await inProcessExchange();
  server = await startExchangeServer({ exchange: p.ex });
  port = Number(new URL(server.url).port);
});
afterAll(async () => {
  await server.close();
  await p.close();
});

/** Writes `text` on a fresh connection and returns everything the server sent until it closed. */
function raw(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', (d) => {
      out += d;
    });
    s.on('end', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(10_000, () => {
      s.destroy();
      reject(new Error('no answer'));
    });
  });
}

function signedHeaders(id: Identity, method: string, path: string): string {
  const h = signRequest(id, {
    method,
    path,
    body: new Uint8Array(0),
    audience: p.ex.identity.keyId,
  });
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) => answer.slice(answer.indexOf('\r\n\r\n') + 4);

describe('request-target and Host header', () => {
  it('a Host header cannot re-route a request: /v1/exchange stays /v1/exchange', async () => {
    // Signed for the path the Host header would splice in.
    const headers = signedHeaders(p.ids.operator, 'GET', '/v1/parties?x=/v1/exchange');
    const answer = await raw(
      `GET /v1/exchange HTTP/1.1\r\nhost: h/v1/parties?x=\r\n${headers}connection: close\r\n\r\n`,
    );
    expect(statusOf(answer)).toBe(200);
    const body = JSON.parse(bodyOf(answer));
    expect(body).toMatchObject({ keyId: p.ex.identity.keyId, role: 'exchange' });
  });

  it('routes and verifies the same path whatever the Host header says', async () => {
    for (const host of ['evil.example', 'h/v1/jobs?', '127.0.0.1:1', 'x@y', '']) {
      const headers = signedHeaders(p.ids.operator, 'GET', '/v1/parties');
      const answer = await raw(
        `GET /v1/parties HTTP/1.1\r\nhost: ${host}\r\n${headers}connection: close\r\n\r\n`,
      );
      // Node itself refuses some Host values; any it accepts is served as /v1/parties.
      if (statusOf(answer) === 400) continue;
      expect(statusOf(answer)).toBe(200);
      expect(Array.isArray(JSON.parse(bodyOf(answer)))).toBe(true);
    }
  });

  it('refuses absolute-form, asterisk-form and non-normalized request-targets with 400', async () => {
    const targets: [method: string, target: string, signedPath: string][] = [
      ['GET', 'http://h/v1/parties', '/v1/parties'],
      ['GET', `http://127.0.0.1:${port}/v1/parties`, '/v1/parties'],
      ['OPTIONS', '*', '*'],
      ['GET', '//h/v1/parties', '/v1/parties'],
      ['GET', '/v1/exchange/../parties', '/v1/parties'],
      ['GET', '/v1/./parties', '/v1/parties'],
      ['GET', '/v1/%2e%2e/v1/parties', '/v1/parties'],
      ['GET', '/v1/parties#frag', '/v1/parties'],
      ['GET', '/v1/parties?', '/v1/parties'],
      ['GET', '/v1/part\\ies', '/v1/part/ies'],
    ];
    for (const [method, target, signedPath] of targets) {
      const headers = signedHeaders(p.ids.operator, method, signedPath);
      const answer = await raw(
        `${method} ${target} HTTP/1.1\r\nhost: x\r\n${headers}connection: close\r\n\r\n`,
      );
      expect(statusOf(answer), target).toBe(400);
      const body = bodyOf(answer);
      if (body.length > 0)
        expect(JSON.parse(body).error.code, target).toBe('ERR_MALFORMED_MESSAGE');
    }
    expect((await fetch(`${server.url}/v1/exchange`)).status).toBe(200);
  });

  it('a refused request-target leaves a keep-alive connection serving the next request', async () => {
    const answer = await raw(
      'GET http://h/v1/exchange HTTP/1.1\r\nhost: x\r\n\r\n' +
        'GET /v1/exchange HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n',
    );
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([400, 200]);
  });

  it('the relay refuses upgrades on non-normalized request-targets', async () => {
    const jobPath = `/v1/jobs/${'ab'.repeat(16)}/relay`;
    for (const target of [`/v1/jobs/x/..${jobPath.slice(8)}`, `//h${jobPath}`]) {
      const headers = signedHeaders(p.ids.consumer, 'GET', jobPath);
      const answer = await raw(
        `GET ${target} HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n` +
          `sec-websocket-version: 13\r\nsec-websocket-key: ${Buffer.alloc(16).toString('base64')}\r\n` +
          `${headers}\r\n`,
      );
      expect(statusOf(answer), target).toBe(400);
      expect(JSON.parse(bodyOf(answer)).error.code).toBe('ERR_MALFORMED_MESSAGE');
    }
  });

  it('requestUrl keeps exactly the origin-form targets the URL parser leaves unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Za-z0-9._~%-]{0,8}$/), { minLength: 1, maxLength: 5 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9=&._-]{1,12}$/), { nil: undefined }),
        (segments, query) => {
          const target = `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`;
          const url = requestUrl(target);
          let parsed: URL | undefined;
          try {
            parsed = new URL(target, 'http://x');
          } catch {}
          const unchanged =
            !target.startsWith('//') &&
            parsed !== undefined &&
            parsed.pathname + parsed.search === target;
          expect(url !== undefined).toBe(unchanged);
          if (url !== undefined) expect(url.pathname + url.search).toBe(target);
        },
      ),
      { numRuns: 500 },
    );
    expect(requestUrl('http://h/v1/parties')).toBeUndefined();
    expect(requestUrl('*')).toBeUndefined();
    expect(requestUrl(undefined)).toBeUndefined();
    expect(requestUrl('/v1/jobs?limit=5')?.href).toBe('http://exchange.invalid/v1/jobs?limit=5');
  });
});
