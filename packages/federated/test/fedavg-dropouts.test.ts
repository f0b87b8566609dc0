/**
 * Clients that fail, go silent or disconnect mid-round are tolerated as configured, over real
 * runners and channels with deadlines.
 */
import {
  type FedAvgClientOptions,
  FedAvgServer,
  runFedAvgServer,
  type Weights,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';
import { startClients } from './helpers.js';

const add = (d: number, n = 1): FedAvgClientOptions => ({
  train: async (w: Weights) => ({ weights: w.map((t) => t.map((v) => v + d)), numExamples: n }),
});

describe('dropouts', () => {
  it('a client whose training throws reports a failure; the others are averaged', async () => {
    const { channels, runs } = startClients({
      a: add(1),
      b: add(3),
      c: { train: async () => Promise.reject(new Error('disk full')) },
    });
    const server = new FedAvgServer({ initialWeights: [Float32Array.of(0)] });
    const r = await runFedAvgServer(server, channels, { rounds: 2, roundTimeoutMs: 2000 });
    await Promise.all(runs);
    expect(r.rounds[0]!.fit.failures).toEqual([
      expect.objectContaining({
        client: 'c',
        code: 'ERR_PROTOCOL_ABORTED',
        message: expect.stringMatching(/disk full/),
      }),
    ]);
    expect(r.weights[0]![0]).toBe(4); // two rounds of mean(1, 3)
  });

  it('a silent client times out at the deadline', async () => {
    const { channels, runs } = startClients(
      {
        a: add(1),
        b: add(3),
        c: { train: () => new Promise(() => {}) }, // never answers
      },
      20_000,
    );
    const server = new FedAvgServer({ initialWeights: [Float32Array.of(0)] });
    const t0 = Date.now();
    const r = await runFedAvgServer(server, channels, {
      rounds: 1,
      roundTimeoutMs: 300,
      shutdown: false,
    });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.rounds[0]!.fit.failures).toEqual([
      expect.objectContaining({ client: 'c', code: 'ERR_TIMEOUT' }),
    ]);
    expect(r.weights[0]![0]).toBe(2);
    for (const ch of channels.values()) ch.close();
    await Promise.all(runs.slice(0, 2)); // c is still inside its never-ending training
  });

  it('a client whose channel closes mid-round fails; later rounds go on without it', async () => {
    const { channels, runs, clientChannels } = startClients({
      a: add(1),
      b: add(3),
      c: {
        train: async () => {
          clientChannels.get('c')!.close(); // disconnects while training
          return new Promise(() => {});
        },
      },
    });
    const server = new FedAvgServer({ initialWeights: [Float32Array.of(0)] });
    const r = await runFedAvgServer(server, channels, { rounds: 2, roundTimeoutMs: 5000 });
    await Promise.all(runs.slice(0, 2));
    expect(r.rounds[0]!.fit.failures).toEqual([
      expect.objectContaining({ client: 'c', code: 'ERR_CHANNEL_CLOSED' }),
    ]);
    expect(r.rounds[1]!.fit.sampled.sort()).toEqual(['a', 'b']);
    expect(r.weights[0]![0]).toBe(4);
  });

  it('acceptFailures: false discards a round with a dropout', async () => {
    const { channels, runs } = startClients({
      a: add(1),
      b: add(3),
      c: { train: async () => Promise.reject(new Error('crash')) },
    });
    const server = new FedAvgServer({
      initialWeights: [Float32Array.of(0)],
      acceptFailures: false,
    });
    const r = await runFedAvgServer(server, channels, { rounds: 1 });
    await Promise.all(runs);
    expect(r.rounds[0]!.fit.status).toBe('discarded');
    expect(r.weights[0]![0]).toBe(0);
  });
});
