/** FedAvg with secure aggregation between real processes over TCP sockets. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Channel, streamChannel } from '@unseen/core';
import {
  evaluateModel,
  FedAvgServer,
  Rng,
  runFedAvgServer,
  secureAggregator,
  softmaxRegression,
} from '@unseen/federated';
import { describe, expect, it } from 'vitest';
import { blobs } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('FedAvg over TCP between processes', () => {
  it('three client processes train a model with secure aggregation', async () => {
    const sockets: Socket[] = [];
    const tcp = createServer((s) => sockets.push(s));
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const port = (tcp.address() as { port: number }).port;
    const children = [0, 1, 2].map((i) =>
      spawn(
        process.execPath,
        [
          '--conditions=source',
          '--import',
          'tsx',
          join(here, 'fixtures', 'tcp-client.ts'),
          String(port),
          String(i),
        ],
        {
          stdio: ['ignore', 'inherit', 'inherit'],
        },
      ),
    );
    try {
      while (sockets.length < 3) await new Promise((r) => setTimeout(r, 20));
      const channels = new Map<string, Channel>(
        sockets.map((s, i) => [`p${i}`, streamChannel(s, { timeoutMs: 30_000 })]),
      );
      const model = softmaxRegression({ features: 4, classes: 3 });
      const initial = await model.init(await Rng.seeded(1));
      const server = new FedAvgServer({
        initialWeights: initial,
        minFitClients: 3,
        minAvailableClients: 3,
        aggregator: secureAggregator({ clip: 2, maxExamples: 200 }),
      });
      const test = await blobs(300, 4, 3, 21);
      const before = evaluateModel(model, initial, test).accuracy;
      const result = await runFedAvgServer(server, channels, {
        rounds: 3,
        roundTimeoutMs: 20_000,
        evaluateEvery: 3,
      });
      for (const r of result.rounds) {
        expect(r.fit.status).toBe('applied');
        expect(r.fit.contributors).toHaveLength(3);
        expect(r.fit.totalWeight).toBe(300);
      }
      expect(result.rounds[2]!.evaluate!.numExamples).toBe(300);
      const after = evaluateModel(model, result.weights, test).accuracy;
      expect(after).toBeGreaterThan(Math.max(0.7, before + 0.2));
      const codes = await Promise.all(children.map((c) => once(c, 'exit')));
      expect(codes.map((c) => c[0])).toEqual([0, 0, 0]);
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill();
      tcp.close();
    }
  }, 60_000);
});
