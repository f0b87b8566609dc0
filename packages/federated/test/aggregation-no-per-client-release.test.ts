/**
 * Nothing data-dependent leaves a client on its own when updates are hidden: the FIT_RES of
 * secure and homomorphic aggregation carries no count of clipped values, no example count and no
 * metric; the clipped count reaches the server only as a sum over clients, and under DP not at
 * all. Under DP, plain clients send no example count or metric either, and federated evaluation
 * (each client's loss and accuracy) does not run.
 */
import { generateSigningKey } from '@unseen/core';
import {
  type ClientAggregator,
  createHomomorphicKeyHolder,
  type DpOptions,
  decodeFederated,
  FedAvgClient,
  FedAvgServer,
  federatedKeyHolder,
  homomorphicAggregator,
  homomorphicClientAggregator,
  MSG,
  runFedAvgServer,
  type ServerAggregator,
  secureAggregator,
  secureClientAggregator,
  type Weights,
} from '@unseen/federated';
import type { KeyHolder } from '@unseen/homomorphic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClients } from './helpers.js';

const initial: Weights = [new Float32Array(6).fill(0.1)];
// Every update value exceeds the encoding range (clip 0.5): a client clips all 6.
const train = async (w: Weights) => ({ weights: [w[0]!.map((v) => v + 2)], numExamples: 17 });
const dp: DpOptions = {
  noiseMultiplier: 0.5,
  clipNorm: 10,
  noise: 'distributed',
  sampling: 'fixed',
};

const identities = Array.from({ length: 3 }, () => generateSigningKey());
let holder: KeyHolder<'bfv'>;
let holderDp: KeyHolder<'bfv'>;

beforeAll(async () => {
  const options = {
    shape: [6],
    contributors: identities.map((k) => k.publicKey),
    clip: 0.5,
  };
  holder = await createHomomorphicKeyHolder({ ...options, maxExamples: 100 });
  holderDp = await createHomomorphicKeyHolder({ ...options, maxExamples: 1 });
}, 60_000);

afterAll(() => {
  holder.dispose();
  holderDp.dispose();
});

function modes(
  withDp: boolean,
): [string, () => ServerAggregator, (i: number) => ClientAggregator][] {
  const h = () => (withDp ? holderDp : holder); // created in beforeAll
  return [
    [
      'secure',
      () => secureAggregator({ clip: 0.5, maxExamples: 100 }),
      () => secureClientAggregator(),
    ],
    [
      'homomorphic',
      () =>
        homomorphicAggregator({ keyHolder: federatedKeyHolder(h()), clip: 0.5, maxExamples: 100 }),
      (i) => homomorphicClientAggregator({ pool: null, signingKey: identities[i]!.secretKey }),
    ],
  ];
}

describe('no per-client release of clipped counts or metrics', () => {
  for (const withDp of [false, true]) {
    for (const [name, serverAgg, clientAgg] of modes(withDp)) {
      it(`${name}${withDp ? ' under DP' : ''}: the FIT_RES carries nothing of the client; the count only as a sum`, async () => {
        const server = new FedAvgServer({
          initialWeights: initial,
          aggregator: serverAgg(),
          ...(withDp ? { dp } : {}),
        });
        // What each client sends, read off the wire.
        const out = await server.startFit(['c0', 'c1', 'c2']);
        for (const [id, fitIns] of out) {
          const i = Number(id.slice(1));
          const client = new FedAvgClient({
            train,
            aggregators: { [name]: clientAgg(i) },
          });
          const replies = await client.handle(fitIns);
          const fitRes = decodeFederated(replies[0]!).message;
          expect(fitRes.type).toBe(MSG.FIT_RES);
          if (fitRes.type !== MSG.FIT_RES) continue;
          expect(fitRes.metrics).toEqual({});
          expect(fitRes.numExamples).toBe(0);
          expect(fitRes.update).toBeUndefined();
        }
        // A whole round: the server learns the total over clients, or nothing under DP.
        const s2 = new FedAvgServer({
          initialWeights: initial,
          aggregator: serverAgg(),
          ...(withDp ? { dp } : {}),
        });
        const { channels, runs } = startClients(
          Object.fromEntries(
            [0, 1, 2].map((i) => [`c${i}`, { train, aggregators: { [name]: clientAgg(i) } }]),
          ),
        );
        const result = await runFedAvgServer(s2, channels, { rounds: 1, roundTimeoutMs: 20_000 });
        await Promise.all(runs);
        const fit = result.rounds[0]!.fit;
        expect(fit.status).toBe('applied');
        if (withDp) expect(fit.clippedValues).toBeUndefined();
        else expect(fit.clippedValues).toBe(18);
      }, 60_000);
    }
  }

  it('a server refuses a hidden-mode FIT_RES that carries a per-client value', async () => {
    const leaky: ClientAggregator = {
      mode: 'secure',
      async begin(c) {
        const inner = await secureClientAggregator().begin(c);
        return {
          fitRes: () => ({ ...inner.fitRes(), metrics: { clippedValues: 6 } }),
          onMessage: inner.onMessage,
        };
      },
    };
    const server = new FedAvgServer({ initialWeights: initial, aggregator: secureAggregator() });
    const out = await server.startFit(['c0', 'c1']);
    for (const [id, fitIns] of out) {
      const client = new FedAvgClient({ train, aggregators: { secure: leaky } });
      for (const reply of await client.handle(fitIns)) await server.receive(id, reply);
    }
    expect(server.lastFit?.status).toBe('discarded');
    expect(server.lastFit?.failures.map((f) => f.code)).toEqual([
      'ERR_UNEXPECTED_MESSAGE',
      'ERR_UNEXPECTED_MESSAGE',
    ]);
  });

  it('under DP, plain clients send no example count or metric, and federated evaluation is skipped', async () => {
    const server = new FedAvgServer({ initialWeights: initial, dp: { ...dp, noise: 'central' } });
    const out = await server.startFit(['c0', 'c1']);
    for (const [, fitIns] of out) {
      const client = new FedAvgClient({
        train: async (w) => ({ ...(await train(w)), metrics: { loss: 0.7, accuracy: 0.9 } }),
      });
      const fitRes = decodeFederated((await client.handle(fitIns))[0]!).message;
      if (fitRes.type !== MSG.FIT_RES) throw new Error('expected FIT_RES');
      expect(fitRes.numExamples).toBe(1);
      expect(fitRes.metrics).toEqual({});
    }
    const s2 = new FedAvgServer({ initialWeights: initial, dp: { ...dp, noise: 'central' } });
    const { channels, runs } = startClients({
      c0: {
        train,
        evaluate: async () => ({ loss: 0.5, numExamples: 3, metrics: { accuracy: 1 } }),
      },
      c1: {
        train,
        evaluate: async () => ({ loss: 0.5, numExamples: 3, metrics: { accuracy: 1 } }),
      },
    });
    const result = await runFedAvgServer(s2, channels, {
      rounds: 1,
      roundTimeoutMs: 10_000,
      evaluateEvery: 1,
    });
    await Promise.all(runs);
    expect(result.rounds[0]!.fit.trainLoss).toBeUndefined();
    expect(result.rounds[0]!.evaluate).toMatchObject({ status: 'skipped', numExamples: 0 });
    expect(result.rounds[0]!.evaluate!.reason).toMatch(/outside the DP accounting/);
  });
});
