/**
 * Two `unseen exchange serve --shared` processes on one store, as behind a load balancer: a
 * signed request one accepted is a replay for the other (and for itself after a restart), while
 * fresh requests work on both and see each other's writes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8ToBytes } from '@unseen/core';
import { Identity, signRequest } from '@unseen/exchange';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliProcess, startCli, stop, writeKey } from './helpers/processes.js';
import { createStoreFixture, describeStores, type StoreFixture } from './helpers/stores.js';

describeStores('exchange processes sharing one store', (kind) => {
  const exchange = Identity.generate('exchange', 'exchange');
  const operator = Identity.generate('operator', 'ops');
  let dir: string;
  let fixture: StoreFixture;
  const running: CliProcess[] = [];

  async function serve(): Promise<string> {
    const p = startCli([
      'exchange',
      'serve',
      '--store',
      fixture.location,
      '--key',
      join(dir, 'exchange.key.json'),
      '--operator',
      join(dir, 'ops.pub.json'),
      '--shared',
      '--port',
      '0',
      '--json',
    ]);
    running.push(p);
    const line = await p.waitFor<{ listening: string }>(
      (l) => typeof l.listening === 'string',
      60_000,
    );
    return line.listening;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'unseen-shared-'));
    fixture = await createStoreFixture(kind, dir);
    writeKey(dir, exchange);
    writeKey(dir, operator);
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => stop(p)));
    await fixture?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const signed = (method: 'GET' | 'POST', path: string, body = new Uint8Array(0)): RequestInit => {
    const headers = signRequest(operator, { method, path, body, audience: exchange.keyId });
    return method === 'GET'
      ? { method, headers }
      : { method, headers: { ...headers, 'content-type': 'application/json' }, body };
  };
  const send = async (url: string, path: string, init: RequestInit) => {
    const res = await fetch(url + path, init);
    const text = await res.text();
    return {
      status: res.status,
      code: res.ok ? undefined : (JSON.parse(text).error?.code as string),
    };
  };

  it('a request accepted by one process is refused as a replay by the other, and after a restart', async () => {
    const [a, b] = await Promise.all([serve(), serve()]);
    // The operator registers a provider through A; B sees it.
    const provider = Identity.generate('provider', 'bank');
    const add = signed(
      'POST',
      '/v1/parties',
      new Uint8Array(utf8ToBytes(JSON.stringify(provider.public))),
    );
    expect((await send(a, '/v1/parties', add)).status).toBe(201);
    const list = signed('GET', '/v1/parties');
    expect(await send(b, '/v1/parties', list)).toEqual({ status: 200, code: undefined });
    // Captured on the way to A (or B), replayed to the other: refused.
    expect(await send(b, '/v1/parties', add)).toEqual({ status: 401, code: 'ERR_REPLAY' });
    expect(await send(a, '/v1/parties', list)).toEqual({ status: 401, code: 'ERR_REPLAY' });
    // A restarted process remembers what it accepted.
    await stop(running.shift()!);
    const a2 = await serve();
    expect(await send(a2, '/v1/parties', list)).toEqual({ status: 401, code: 'ERR_REPLAY' });
    expect((await send(a2, '/v1/parties', signed('GET', '/v1/parties'))).status).toBe(200);
  }, 120_000);
});
