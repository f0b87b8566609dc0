/** Real sockets between real processes: a server here, one client per child process over TCP. */
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Channel, ringAddInto, streamChannel } from '@unseen/core';
import { runSecAggServer } from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { runScript } from '../../../test/utils/processes.js';
import { inputOf } from './fixtures/tcp-client.js';
import { inline } from './helpers.js';

const CLIENT = fileURLToPath(new URL('./fixtures/tcp-client.ts', import.meta.url));

async function startClient(port: number, id: number, length: number, quit: boolean) {
  const args = [String(port), String(id), String(length), ...(quit ? ['quit'] : [])];
  const run = await runScript(CLIENT, args, { timeoutMs: 80_000 });
  if (run.code !== 0) throw new Error(`client ${id} failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as { id: number; index?: number; quit?: boolean };
}

describe('TCP between processes', () => {
  it('four client processes, one leaving after its masked input: the sum of all four', async () => {
    const n = 4;
    const length = 257;
    const sockets: Socket[] = [];
    const listener = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    const port = (listener.address() as { port: number }).port;
    try {
      const clients = Array.from({ length: n }, (_, id) => startClient(port, id, length, id === 2));
      // Wait for every connection (the processes start in parallel).
      const deadline = Date.now() + 60_000;
      while (sockets.length < n && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(sockets.length).toBe(n);
      const channels: Channel[] = sockets.map((s) => streamChannel(s, { timeoutMs: 20_000 }));
      const [result, ...reports] = await Promise.all([
        runSecAggServer(channels, { length, threshold: 3, pool: inline, roundTimeoutMs: 20_000 }),
        ...clients,
      ]);
      // Connection order decides the indices; the client that quit did not report its index, so
      // it is the one missing from the others' reports.
      const indexOfId = new Map<number, number>();
      for (const r of reports) if (r.index !== undefined) indexOfId.set(r.id, r.index);
      const quitIndex = [0, 1, 2, 3].find((i) => ![...indexOfId.values()].includes(i))!;
      expect(result.dropped.unmask).toEqual([quitIndex]);
      expect(result.survivors).toEqual([0, 1, 2, 3]);
      const expected = new Uint32Array(length);
      for (let id = 0; id < n; id++) ringAddInto(32, expected, inputOf(id, length));
      expect(Array.from(result.sum)).toEqual(Array.from(expected));
      for (const c of channels) c.close();
    } finally {
      listener.close();
    }
  }, 90_000);
});
