/**
 * `simulateFederated`: a whole FedAvg run in one process, for research. Each client is a real
 * {@link FedAvgClient} on its own in-memory `Channel`, driven by the same runners a deployment
 * uses, so the simulation exercises the wire format, validation, aggregation protocol and
 * dropout handling, not a shortcut. Data is split IID or non-IID, training uses a reference
 * model (or any `train` callback), and every round is logged for CSV/JSON and plotted as SVG.
 * @module
 */
import { aint, anumber, type Channel, generateSigningKey, memoryChannelPair } from '@unseen/core';
import {
  createHomomorphicKeyHolder,
  federatedKeyHolder,
  homomorphicAggregator,
  homomorphicClientAggregator,
} from './aggregation/homomorphic.js';
import {
  type SecureOptions,
  secureAggregator,
  secureClientAggregator,
} from './aggregation/secure.js';
import type { ClientAggregator, ServerAggregator } from './aggregation/types.js';
import { FedAvgClient, type TrainFn } from './client.js';
import type { DpOptions } from './dp.js';
import type { Dataset } from './models/dataset.js';
import { type DifferentiableModel, evaluateModel, trainSgd } from './models/model.js';
import { Rng } from './random.js';
import { plotAccuracy, type RoundLog, roundsToCsv } from './report.js';
import { runFedAvgClient, runFedAvgServer } from './runner.js';
import { FedAvgServer } from './server.js';
import { type SplitSpec, splitDataset } from './splits.js';
import type { Weights } from './tensors.js';

/** Local training settings (McMahan et al.'s E, B and learning rate). */
export interface LocalTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  weightDecay?: number;
}

/** An aggregation protocol as a server side and a client side per client. */
export interface AggregationPlugin {
  server: ServerAggregator;
  client: (clientId: string) => ClientAggregator;
}

/** Options of {@link simulateFederated}. */
export interface SimulateOptions {
  /** Per-client datasets, or one dataset with how to split it. */
  clients: Dataset[] | { data: Dataset; count: number; split: SplitSpec };
  model: DifferentiableModel;
  /** Held-out data: accuracy of the global model after each round. */
  test?: Dataset;
  rounds: number;
  local: LocalTraining;
  /** Seed of initialisation, splits, sampling and local shuffles (crypto randomness if absent). */
  seed?: number;
  fractionFit?: number;
  minFitClients?: number;
  minAvailableClients?: number;
  acceptFailures?: boolean;
  /**
   * The aggregation protocol: 'plain' (default), 'secure' (secure aggregation), 'homomorphic'
   * (BFV, with a key holder created for the run and a signing key per client), or any
   * {@link AggregationPlugin}.
   */
  aggregation?: 'plain' | 'secure' | 'homomorphic' | AggregationPlugin;
  /** Clipping range and encoding of 'secure' and 'homomorphic' (default clip 1). */
  encoding?: Pick<SecureOptions, 'clip' | 'fractionalBits' | 'bits' | 'maxExamples'>;
  dp?: DpOptions;
  /**
   * Simulated dropouts: each sampled client, each round, drops with this probability after
   * training. 'fail' reports a failure; 'silent' stops answering (the round waits for its
   * deadline, `roundTimeoutMs`).
   */
  dropout?: { rate: number; mode?: 'fail' | 'silent' };
  roundTimeoutMs?: number;
  /** Initial weights (default: the model's seeded initialisation). */
  initialWeights?: Weights;
  /** Called after each round with its log row. */
  onRound?: (row: RoundLog) => void | Promise<void>;
}

/** What {@link simulateFederated} returns. */
export interface SimulationResult {
  weights: Weights;
  log: RoundLog[];
  /** Test accuracy after the last round (if a test set was given). */
  finalAccuracy?: number;
  /** The log as CSV. */
  csv(): string;
  /** The log as JSON. */
  json(): string;
  /** An SVG plot of test accuracy against rounds. */
  svg(title?: string): string;
}

const clientId = (i: number): string => `client-${String(i).padStart(3, '0')}`;

