/**
 * The relay over real WebSockets on loopback: frames go through unchanged and authenticated
 * end to end; forged, replayed, misaddressed and malformed frames close the sender's
 * connection with a typed code; the exchange keeps serving.
 */
import { bytesToHex, randomBytes, UnseenError } from '@unseen/core';
import {
  decodeRelayFrame,
  ExchangeClient,
  type ExchangeServer,
  encodeRelayFrame,
  Identity,
  type JobView,
  RELAY_OVERHEAD,
  signRequest,
  verifyRelayFrame,
  webSocketChannel,
} from '@unseen/exchange';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  type InProcess,
  type RelayBench,
  rawRelaySocket,
  relayBench,
} from './helpers/inprocess.js';

let p: InProcess;
let server: ExchangeServer;
let consumer: ExchangeClient;
let provider: ExchangeClient;

let bench: RelayBench;

beforeAll(async () => {
  bench = await relayBench();
  ({ p, server, consumer, provider } = bench);
});
afterAll(() => bench?.close());

const newJob = (): Promise<JobView> => bench.newJob();

/** A raw, authenticated WebSocket to a job's relay. */
const rawRelay = (id: Identity, jobId: string) =>
  rawRelaySocket(server.url, p.ex.identity.keyId, id, jobId);

const closed = (ws: WebSocket) => new Promise<number>((r) => ws.once('close', (code) => r(code)));

