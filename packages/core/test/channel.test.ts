import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import {
  type Channel,
  equalBytes,
  isUnseenError,
  memoryChannelPair,
  streamChannel,
} from '@unseen/core';
import { afterEach, describe, expect, it } from 'vitest';

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isUnseenError(e) ? e.code : `foreign: ${String(e)}`;
  }
  return undefined;
}

describe('memoryChannelPair', () => {
  it('delivers copies, in order, both ways, and counts bytes', async () => {
    const [a, b] = memoryChannelPair();
    const buf = new Uint8Array([1, 2, 3]);
    await a.send(buf);
    buf[0] = 9; // the receiver must not see the sender's later writes
    await a.send(new Uint8Array([4]));
    await b.send(new Uint8Array([5, 6]));
    expect(Array.from(await b.receive())).toEqual([1, 2, 3]);
    expect(Array.from(await b.receive())).toEqual([4]);
    expect(Array.from(await a.receive())).toEqual([5, 6]);
    expect(a.bytesSent).toBe(4);
    expect(b.bytesReceived).toBe(4);
  });

  it('times out instead of hanging', async () => {
    const [a] = memoryChannelPair({ timeoutMs: 20 });
    const t0 = Date.now();
    expect(await codeOf(a.receive())).toBe('ERR_TIMEOUT');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
    expect(await codeOf(a.receive({ timeoutMs: 5 }))).toBe('ERR_TIMEOUT');
  });

  it('fails pending and later receives once closed, on both sides', async () => {
    const [a, b] = memoryChannelPair();
    const pendingA = a.receive();
    const pendingB = b.receive();
    a.close();
    expect(await codeOf(pendingA)).toBe('ERR_CHANNEL_CLOSED');
    expect(await codeOf(pendingB)).toBe('ERR_CHANNEL_CLOSED');
    expect(await codeOf(a.receive())).toBe('ERR_CHANNEL_CLOSED');
    expect(await codeOf(a.send(new Uint8Array(1)))).toBe('ERR_CHANNEL_CLOSED');
    expect(b.closed).toBe(true);
    a.close(); // idempotent
  });

  it('lets the receiver read what was sent before the peer closed', async () => {
    const [a, b] = memoryChannelPair();
    await a.send(new Uint8Array([7]));
    a.close();
    expect(Array.from(await b.receive())).toEqual([7]);
    expect(await codeOf(b.receive())).toBe('ERR_CHANNEL_CLOSED');
  });

  it('cancels through an AbortSignal', async () => {
    const [a] = memoryChannelPair();
    const ctrl = new AbortController();
    const p = a.receive({ signal: ctrl.signal });
    ctrl.abort();
    expect(await codeOf(p)).toBe('ERR_ABORTED');
    expect(await codeOf(a.receive({ signal: AbortSignal.abort() }))).toBe('ERR_ABORTED');
  });

  it('refuses messages above its limit', async () => {
    const [a] = memoryChannelPair({ maxMessageBytes: 8 });
    expect(await codeOf(a.send(new Uint8Array(9)))).toBe('ERR_MESSAGE_TOO_LARGE');
  });
});

describe('streamChannel over a real TCP socket on loopback', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function connectedPair(
    maxMessageBytes?: number,
  ): Promise<[Channel, Channel, Socket, Socket]> {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const accepted = once(server, 'connection');
    const client = connect(port, '127.0.0.1');
    await once(client, 'connect');
    const [serverSocket] = (await accepted) as [Socket];
    cleanups.push(() => {
      client.destroy();
      serverSocket.destroy();
      server.close();
    });
    const opts = maxMessageBytes === undefined ? {} : { maxMessageBytes };
    return [streamChannel(client, opts), streamChannel(serverSocket, opts), serverSocket, client];
  }

  it('carries messages of any size, including empty and multi-megabyte ones', async () => {
    const [c, s] = await connectedPair();
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i & 0xff);
    await c.send(new Uint8Array());
    await c.send(big);
    await c.send(new Uint8Array([42]));
    expect((await s.receive()).length).toBe(0);
    // equalBytes, not toEqual: vitest's deep equality walks 3 MB element by element.
    expect(equalBytes(await s.receive(), big)).toBe(true);
    expect(Array.from(await s.receive())).toEqual([42]);
    await s.send(new Uint8Array([1]));
    expect(Array.from(await c.receive())).toEqual([1]);
  });

  it('closes with ERR_MESSAGE_TOO_LARGE when the peer announces an oversized frame', async () => {
    const [, s, , clientSocket] = await connectedPair(16);
    // A hostile peer writes a raw header under the framing layer: 256 bytes announced.
    clientSocket.write(new Uint8Array([0, 0, 1, 0]));
    expect(await codeOf(s.receive())).toBe('ERR_MESSAGE_TOO_LARGE');
    expect(s.closed).toBe(true);
  });

  it('fails receives when the peer goes away', async () => {
    const [c, s, serverSocket] = await connectedPair();
    const pending = c.receive();
    serverSocket.destroy();
    expect(await codeOf(pending)).toBe('ERR_CHANNEL_CLOSED');
    expect(s.closed).toBe(true);
  });
});

describe('channels copy what they carry', () => {
  it('a Buffer sent on a memory channel arrives as an independent copy', async () => {
    const [a, b] = memoryChannelPair();
    const pool = Buffer.alloc(64, 7);
    await a.send(pool.subarray(8, 12));
    pool.fill(0);
    expect(Array.from(await b.receive())).toEqual([7, 7, 7, 7]);
  });
});