/** A channel whose sends can be switched off, to simulate a client that goes silent. */
class MutableChannel implements Channel {
  muted = false;
  readonly #inner: Channel;
  constructor(inner: Channel) {
    this.#inner = inner;
  }
  get closed(): boolean {
    return this.#inner.closed;
  }
  get bytesSent(): number {
    return this.#inner.bytesSent;
  }
  get bytesReceived(): number {
    return this.#inner.bytesReceived;
  }
  async send(message: Uint8Array): Promise<void> {
    if (!this.muted) await this.#inner.send(message);
  }
  receive(options?: Parameters<Channel['receive']>[0]): Promise<Uint8Array> {
    return this.#inner.receive(options);
  }
  close(): void {
    this.#inner.close();
  }
}

/**
 * Runs a simulated federation.
 * @example
 * ```ts
 * const result = await simulateFederated({
 *   clients: { data: train, count: 20, split: { kind: 'iid' } },
 *   model: softmaxRegression({ features: 784, classes: 10 }),
 *   test, rounds: 20, seed: 1,
 *   local: { epochs: 1, batchSize: 20, learningRate: 0.1 },
 * });
 * console.log(result.finalAccuracy);
 * ```
 */
export async function simulateFederated(options: SimulateOptions): Promise<SimulationResult> {
  const rounds = aint(options.rounds, 'rounds', 0);
  const { model, test, local } = options;
  const rng = options.seed === undefined ? Rng.crypto() : await Rng.seeded(options.seed);
  const datasets = Array.isArray(options.clients)
    ? options.clients
    : await splitDataset(
        options.clients.data,
        options.clients.count,
        options.clients.split,
        await rng.fork(1),
      );
  const dropRate = anumber(options.dropout?.rate ?? 0, 'dropout.rate', 0, 1);
  const dropMode = options.dropout?.mode ?? 'fail';
  const initial = options.initialWeights ?? (await model.init(await rng.fork(2)));
  const encoding = options.encoding ?? {};
  let plugin: AggregationPlugin | undefined;
  let dispose = (): void => {};
  if (options.aggregation === 'secure') {
    plugin = { server: secureAggregator(encoding), client: () => secureClientAggregator() };
  } else if (options.aggregation === 'homomorphic') {
    const maxExamples =
      options.dp === undefined
        ? (encoding.maxExamples ?? Math.max(...datasets.map((d) => d.count)))
        : 1;
    // Each client's signing identity; the key holder registers their public keys.
    const identities = datasets.map(() => generateSigningKey());
    const contributors = identities.map((k) => k.publicKey);
    const holder = await createHomomorphicKeyHolder({
      shape: model.shape,
      contributors,
      maxClients: datasets.length,
      clip: encoding.clip ?? 1,
      maxExamples,
      ...(encoding.fractionalBits === undefined ? {} : { fractionalBits: encoding.fractionalBits }),
    });
    dispose = () => holder.dispose();
    const ids = datasets.map((_, i) => clientId(i));
    plugin = {
      server: homomorphicAggregator({
        keyHolder: federatedKeyHolder(holder),
        clip: encoding.clip ?? 1,
        maxExamples,
        contributors,
        ...(encoding.fractionalBits === undefined
          ? {}
          : { fractionalBits: encoding.fractionalBits }),
      }),
      client: (id) =>
        homomorphicClientAggregator({ signingKey: identities[ids.indexOf(id)]!.secretKey }),
    };
  } else if (typeof options.aggregation === 'object') {
    plugin = options.aggregation;
  }
  const server = new FedAvgServer({
    initialWeights: initial,
    fractionFit: options.fractionFit ?? 1,
    minFitClients: options.minFitClients ?? Math.min(2, datasets.length),
    minAvailableClients: options.minAvailableClients ?? Math.min(2, datasets.length),
    acceptFailures: options.acceptFailures ?? true,
    ...(plugin === undefined ? {} : { aggregator: plugin.server }),
    ...(options.dp === undefined ? {} : { dp: options.dp }),
    rng: await rng.fork(3),
    onFitConfig: () => ({ ...local }),
  });
  const dropRng = await rng.fork(4);
  const serverChannels = new Map<string, Channel>();
  const runs: Promise<void>[] = [];
  for (let i = 0; i < datasets.length; i++) {
    const id = clientId(i);
    const data = datasets[i]!;
    const [s, c] = memoryChannelPair({ timeoutMs: 600_000 });
    const channel = new MutableChannel(c);
    serverChannels.set(id, s);
    const clientRng = await rng.fork(1000 + i);
    const train: TrainFn = async (weights, config, round) => {
      channel.muted = false;
      const out = await trainSgd(model, weights, data, {
        epochs: Number(config.epochs ?? local.epochs),
        batchSize: Number(config.batchSize ?? local.batchSize),
        learningRate: Number(config.learningRate ?? local.learningRate),
        weightDecay: Number(config.weightDecay ?? local.weightDecay ?? 0),
        rng: clientRng,
      });
      if (dropRate > 0 && (await dropRng.uniforms(1))[0]! < dropRate) {
        if (dropMode === 'silent') channel.muted = true;
        else throw new Error(`simulated dropout in round ${round}`);
      }
      return { weights: out.weights, numExamples: out.numExamples, metrics: { loss: out.loss } };
    };
    const client = new FedAvgClient({
      train,
      evaluate: async (weights) => {
        const e = evaluateModel(model, weights, data);
        return { loss: e.loss, numExamples: e.numExamples, metrics: { accuracy: e.accuracy } };
      },
      ...(plugin === undefined ? {} : { aggregators: { [plugin.server.mode]: plugin.client(id) } }),
      rng: options.seed === undefined ? Rng.crypto() : await rng.fork(2000 + i),
    });
    runs.push(runFedAvgClient(channel, client).catch(() => {}));
  }
  const log: RoundLog[] = [];
  let result: Awaited<ReturnType<typeof runFedAvgServer>>;
  try {
    result = await runFedAvgServer(server, serverChannels, {
      rounds,
      roundTimeoutMs: options.roundTimeoutMs ?? 60_000,
      ...(test === undefined
        ? {}
        : {
            centralEvaluate: (w: Weights) => {
              const e = evaluateModel(model, w, test);
              return { loss: e.loss, metrics: { accuracy: e.accuracy } };
            },
          }),
      onRound: async (r) => {
        const row: RoundLog = {
          round: r.round,
          status: r.fit.status,
          sampled: r.fit.sampled.length,
          contributors: r.fit.contributors.length,
          failures: r.fit.failures.length,
          meanErrorBound: r.fit.meanErrorBound,
          fitMs: Math.round(r.fitMs * 10) / 10,
          durationMs: Math.round(r.durationMs * 10) / 10,
        };
        if (r.central !== undefined) {
          row.accuracy = r.central.metrics.accuracy!;
          row.testLoss = r.central.loss;
        }
        if (r.fit.trainLoss !== undefined) row.trainLoss = r.fit.trainLoss;
        if (r.fit.clippedValues !== undefined) row.clippedValues = r.fit.clippedValues;
        if (r.fit.privacy !== undefined) {
          row.epsilon = r.fit.privacy.epsilon;
          row.delta = r.fit.privacy.delta;
        }
        log.push(row);
        await options.onRound?.(row);
      },
    });
  } finally {
    dispose();
  }
  await Promise.all(runs);
  const last = log.at(-1);
  return {
    weights: result.weights,
    log,
    ...(last?.accuracy === undefined ? {} : { finalAccuracy: last.accuracy }),
    csv: () => roundsToCsv(log),
    json: () => JSON.stringify(log, null, 2),
    svg: (title?: string) =>
      plotAccuracy(
        [
          {
            name: 'test accuracy',
            points: log
              .filter((r) => r.accuracy !== undefined)
              .map((r) => [r.round, r.accuracy!] as const),
          },
        ],
        title === undefined ? {} : { title },
      ),
  };
}