describe('relay frames', () => {
  it('round-trip, and any flipped bit breaks the signature or the decoding', () => {
    const a = Identity.generate('consumer', 'a');
    const job = bytesToHex(randomBytes(16));
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.nat(),
        (payload, seq, bit) => {
          const bytes = encodeRelayFrame(a, job, p.ids.provider.keyId, seq, payload);
          expect(bytes.length).toBe(payload.length + RELAY_OVERHEAD);
          const f = decodeRelayFrame(bytes, 1024);
          expect(f).toMatchObject({ jobId: job, from: a.keyId, to: p.ids.provider.keyId, seq });
          expect(f.payload).toEqual(payload);
          expect(verifyRelayFrame(f, a.publicKey)).toBe(true);
          const flipped = bytes.slice();
          flipped[(bit >>> 3) % flipped.length]! ^= 1 << (bit & 7);
          let ok = false;
          try {
            ok = verifyRelayFrame(decodeRelayFrame(flipped, 1024), a.publicKey);
          } catch (e) {
            expect(e).toBeInstanceOf(UnseenError);
          }
          expect(ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
    expect(() =>
      decodeRelayFrame(encodeRelayFrame(a, job, a.keyId, 1, new Uint8Array(2000)), 1024),
    ).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_TOO_LARGE' }));
  });
});

describe('relay service', () => {
  it('carries messages both ways between the parties, in order, and meters them', async () => {
    const view = await newJob();
    const [c, pr] = await Promise.all([consumer.relay(view), provider.relay(view)]);
    const toProvider = c.channel(p.ids.provider.keyId);
    const toConsumer = pr.channel(p.ids.consumer.keyId);
    for (let i = 0; i < 20; i++) await toProvider.send(new Uint8Array([i, 1, 2]));
    for (let i = 0; i < 20; i++)
      expect(await toConsumer.receive()).toEqual(new Uint8Array([i, 1, 2]));
    await toConsumer.send(new Uint8Array(100_000));
    expect((await toProvider.receive()).length).toBe(100_000);
    c.close();
    pr.close();
    const entry = await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test over');
    expect(entry!.receipt.body.bytes.relayed).toBe(
      20 * (3 + RELAY_OVERHEAD) + 100_000 + RELAY_OVERHEAD,
    );
  });

  it('queues frames for a party that has not joined yet', async () => {
    const view = await newJob();
    const c = await consumer.relay(view);
    await c.channel(p.ids.provider.keyId).send(new Uint8Array([7]));
    const pr = await provider.relay(view);
    expect(await pr.channel(p.ids.consumer.keyId).receive()).toEqual(new Uint8Array([7]));
    c.close();
    pr.close();
  });

  it('closes a sender that forges, replays, misaddresses or mangles frames', async () => {
    const stranger = Identity.generate('consumer', 'stranger');
    const cases: [string, (jobId: string) => Uint8Array, number][] = [
      [
        'signed by another key',
        (j) => {
          const f = encodeRelayFrame(stranger, j, p.ids.provider.keyId, 1, new Uint8Array([1]));
          f.set(Buffer.from(p.ids.consumer.keyId, 'hex'), 18);
          return f;
        },
        4401,
      ],
      [
        'from another party',
        (j) => encodeRelayFrame(p.ids.provider, j, p.ids.consumer.keyId, 1, new Uint8Array([1])),
        4401,
      ],
      [
        'to a non-party',
        (j) => encodeRelayFrame(p.ids.consumer, j, stranger.keyId, 1, new Uint8Array([1])),
        4400,
      ],
      [
        'to itself',
        (j) => encodeRelayFrame(p.ids.consumer, j, p.ids.consumer.keyId, 1, new Uint8Array([1])),
        4400,
      ],
      [
        'seq not 1',
        (j) => encodeRelayFrame(p.ids.consumer, j, p.ids.provider.keyId, 2, new Uint8Array([1])),
        4401,
      ],
      [
        'another job',
        () =>
          encodeRelayFrame(
            p.ids.consumer,
            bytesToHex(randomBytes(16)),
            p.ids.provider.keyId,
            1,
            new Uint8Array([1]),
          ),
        4401,
      ],
      ['garbage', () => randomBytes(150), 4400],
    ];
    for (const [, frame, code] of cases) {
      const view = await newJob();
      const ws = await rawRelay(p.ids.consumer, view.job.id);
      const done = closed(ws);
      ws.send(frame(view.job.id));
      expect(await done).toBe(code);
    }
    // Replaying an accepted frame.
    const view = await newJob();
    const ws = await rawRelay(p.ids.consumer, view.job.id);
    const frame = encodeRelayFrame(
      p.ids.consumer,
      view.job.id,
      p.ids.provider.keyId,
      1,
      new Uint8Array([1]),
    );
    ws.send(frame);
    const done = closed(ws);
    ws.send(frame);
    expect(await done).toBe(4401);
    // Text frames are refused too.
    const ws2 = await rawRelay(p.ids.provider, view.job.id);
    const done2 = closed(ws2);
    ws2.send('hello');
    expect(await done2).toBe(4400);
    expect((await fetch(`${server.url}/v1/exchange`)).status).toBe(200);
  });

  it('refuses unsigned, replayed and non-party upgrades with HTTP errors', async () => {
    const view = await newJob();
    const url = `${server.url.replace('http', 'ws')}/v1/jobs/${view.job.id}/relay`;
    const status = (ws: WebSocket) =>
      new Promise<number>((r) => {
        ws.once('unexpected-response', (_q, res) => r(res.statusCode ?? 0));
        ws.once('open', () => r(101));
        ws.once('error', () => {});
      });
    expect(await status(new WebSocket(url))).toBe(401);
    const path = `/v1/jobs/${view.job.id}/relay`;
    const headers = signRequest(p.ids.consumer, {
      method: 'GET',
      path,
      body: new Uint8Array(0),
      audience: p.ex.identity.keyId,
    });
    const first = new WebSocket(url, { headers });
    expect(await status(first)).toBe(101);
    expect(await status(new WebSocket(url, { headers }))).toBe(401);
    first.close();
    await expect(
      (await ExchangeClient.connect(server.url, p.ids.consumer2)).relay(view),
    ).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' }); // another consumer's job does not exist for it
  });

  it('the receiving party rejects frames the relay did not check (end-to-end authentication)', async () => {
    // A rogue relay: a bare WebSocket server that forwards a forged frame.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const view = await newJob();
    wss.on('connection', (ws) => {
      ws.send(JSON.stringify({ type: 'ready' }));
      ws.send(
        encodeRelayFrame(
          Identity.generate('provider', 'forger'),
          view.job.id,
          p.ids.consumer.keyId,
          1,
          new Uint8Array([9]),
        ),
      );
    });
    const { connectRelay } = await import('@unseen/exchange');
    const session = await connectRelay({
      url: `http://127.0.0.1:${port}`,
      identity: p.ids.consumer,
      exchangeKeyId: p.ex.identity.keyId,
      jobId: view.job.id,
      peers: view.parties,
    });
    await expect(
      session.channel(p.ids.provider.keyId).receive({ timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    session.close();
    wss.close();
  });

  it('webSocketChannel is a Channel over any WebSocket, both ends', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const serverSide = new Promise<ReturnType<typeof webSocketChannel>>((r) =>
      wss.once('connection', (ws) => r(webSocketChannel(ws as never))),
    );
    const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    await new Promise((r) => ws.once('open', r));
    const a = webSocketChannel(ws as never, { timeoutMs: 2000 });
    const b = await serverSide;
    await a.send(new Uint8Array([1, 2, 3]));
    expect(await b.receive()).toEqual(new Uint8Array([1, 2, 3]));
    await b.send(new Uint8Array(70_000));
    expect((await a.receive()).length).toBe(70_000);
    await expect(a.receive({ timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    const pending = b.receive();
    a.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
    wss.close();
  });
});
