import { type Channel, memoryChannelPair } from '@unseen/core';
import { runSecAggClient, runSecAggServer, SecAggClient } from '@unseen/secure-aggregation';
import { describe, expect, it } from 'vitest';
import { codeOf, inline, plainSum, randomInputs } from './helpers.js';

function pairs(n: number): { server: Channel[]; client: Channel[] } {
  const server: Channel[] = [];
  const client: Channel[] = [];
  for (let i = 0; i < n; i++) {
    const [s, c] = memoryChannelPair({ timeoutMs: 5000 });
    server.push(s);
    client.push(c);
  }
  return { server, client };
}

/** A client that stops (closes its channel) once it reaches `stopAt`. */
async function quitter(channel: Channel, input: Uint32Array, stopAt: string): Promise<void> {
  const client = await SecAggClient.create({ input, pool: inline });
  for (;;) {
    if (client.stage === stopAt) {
      channel.close();
      return;
    }
    const reply = await client.handle(await channel.receive());
    if (reply) await channel.send(reply);
  }
}

describe('runners over channels', () => {
  it('every client finishes: the sum of all inputs', async () => {
    const inputs = randomInputs(6, 33);
    const { server, client } = pairs(6);
    const [result, ...clients] = await Promise.all([
      runSecAggServer(server, { length: 33, pool: inline, roundTimeoutMs: 5000 }),
      ...client.map((c, i) =>
        runSecAggClient(c, { input: inputs[i]!, expect: { length: 33 }, pool: inline }),
      ),
    ]);
    expect(result.survivors).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(result.sum)).toEqual(Array.from(plainSum(32, inputs, result.survivors)));
    expect(clients.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.failures).toEqual([]);
  });

  it('a silent client times out and drops; one that leaves after its masked input still counts', async () => {
    const inputs = randomInputs(6, 10);
    const { server, client } = pairs(6);
    const run = runSecAggServer(server, { length: 10, pool: inline, roundTimeoutMs: 400 });
    // Client 0 never answers; client 3 closes its channel after sending its masked input.
    const done = await Promise.all([
      run,
      ...client.map((c, i) =>
        i === 0
          ? Promise.resolve()
          : i === 3
            ? quitter(c, inputs[i]!, 'maskedInput')
            : runSecAggClient(c, { input: inputs[i]!, pool: inline }),
      ),
    ]);
    const result = done[0];
    expect(result.survivors).toEqual([1, 2, 3, 4, 5]);
    expect(result.dropped.advertiseKeys).toEqual([0]);
    expect(result.dropped.unmask).toEqual([3]);
    expect(Array.from(result.sum)).toEqual(Array.from(plainSum(32, inputs, [1, 2, 3, 4, 5])));
    expect(result.failures.map((f) => [f.client, f.round, f.error.code])).toEqual([
      [0, 'advertiseKeys', 'ERR_TIMEOUT'],
      [3, 'unmask', 'ERR_CHANNEL_CLOSED'],
    ]);
  });

  it('a client too slow for a round is told it was dropped instead of waiting forever', async () => {
    const inputs = randomInputs(4, 4);
    const { server, client } = pairs(4);
    const slow = (async () => {
      const c = await SecAggClient.create({ input: inputs[1]!, pool: inline });
      const setup = await client[1]!.receive();
      await new Promise((r) => setTimeout(r, 600)); // past the server's 300 ms deadline
      await client[1]!.send((await c.handle(setup))!);
      return codeOf(async () => c.handle(await client[1]!.receive()));
    })();
    const [result, slowCode] = await Promise.all([
      runSecAggServer(server, { length: 4, pool: inline, roundTimeoutMs: 300 }),
      slow,
      ...client.map((c, i) =>
        i === 1 ? Promise.resolve() : runSecAggClient(c, { input: inputs[i]!, pool: inline }),
      ),
    ]);
    expect(result.survivors).toEqual([0, 2, 3]);
    expect(slowCode).toBe('ERR_PROTOCOL_ABORTED');
  });

  it('a client that sends garbage is dropped; the others finish', async () => {
    const inputs = randomInputs(5, 4);
    const { server, client } = pairs(5);
    const garbage = (async () => {
      await client[2]!.receive();
      await client[2]!.send(new Uint8Array([1, 2, 3]));
    })();
    const [result] = await Promise.all([
      runSecAggServer(server, { length: 4, pool: inline, roundTimeoutMs: 2000 }),
      garbage,
      ...client.map((c, i) =>
        i === 2 ? Promise.resolve() : runSecAggClient(c, { input: inputs[i]!, pool: inline }),
      ),
    ]);
    expect(result.survivors).toEqual([0, 1, 3, 4]);
    expect(result.failures[0]!.error.code).toBe('ERR_MALFORMED_MESSAGE');
  });

  it('too many dropouts: the server throws, and the clients still waiting are told to abort', async () => {
    const inputs = randomInputs(5, 4);
    const { server, client } = pairs(5);
    const settled = await Promise.allSettled([
      runSecAggServer(server, { length: 4, pool: inline, roundTimeoutMs: 2000 }),
      ...client.map((c, i) =>
        i < 3
          ? quitter(c, inputs[i]!, 'shareKeys')
          : runSecAggClient(c, { input: inputs[i]!, pool: inline }),
      ),
    ]);
    const codes = settled.map((s) =>
      s.status === 'rejected' ? (s.reason as { code: string }).code : 'ok',
    );
    expect(codes).toEqual([
      'ERR_INSUFFICIENT_SHARES',
      'ok',
      'ok',
      'ok',
      'ERR_PROTOCOL_ABORTED',
      'ERR_PROTOCOL_ABORTED',
    ]);
  });

  it('an AbortSignal stops the server with ERR_ABORTED', async () => {
    const { server } = pairs(3);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    expect(
      await codeOf(() =>
        runSecAggServer(server, {
          length: 2,
          pool: inline,
          roundTimeoutMs: 10_000,
          signal: controller.signal,
        }),
      ),
    ).toBe('ERR_ABORTED');
  });
});
