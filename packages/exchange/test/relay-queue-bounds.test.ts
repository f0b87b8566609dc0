/**
 * The relay's memory for parties not connected yet is bounded per job and across all jobs,
 * over real WebSockets with small configured bounds: the frame that would go over the total
 * bound is refused with `ERR_MESSAGE_TOO_LARGE` (scope `relay`) and its sender closed with
 * 4413; every other connection and queued frame is untouched; the memory comes back when a
 * job ends or its last party leaves.
 */
import {
  decodeRelayFrame,
  type ExchangeServer,
  encodeRelayFrame,
  type Identity,
  type JobView,
  RELAY_OVERHEAD,
} from '@unseen/exchange';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  type InProcess,
  type RelayBench,
  rawRelaySocket,
  relayBench,
} from './helpers/inprocess.js';

const PER_JOB = 40_000;
const TOTAL = 80_000;
const PAYLOAD = 30_000;
const FRAME = PAYLOAD + RELAY_OVERHEAD;

let p: InProcess;
let server: ExchangeServer;

let bench: RelayBench;

beforeAll(async () => {
  bench = await relayBench({ maxRelayQueuedBytes: PER_JOB, maxRelayTotalQueuedBytes: TOTAL });
  ({ p, server } = bench);
});
afterAll(() => bench?.close());

const newJob = (): Promise<JobView> => bench.newJob();

interface Raw {
  ws: WebSocket;
  texts: unknown[];
  frames: Uint8Array[];
  closed: Promise<number>;
}

/** A raw, authenticated WebSocket to a job's relay, recording what it receives. */
async function rawRelay(id: Identity, jobId: string): Promise<Raw> {
  const texts: unknown[] = [];
  const frames: Uint8Array[] = [];
  let closed!: Promise<number>;
  const ws = await rawRelaySocket(server.url, p.ex.identity.keyId, id, jobId, (socket) => {
    socket.on('message', (data, isBinary) => {
      if (isBinary) frames.push(new Uint8Array(data as Buffer));
      else texts.push(JSON.parse(String(data)));
    });
    closed = new Promise<number>((r) => socket.once('close', (code) => r(code)));
  });
  return { ws, texts, frames, closed };
}

