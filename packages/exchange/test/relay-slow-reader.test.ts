/**
 * A party that joins a job's relay and stops reading cannot make the exchange hold more than
 * its bounds, over real WebSockets on loopback: a raw `ws` client pauses its socket while its
 * peers stream frames at it through the client library. The relay's own count of the bytes it
 * holds (`relay.bufferedBytes`, what the sockets have not written out yet; not RSS) stays at
 * the high-water mark while the sender is paused, or under the job's bound with two senders;
 * the slow party is disconnected with the documented close code and `error` notice; each
 * sender's channel to it fails with a typed error saying why; other jobs run on; the bytes come
 * back. The last suite runs `unseen exchange serve` as its own process with the CLI flags.
 */
import type { Channel } from '@unseen/core';
import {
  ExchangeClient,
  type ExchangeServer,
  encodeRelayFrame,
  Identity,
  type JobView,
  RELAY_OVERHEAD,
  startExchangeServer,
} from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  assetDefinition,
  type InProcess,
  openPolicy,
  type RelayBench,
  rawRelaySocket,
  relayBench,
} from './helpers/inprocess.js';
import { startNetwork } from './helpers/network.js';

const KiB = 1024;
const HIGH_WATER = 64 * KiB;

/** A raw relay connection authenticated by headers, that records what it gets and can stop reading. */
interface Raw {
  ws: WebSocket;
  texts: Record<string, unknown>[];
  frames: number;
  closed: Promise<{ code: number; reason: string }>;
}

