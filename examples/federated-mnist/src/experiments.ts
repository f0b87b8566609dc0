/**
 * The MNIST experiments of this example, shared with the `federated` benchmark: 20 clients,
 * one model, one aggregation per run, the same seed everywhere so that runs differ only in
 * what they are meant to compare.
 * @module
 */

import type { Dataset } from '@unseen/federated';
import {
  type DifferentiableModel,
  type DpOptions,
  type LocalTraining,
  mlp,
  type SimulationResult,
  type SplitSpec,
  simulateFederated,
  softmaxRegression,
} from '@unseen/federated';
import { MNIST_FEATURES } from './mnist.js';

/** The two reference models and the local training that suits each. */
export const MODELS = {
  softmax: {
    model: (): DifferentiableModel => softmaxRegression({ features: MNIST_FEATURES, classes: 10 }),
    local: { epochs: 5, batchSize: 20, learningRate: 0.1 } satisfies LocalTraining,
  },
  mlp: {
    model: (): DifferentiableModel => mlp({ features: MNIST_FEATURES, hidden: 64, classes: 10 }),
    local: { epochs: 2, batchSize: 20, learningRate: 0.1 } satisfies LocalTraining,
  },
} as const;

export type ModelName = keyof typeof MODELS;

/** Client-level DP of the example: sigma = 1, C = 1, noise added by the clients. */
export const DP_SETTINGS: DpOptions = {
  noiseMultiplier: 1,
  clipNorm: 1,
  noise: 'distributed',
  delta: 1e-5,
  sampling: 'fixed',
};

/** One configuration to run. */
export interface Experiment {
  name: string;
  aggregation: 'plain' | 'secure' | 'homomorphic';
  split?: SplitSpec;
  dp?: DpOptions;
}

/** The configurations the example and the benchmark compare. */
export const EXPERIMENTS: Record<string, Experiment> = {
  plain: { name: 'plain', aggregation: 'plain' },
  secure: { name: 'secure', aggregation: 'secure' },
  homomorphic: { name: 'homomorphic', aggregation: 'homomorphic' },
  dp: { name: 'DP (sigma=1, C=1) + secure', aggregation: 'secure', dp: DP_SETTINGS },
  dirichlet: {
    name: 'non-IID Dirichlet(0.5)',
    aggregation: 'plain',
    split: { kind: 'dirichlet', alpha: 0.5 },
  },
  shards: {
    name: 'non-IID 2 shards/client',
    aggregation: 'plain',
    split: { kind: 'shards', shardsPerClient: 2 },
  },
};

/** Runs one experiment on `train` (split over `clients`) and tests on `test`. */
export function runExperiment(
  e: Experiment,
  options: {
    model: ModelName;
    train: Dataset;
    test: Dataset;
    rounds: number;
    clients?: number;
    seed?: number;
    onRound?: Parameters<typeof simulateFederated>[0]['onRound'];
  },
): Promise<SimulationResult> {
  const spec = MODELS[options.model];
  return simulateFederated({
    clients: {
      data: options.train,
      count: options.clients ?? 20,
      split: e.split ?? { kind: 'iid' },
    },
    model: spec.model(),
    test: options.test,
    rounds: options.rounds,
    seed: options.seed ?? 1,
    local: spec.local,
    aggregation: e.aggregation,
    // Update values stay well inside [-1, 1] (clipped counts are logged); under DP the clients'
    // noise (std sigma * C / sqrt(20) = 0.22) must not be clipped: a range of 18 standard deviations.
    encoding: e.dp === undefined ? { clip: 1, maxExamples: 1000 } : { clip: 4 },
    ...(e.dp === undefined ? {} : { dp: e.dp }),
    ...(options.onRound === undefined ? {} : { onRound: options.onRound }),
  });
}