/** Sends a frame from the consumer to the provider and waits until the relay has taken it. */
async function sendToProvider(c: Raw, jobId: string, seq: number): Promise<void> {
  const frame = encodeRelayFrame(
    p.ids.consumer,
    jobId,
    p.ids.provider.keyId,
    seq,
    new Uint8Array(PAYLOAD).fill(seq),
  );
  await new Promise<void>((resolve, reject) =>
    c.ws.send(frame, (e) => (e ? reject(e) : resolve())),
  );
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe('relay queue bounds', () => {
  it('bounds the queued bytes across jobs, refuses only the frame over the bound, and frees them when jobs end', async () => {
    expect(server.relay.queuedBytes).toBe(0);
    // Three jobs, one frame each queued for the absent provider: 2 fit under the total, the
    // third would take it over (3 x 30,044 > 80,000) although its own job is under its bound.
    const views = [await newJob(), await newJob(), await newJob()];
    const socks = await Promise.all(views.map((v) => rawRelay(p.ids.consumer, v.job.id)));
    await sendToProvider(socks[0]!, views[0]!.job.id, 1);
    await sendToProvider(socks[1]!, views[1]!.job.id, 1);
    await until(() => server.relay.queuedBytes === 2 * FRAME, 'two queued frames');
    await sendToProvider(socks[2]!, views[2]!.job.id, 1);
    expect(await socks[2]!.closed).toBe(4413);
    expect(socks[2]!.texts).toEqual([
      { type: 'ready' },
      {
        type: 'error',
        error: expect.objectContaining({
          code: 'ERR_MESSAGE_TOO_LARGE',
          details: { scope: 'relay', max: TOTAL },
        }),
      },
    ]);
    expect(server.relay.queuedBytes).toBe(2 * FRAME);
    // Nothing else was disturbed: the other senders are connected and their frames wait.
    expect(socks[0]!.ws.readyState).toBe(WebSocket.OPEN);
    expect(socks[1]!.ws.readyState).toBe(WebSocket.OPEN);
    const provider0 = await rawRelay(p.ids.provider, views[0]!.job.id);
    await until(() => provider0.frames.length === 1, 'the queued frame');
    expect(provider0.frames[0]!.length).toBe(FRAME);
    expect(decodeRelayFrame(provider0.frames[0]!, PAYLOAD).payload).toEqual(
      new Uint8Array(PAYLOAD).fill(1),
    );
    expect(server.relay.queuedBytes).toBe(FRAME);
    // The refused frame was not metered.
    const refused = await p.ex.failJob(views[2]!.job.id, 'ERR_ABORTED', 'test');
    expect(refused!.receipt.body.bytes.relayed).toBe(0);

    // Ending a job frees what it held.
    await p.ex.failJob(views[1]!.job.id, 'ERR_ABORTED', 'test');
    expect(await socks[1]!.closed).toBe(1000);
    expect(server.relay.queuedBytes).toBe(0);

    // The last party leaving frees its job's queue too.
    const view = await newJob();
    const c = await rawRelay(p.ids.consumer, view.job.id);
    await sendToProvider(c, view.job.id, 1);
    await until(() => server.relay.queuedBytes === FRAME, 'a queued frame');
    c.ws.close();
    await c.closed;
    await until(() => server.relay.queuedBytes === 0, 'the queue freed');

    // With the memory back, new frames queue again up to the bound.
    const again = await Promise.all([newJob(), newJob(), newJob()]);
    const againSocks = await Promise.all(again.map((v) => rawRelay(p.ids.consumer, v.job.id)));
    for (let i = 0; i < 2; i++) {
      await sendToProvider(againSocks[i]!, again[i]!.job.id, 1);
      await until(() => server.relay.queuedBytes === (i + 1) * FRAME, 'a queued frame');
    }
    await sendToProvider(againSocks[2]!, again[2]!.job.id, 1);
    expect(await againSocks[2]!.closed).toBe(4413);
    expect(server.relay.queuedBytes).toBe(2 * FRAME);
    for (const s of [...socks, ...againSocks, provider0]) s.ws.close();
    for (const v of [...views.slice(0, 1), view, ...again])
      await p.ex.failJob(v.job.id, 'ERR_ABORTED', 'test');
    await until(() => server.relay.queuedBytes === 0, 'all queues freed');
  });

  it('keeps the per-job bound: a second frame over it is refused with scope job', async () => {
    const view = await newJob();
    const c = await rawRelay(p.ids.consumer, view.job.id);
    await sendToProvider(c, view.job.id, 1);
    await sendToProvider(c, view.job.id, 2); // 2 x 30,044 > 40,000
    expect(await c.closed).toBe(4413);
    expect(c.texts).toEqual([
      { type: 'ready' },
      {
        type: 'error',
        error: expect.objectContaining({ details: { scope: 'job', max: PER_JOB } }),
      },
    ]);
    await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test');
    await until(() => server.relay.queuedBytes === 0, 'the queue freed');
  });

  it('frames to a connected party are forwarded, not queued, and count only until it reads them', async () => {
    const view = await newJob();
    const [c, pr] = await Promise.all([
      rawRelay(p.ids.consumer, view.job.id),
      rawRelay(p.ids.provider, view.job.id),
    ]);
    // Six frames, 180 KB in all, through a job bound of 40 KB: each is freed once read.
    for (let seq = 1; seq <= 6; seq++) {
      await sendToProvider(c, view.job.id, seq);
      await until(() => pr.frames.length === seq, `frame ${seq}`);
      await until(() => server.relay.bufferedBytes === 0, 'the frame written out');
    }
    expect(server.relay.queuedBytes).toBe(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
    pr.ws.close();
    await p.ex.failJob(view.job.id, 'ERR_ABORTED', 'test');
  });
});