async function rawRelay(
  serverUrl: string,
  exchangeKeyId: string,
  id: Identity,
  jobId: string,
): Promise<Raw> {
  const raw = { texts: [], frames: 0 } as unknown as Raw;
  raw.ws = await rawRelaySocket(serverUrl, exchangeKeyId, id, jobId, (ws) => {
    raw.closed = new Promise((r) =>
      ws.once('close', (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on('message', (data, isBinary) => {
      if (isBinary) raw.frames++;
      else raw.texts.push(JSON.parse(String(data)));
    });
  });
  return raw;
}

/** Samples a value every few ms until stopped; returns the largest seen. */
function sampler(read: () => number): { stop(): number; max(): number } {
  let max = read();
  const t = setInterval(() => {
    max = Math.max(max, read());
  }, 2);
  return {
    stop() {
      clearInterval(t);
      max = Math.max(max, read());
      return max;
    },
    max: () => max,
  };
}

/** Sends `payload` on `channel` until a send fails (returns the error) or `limit` sends. */
async function stream(
  channel: Channel,
  payload: Uint8Array,
  limit: number,
): Promise<{ error: unknown; sent: number }> {
  let sent = 0;
  try {
    while (sent < limit) {
      await channel.send(payload);
      sent++;
    }
  } catch (error) {
    return { error, sent };
  }
  return { error: undefined, sent };
}

const until = async (cond: () => boolean, what: string, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe('relay: a reader that stalls', () => {
  const STALL_MS = 1500;
  const PAYLOAD = 16 * KiB;
  const FRAME = PAYLOAD + RELAY_OVERHEAD;
  let p: InProcess;
  let server: ExchangeServer;
  let consumer: ExchangeClient;
  let provider: ExchangeClient;

  let bench: RelayBench;

  beforeAll(async () => {
    bench = await relayBench({ relayHighWaterBytes: HIGH_WATER, relayStallTimeoutMs: STALL_MS });
    ({ p, server, consumer, provider } = bench);
  });
  afterAll(() => bench?.close());

  const newJob = (): Promise<JobView> => bench.newJob();

  it('pauses the sender at the high-water mark, disconnects the reader after the stall timeout, and tells the sender why', async () => {
    const slowJob = await newJob();
    const otherJob = await newJob();
    const sender = await consumer.relay(slowJob, { timeoutMs: 20_000 });
    const slow = await rawRelay(server.url, p.ex.identity.keyId, p.ids.provider, slowJob.job.id);
    slow.ws.pause(); // reads nothing from here on
    // Another job streams both ways at the same time.
    const [a, b] = await Promise.all([consumer.relay(otherJob), provider.relay(otherJob)]);
    const held = sampler(() => server.relay.bufferedBytes);
    let paused = false;
    const watch = setInterval(() => {
      paused ||= server.relay.pausedConnections > 0;
    }, 2);
    const other = (async () => {
      const toB = a.channel(p.ids.provider.keyId);
      const toA = b.channel(p.ids.consumer.keyId);
      for (let i = 0; i < 200; i++) {
        await toB.send(new Uint8Array(4096).fill(i));
        expect((await toA.receive()).every((x) => x === i)).toBe(true);
        await toA.send(new Uint8Array([i]));
        expect(await toB.receive()).toEqual(new Uint8Array([i]));
      }
    })();

    const t0 = Date.now();
    const { error, sent } = await stream(
      sender.channel(p.ids.provider.keyId),
      new Uint8Array(PAYLOAD).fill(7),
      100_000,
    );
    clearInterval(watch);
    // The sender pushed far more than the relay held: the rest waited in the kernel's buffers
    // and, once they were full, in the sender's own `send`.
    expect(sent * FRAME).toBeGreaterThan(20 * HIGH_WATER);
    expect(paused).toBe(true);
    // What the relay held for the stalled reader: it paused the sender at the high-water mark
    // (the reader stays behind until it is down to half), with what had already arrived from
    // the sender then (at most one 64 KiB socket read).
    expect(held.max()).toBeGreaterThan(HIGH_WATER / 2);
    expect(held.max()).toBeLessThan(HIGH_WATER + FRAME + 64 * KiB);
    // The sender's channel to the slow party fails with the relay's reason, after the stall.
    expect(error).toMatchObject({
      name: 'UnseenError',
      code: 'ERR_TIMEOUT',
      details: { reason: 'slow-reader', timeoutMs: STALL_MS },
    });
    expect((error as Error).message).toContain(p.ids.provider.keyId);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(STALL_MS);

    // The slow party, once it reads again, finds what was sent to it, then the reason and the
    // close code (4000 + 503).
    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed).toEqual({ code: 4503, reason: 'ERR_TIMEOUT' });
    expect(slow.frames).toBeGreaterThan(0);
    expect(slow.texts.at(-1)).toMatchObject({
      type: 'error',
      error: { code: 'ERR_TIMEOUT', details: { reason: 'slow-reader' } },
    });
    // It may not come back into the job; the bytes it held are released.
    await expect(provider.relay(slowJob)).rejects.toMatchObject({
      code: 'ERR_INVALID_STATE',
      details: { status: 409 },
    });
    await until(() => server.relay.bufferedBytes < HIGH_WATER, 'the slow reader released');
    held.stop();

    // The other job was not disturbed, and the sender's connection is still open.
    await other;
    expect(server.relay.pausedConnections).toBe(0);
    a.close();
    b.close();
    await until(() => server.relay.bufferedBytes === 0, 'all bytes written out');
    sender.close();
    for (const v of [slowJob, otherJob]) await p.ex.failJob(v.job.id, 'ERR_ABORTED', 'test over');
    expect(server.relay.connections).toBe(0);
  }, 60_000);

  it('a reader that keeps reading is only slowed down, never disconnected', async () => {
    const view = await newJob();
    const sender = await consumer.relay(view);
    const reader = await rawRelay(server.url, p.ex.identity.keyId, p.ids.provider, view.job.id);
    // It reads in short bursts: 40 ms every 600 ms, less than the stall timeout apart.
    let stop = false;
    const bursts = (async () => {
      while (!stop) {
        reader.ws.pause();
        await new Promise((r) => setTimeout(r, 600));
        reader.ws.resume();
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const toReader = sender.channel(p.ids.provider.keyId);
    const N = 1000; // 16 MiB, more than the socket buffers hold
    const held = sampler(() => server.relay.bufferedBytes);
    let paused = false;
    const watch = setInterval(() => {
      paused ||= server.relay.pausedConnections > 0;
    }, 2);
    for (let i = 0; i < N; i++) await toReader.send(new Uint8Array(PAYLOAD));
    await until(() => reader.frames === N, 'every frame', 50_000);
    stop = true;
    await bursts;
    reader.ws.resume();
    clearInterval(watch);
    expect(paused).toBe(true);
    expect(held.stop()).toBeLessThan(HIGH_WATER + FRAME + 64 * KiB);
    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    expect(reader.texts).toEqual([{ type: 'ready' }]);
    sender.close();
    reader.ws.close();
    await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test over');
  }, 90_000);
});

describe('relay: the hard bound with two senders', () => {
  // One frame the reader has not taken puts it over its high-water mark, and two do not fit in
  // the job's bound: whichever sender's frame comes next finds it behind and over the bound.
  const PER_JOB = 128 * KiB;
  const PAYLOAD = 72 * KiB;
  let p: InProcess;
  let server: ExchangeServer;
  const provider2 = Identity.generate('provider', 'insurer');

  let bench: RelayBench;

  beforeAll(async () => {
    bench = await relayBench({
      maxRelayQueuedBytes: PER_JOB,
      relayHighWaterBytes: HIGH_WATER,
      relayStallTimeoutMs: 60_000, // the bound, not the stall timeout, must act here
    });
    ({ p, server } = bench);
    const actor2 = await p.ex.registerParty(p.actors.operator, provider2.public);
    await p.ex.registerAsset(actor2, assetDefinition('claims-2'));
    await openPolicy(p, 'claims-2', p.ids.consumer.keyId, ['aggregate.count'], actor2);
  });
  afterAll(() => bench?.close());

  it("disconnects a reader that is behind when a frame for it would exceed the job's bound", async () => {
    const client = (id: Identity) => ExchangeClient.connect(server.url, id);
    const consumer = await client(p.ids.consumer);
    const view = await consumer.requestJob({
      computation: 'aggregate.count',
      assets: ['claims', 'claims-2'],
      params: {},
      cohort: 0,
      privacy: null,
    });
    expect(view.job.providers).toHaveLength(2);
    const slow = await rawRelay(server.url, p.ex.identity.keyId, p.ids.consumer, view.job.id);
    slow.ws.pause();
    const senders = await Promise.all(
      [p.ids.provider, provider2].map(async (id) => (await client(id)).relay(view)),
    );
    const held = sampler(() => server.relay.bufferedBytes);
    const results = await Promise.all(
      senders.map((s) => stream(s.channel(p.ids.consumer.keyId), new Uint8Array(PAYLOAD), 100_000)),
    );
    // Never more than the job's bound, and both senders learn why their peer is gone.
    expect(held.max()).toBeLessThanOrEqual(PER_JOB);
    for (const r of results) {
      expect(r.error).toMatchObject({
        code: 'ERR_MESSAGE_TOO_LARGE',
        details: { reason: 'slow-reader', scope: 'job', max: PER_JOB },
      });
    }
    slow.ws.resume();
    expect(await slow.closed).toEqual({ code: 4413, reason: 'ERR_MESSAGE_TOO_LARGE' });
    expect(slow.texts.at(-1)).toMatchObject({
      type: 'error',
      error: { code: 'ERR_MESSAGE_TOO_LARGE', details: { scope: 'job', max: PER_JOB } },
    });
    await until(() => server.relay.bufferedBytes === 0, 'the bytes released');
    expect(held.stop()).toBeLessThanOrEqual(PER_JOB);
    // The providers stay connected to each other.
    await senders[0]!.channel(provider2.keyId).send(new Uint8Array([1]));
    expect(await senders[1]!.channel(p.ids.provider.keyId).receive()).toEqual(new Uint8Array([1]));
    for (const s of senders) s.close();
    await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test over');
  }, 60_000);

  it('bytes a slow reader holds count toward the relay-wide bound', async () => {
    // A relay whose total bound is below one job's: the queue for an absent party shares it
    // with the send buffer of a stalled one.
    const TOTAL = 160 * KiB;
    const small = await startExchangeServer({
      exchange: p.ex,
      maxRelayTotalQueuedBytes: TOTAL,
      relayHighWaterBytes: HIGH_WATER,
      relayStallTimeoutMs: 60_000,
    });
    try {
      const consumer = await ExchangeClient.connect(small.url, p.ids.consumer);
      const job = () =>
        consumer.requestJob({
          computation: 'aggregate.count',
          assets: ['claims'],
          params: {},
          cohort: 0,
          privacy: null,
        });
      const [stalled, absent] = [await job(), await job()];
      const slow = await rawRelay(small.url, p.ex.identity.keyId, p.ids.provider, stalled.job.id);
      slow.ws.pause();
      const sender = await consumer.relay(stalled);
      const filling = stream(
        sender.channel(p.ids.provider.keyId),
        new Uint8Array(16 * KiB),
        100_000,
      );
      await until(() => small.relay.pausedConnections === 1, 'the sender paused', 30_000);
      // The sender stays paused while the reader holds more than half its high-water mark.
      const holding = small.relay.bufferedBytes;
      expect(holding).toBeGreaterThan(HIGH_WATER / 2);
      // 140 KB fits the total alone, not beside what the slow reader holds.
      const other = await rawRelay(small.url, p.ex.identity.keyId, p.ids.consumer, absent.job.id);
      const frame = encodeRelayFrame(
        p.ids.consumer,
        absent.job.id,
        p.ids.provider.keyId,
        1,
        new Uint8Array(140_000),
      );
      expect(frame.length).toBeLessThan(TOTAL);
      expect(frame.length + holding).toBeGreaterThan(TOTAL);
      other.ws.send(frame);
      expect(await other.closed).toEqual({ code: 4413, reason: 'ERR_MESSAGE_TOO_LARGE' });
      expect(other.texts.at(-1)).toMatchObject({
        error: { code: 'ERR_MESSAGE_TOO_LARGE', details: { scope: 'relay', max: TOTAL } },
      });
      expect(small.relay.queuedBytes).toBe(0);
      // Ending the stalled job frees its bytes; then the same frame is queued.
      await p.ex.failJob(stalled.job.id, 'ERR_ABORTED', 'test over');
      expect((await filling).error).toMatchObject({ code: 'ERR_CHANNEL_CLOSED' });
      await until(() => small.relay.bufferedBytes === 0, 'the stalled job released', 15_000);
      const again = await rawRelay(small.url, p.ex.identity.keyId, p.ids.consumer, absent.job.id);
      again.ws.send(frame);
      await until(() => small.relay.queuedBytes === frame.length, 'the frame queued');
      again.ws.close();
      sender.close();
      await p.ex.failJob(absent.job.id, 'ERR_ABORTED', 'test over');
    } finally {
      await small.close();
    }
  }, 60_000);
});

describe('relay: `unseen exchange serve --relay-high-water --relay-stall-timeout --cors-origin` as a process', () => {
  it('disconnects a stalled reader and tells its sender, across processes', async () => {
    const net = await startNetwork({
      withProvider: false,
      exchangeArgs: [
        '--relay-high-water',
        String(HIGH_WATER),
        '--relay-stall-timeout',
        '1s',
        '--cors-origin',
        'https://shop.example',
      ],
    });
    try {
      await net.clients.provider.setPolicy({
        assetId: 'customers',
        consumer: net.ids.consumer.keyId,
        computations: ['aggregate.count'],
        minCohort: 1,
        budget: null,
        maxEpsilonPerJob: null,
        quota: null,
        expiresAt: Date.now() + 3_600_000,
      });
      const view = await net.clients.consumer.requestJob({
        computation: 'aggregate.count',
        assets: ['customers'],
        params: {},
        cohort: 0,
        privacy: null,
      });
      const slow = await rawRelay(
        net.exchange.url,
        net.exchange.keyId,
        net.ids.provider,
        view.job.id,
      );
      slow.ws.pause();
      const sender = await net.clients.consumer.relay(view, { timeoutMs: 20_000 });
      const { error, sent } = await stream(
        sender.channel(net.ids.provider.keyId),
        new Uint8Array(16 * KiB),
        100_000,
      );
      expect(sent).toBeGreaterThan(20);
      expect(error).toMatchObject({
        code: 'ERR_TIMEOUT',
        details: { reason: 'slow-reader', timeoutMs: 1000 },
      });
      slow.ws.resume();
      expect(await slow.closed).toEqual({ code: 4503, reason: 'ERR_TIMEOUT' });
      sender.close();
      // The exchange process is alive and serving, with the origin it was told to allow.
      expect((await net.clients.consumer.getJob(view.job.id)).job.id).toBe(view.job.id);
      const preflight = await fetch(`${net.exchange.url}/v1/jobs`, {
        method: 'OPTIONS',
        headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    } finally {
      await net.close();
    }
  }, 120_000);
});
