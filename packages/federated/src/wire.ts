/**
 * The FedAvg wire format. Every message is core's envelope (`version u8 | type u8 | session 16 B |
 * length u32 | body`); the bodies below are written with `ByteWriter` and read with
 * `ByteReader`, which rejects truncated and extended input. Tensors travel as float32
 * little-endian; a non-finite value, a wrong tensor count or a wrong length is rejected before
 * anything is stored.
 *
 * ```
 * FIT_INS        round u32 | task | config | tensors            server -> client
 * FIT_RES        round u32 | examples u64 | metrics | u8 has | [tensors]   client -> server
 * EVALUATE_INS   round u32 | config | tensors                   server -> client
 * EVALUATE_RES   round u32 | examples u64 | loss f64 | metrics  client -> server
 * FAILURE        round u32 | phase u8 | reason string           client -> server
 * AGGREGATION    round u32 | bytes (the aggregation protocol's own message)   both ways
 * SHUTDOWN       reason string                                  server -> client
 * ```
 * @module
 */
import {
  ByteReader,
  ByteWriter,
  decodeMessage,
  encodeMessage,
  ensureWellFormed,
  type Message,
  UnseenError,
} from '@unseen/core';
import type { Weights, WeightsShape } from './tensors.js';

/** Protocol version of these messages. */
export const FEDERATED_VERSION = 1;

/** Message types. */
export const MSG = {
  FIT_INS: 1,
  FIT_RES: 2,
  EVALUATE_INS: 3,
  EVALUATE_RES: 4,
  FAILURE: 5,
  AGGREGATION: 6,
  SHUTDOWN: 7,
} as const;

/** Configuration values sent to clients (Flower's `Scalar`, less bytes). */
export type ConfigValue = number | string | boolean;
/** A configuration dictionary, e.g. `{ epochs: 1, lr: 0.1 }`. */
export type Config = Record<string, ConfigValue>;
/** Numeric metrics reported by clients or computed by the server. */
export type Metrics = Record<string, number>;

/** Aggregation modes. */
export const AGGREGATION_MODES = ['plain', 'secure', 'homomorphic'] as const;
/** How client updates are summed: in the clear, by secure aggregation, or under CKKS. */
export type AggregationMode = (typeof AGGREGATION_MODES)[number];

/** What the server asks of a client besides training: clipping, noise, weighting. */
export interface ClientTask {
  aggregation: AggregationMode;
  /** L2 clipping norm of the update (0: no clipping). */
  clipNorm: number;
  /** Std of the Gaussian noise this client adds to its clipped update (0: none). */
  noiseStd: number;
  /** Weigh every client equally (DP) instead of by example count. */
  uniformWeights: boolean;
  /** Parameters of the aggregation protocol, opaque to this layer. */
  aggregationParams: Uint8Array;
}

/** Limits on what a decoder accepts. */
export interface WireLimits {
  /** Most tensors in a model (default 1024). */
  maxTensors?: number;
  /** Most values over all tensors (default 2^26). */
  maxValues?: number;
}

const MAX_KEY = 256;
const MAX_STRING = 4096;
const MAX_ENTRIES = 1024;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeTensors(w: ByteWriter, tensors: readonly Float32Array[]): void {
  w.u32(tensors.length);
  for (const t of tensors) {
    w.u32(t.length);
    if (LITTLE_ENDIAN) {
      w.bytes(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    } else {
      const b = new Uint8Array(t.length * 4);
      const v = new DataView(b.buffer);
      for (let i = 0; i < t.length; i++) v.setFloat32(4 * i, t[i]!, true);
      w.bytes(b);
    }
  }
}

function readTensors(r: ByteReader, limits: WireLimits, shape?: WeightsShape): Weights {
  const maxTensors = limits.maxTensors ?? 1024;
  const maxValues = limits.maxValues ?? 2 ** 26;
  const count = r.u32('tensor count');
  ensureWellFormed(count <= maxTensors, `tensor count ${count} exceeds ${maxTensors}`);
  if (shape !== undefined && count !== shape.length) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `expected ${shape.length} tensors, got ${count}`,
      { details: { expected: shape.length, actual: count } },
    );
  }
  const out: Weights = [];
  let total = 0;
  for (let i = 0; i < count; i++) {
    const n = r.u32('tensor length');
    total += n;
    ensureWellFormed(total <= maxValues, `more than ${maxValues} values`);
    if (shape !== undefined && n !== shape[i]) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `tensor ${i} has ${n} values, expected ${shape[i]}`,
        { details: { tensor: i, expected: shape[i], actual: n } },
      );
    }
    const bytes = r.bytes(4 * n, `tensor ${i}`);
    const t = new Float32Array(n);
    if (LITTLE_ENDIAN) {
      new Uint8Array(t.buffer).set(bytes);
    } else {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let j = 0; j < n; j++) t[j] = v.getFloat32(4 * j, true);
    }
    for (let j = 0; j < n; j++) {
      ensureWellFormed(Number.isFinite(t[j]!), `tensor ${i} holds a non-finite value at ${j}`);
    }
    out.push(t);
  }
  return out;
}

function writeConfig(w: ByteWriter, config: Config): void {
  const entries = Object.entries(config);
  if (entries.length > MAX_ENTRIES) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `config: more than ${MAX_ENTRIES} entries`);
  }
  w.u32(entries.length);
  for (const [k, v] of entries) {
    w.string(k);
    if (typeof v === 'number') w.u8(0).f64(v);
    else if (typeof v === 'string') w.u8(1).string(v);
    else if (typeof v === 'boolean') w.u8(2).u8(v ? 1 : 0);
    else throw new UnseenError('ERR_INVALID_ARGUMENT', `config ${k}: unsupported value type`);
  }
}

function readConfig(r: ByteReader): Config {
  const n = r.u32('config count');
  ensureWellFormed(n <= MAX_ENTRIES, `config: ${n} entries exceed ${MAX_ENTRIES}`);
  const out: Config = Object.create(null);
  for (let i = 0; i < n; i++) {
    const k = r.string('config key', MAX_KEY);
    ensureWellFormed(!(k in out), `config: duplicate key ${JSON.stringify(k)}`);
    const tag = r.u8('config tag');
    if (tag === 0) out[k] = r.f64('config number');
    else if (tag === 1) out[k] = r.string('config string', MAX_STRING);
    else if (tag === 2) {
      const b = r.u8('config bool');
      ensureWellFormed(b <= 1, 'config: boolean must be 0 or 1');
      out[k] = b === 1;
    } else ensureWellFormed(false, `config: unknown value tag ${tag}`);
  }
  return { ...out };
}

function writeMetrics(w: ByteWriter, metrics: Metrics): void {
  const entries = Object.entries(metrics);
  w.u32(entries.length);
  for (const [k, v] of entries) w.string(k).f64(v);
}

function readMetrics(r: ByteReader): Metrics {
  const n = r.u32('metric count');
  ensureWellFormed(n <= MAX_ENTRIES, `metrics: ${n} entries exceed ${MAX_ENTRIES}`);
  const out: Metrics = Object.create(null);
  for (let i = 0; i < n; i++) {
    const k = r.string('metric name', MAX_KEY);
    ensureWellFormed(!(k in out), `metrics: duplicate name ${JSON.stringify(k)}`);
    const v = r.f64('metric value');
    ensureWellFormed(Number.isFinite(v), `metric ${k} is not finite`);
    out[k] = v;
  }
  return { ...out };
}

function writeTask(w: ByteWriter, task: ClientTask): void {
  w.u8(AGGREGATION_MODES.indexOf(task.aggregation))
    .f64(task.clipNorm)
    .f64(task.noiseStd)
    .u8(task.uniformWeights ? 1 : 0)
    .varBytes(task.aggregationParams);
}

function readTask(r: ByteReader): ClientTask {
  const mode = r.u8('aggregation mode');
  const aggregation = AGGREGATION_MODES[mode];
  ensureWellFormed(aggregation !== undefined, `unknown aggregation mode ${mode}`);
  const clipNorm = r.f64('clip norm');
  const noiseStd = r.f64('noise std');
  ensureWellFormed(Number.isFinite(clipNorm) && clipNorm >= 0, 'clip norm must be >= 0');
  ensureWellFormed(Number.isFinite(noiseStd) && noiseStd >= 0, 'noise std must be >= 0');
  const u = r.u8('uniform weights');
  ensureWellFormed(u <= 1, 'uniform weights flag must be 0 or 1');
  const aggregationParams = r.varBytes('aggregation params', 1 << 20).slice();
  return { aggregation, clipNorm, noiseStd, uniformWeights: u === 1, aggregationParams };
}

/** Server -> client: train on these weights. */
export interface FitIns {
  type: typeof MSG.FIT_INS;
  round: number;
  task: ClientTask;
  config: Config;
  weights: Weights;
}
/** Client -> server: the outcome of training. `update` is absent under secure aggregation. */
export interface FitRes {
  type: typeof MSG.FIT_RES;
  round: number;
  numExamples: number;
  metrics: Metrics;
  update?: Weights;
}
/** Server -> client: evaluate these weights on local data. */
export interface EvaluateIns {
  type: typeof MSG.EVALUATE_INS;
  round: number;
  config: Config;
  weights: Weights;
}
/** Client -> server: loss and metrics on local data. */
export interface EvaluateRes {
  type: typeof MSG.EVALUATE_RES;
  round: number;
  numExamples: number;
  loss: number;
  metrics: Metrics;
}
/** Client -> server: the client could not do what was asked. */
export interface Failure {
  type: typeof MSG.FAILURE;
  round: number;
  phase: 'fit' | 'evaluate';
  reason: string;
}
/** Either way: a message of the aggregation protocol (secure aggregation, CKKS). */
export interface AggregationMsg {
  type: typeof MSG.AGGREGATION;
  round: number;
  payload: Uint8Array;
}
/** Server -> client: the run is over. */
export interface Shutdown {
  type: typeof MSG.SHUTDOWN;
  reason: string;
}

/** Any FedAvg message. */
export type FederatedMessage =
  | FitIns
  | FitRes
  | EvaluateIns
  | EvaluateRes
  | Failure
  | AggregationMsg
  | Shutdown;

/** Encodes a message into core's envelope under `session`. */
export function encodeFederated(session: Uint8Array, m: FederatedMessage): Uint8Array {
  const w = new ByteWriter(64);
  switch (m.type) {
    case MSG.FIT_INS:
      w.u32(m.round);
      writeTask(w, m.task);
      writeConfig(w, m.config);
      writeTensors(w, m.weights);
      break;
    case MSG.FIT_RES:
      w.u32(m.round).u64(m.numExamples);
      writeMetrics(w, m.metrics);
      w.u8(m.update === undefined ? 0 : 1);
      if (m.update !== undefined) writeTensors(w, m.update);
      break;
    case MSG.EVALUATE_INS:
      w.u32(m.round);
      writeConfig(w, m.config);
      writeTensors(w, m.weights);
      break;
    case MSG.EVALUATE_RES:
      w.u32(m.round).u64(m.numExamples).f64(m.loss);
      writeMetrics(w, m.metrics);
      break;
    case MSG.FAILURE:
      w.u32(m.round)
        .u8(m.phase === 'fit' ? 0 : 1)
        .string(m.reason.slice(0, MAX_STRING));
      break;
    case MSG.AGGREGATION:
      w.u32(m.round).varBytes(m.payload);
      break;
    case MSG.SHUTDOWN:
      w.string(m.reason.slice(0, MAX_STRING));
      break;
  }
  return encodeMessage({ version: FEDERATED_VERSION, type: m.type, session, body: w.finish() });
}

/** What a decoder checks besides structure. */
export interface DecodeExpectation extends WireLimits {
  /** Acceptable message types. */
  types?: readonly number[];
  /** The session the receiver is in (omit on a client's first message). */
  session?: Uint8Array;
  /** The model's tensor lengths: tensors of another shape are rejected. */
  shape?: WeightsShape;
  /** Largest message body in bytes. */
  maxBody?: number;
}

/**
 * Decodes and validates a FedAvg message.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (truncated, extended, non-finite values, bad
 * fields), `ERR_PARAMETER_MISMATCH` (wrong tensor shape), `ERR_UNEXPECTED_MESSAGE`,
 * `ERR_SESSION_MISMATCH`, `ERR_UNSUPPORTED_VERSION`, `ERR_MESSAGE_TOO_LARGE`
 */
export function decodeFederated(
  bytes: Uint8Array,
  expect: DecodeExpectation = {},
): { message: FederatedMessage; envelope: Message } {
  const env = decodeMessage(bytes, {
    version: FEDERATED_VERSION,
    ...(expect.types === undefined ? {} : { type: expect.types }),
    ...(expect.session === undefined ? {} : { session: expect.session }),
    ...(expect.maxBody === undefined ? {} : { maxBody: expect.maxBody }),
  });
  const r = new ByteReader(env.body, 'federated message');
  let message: FederatedMessage;
  switch (env.type) {
    case MSG.FIT_INS: {
      const round = r.u32('round');
      const task = readTask(r);
      const config = readConfig(r);
      const weights = readTensors(r, expect, expect.shape);
      message = { type: MSG.FIT_INS, round, task, config, weights };
      break;
    }
    case MSG.FIT_RES: {
      const round = r.u32('round');
      const numExamples = r.u64('examples');
      const metrics = readMetrics(r);
      const has = r.u8('update flag');
      ensureWellFormed(has <= 1, 'update flag must be 0 or 1');
      message =
        has === 1
          ? {
              type: MSG.FIT_RES,
              round,
              numExamples,
              metrics,
              update: readTensors(r, expect, expect.shape),
            }
          : { type: MSG.FIT_RES, round, numExamples, metrics };
      break;
    }
    case MSG.EVALUATE_INS: {
      const round = r.u32('round');
      const config = readConfig(r);
      const weights = readTensors(r, expect, expect.shape);
      message = { type: MSG.EVALUATE_INS, round, config, weights };
      break;
    }
    case MSG.EVALUATE_RES: {
      const round = r.u32('round');
      const numExamples = r.u64('examples');
      const loss = r.f64('loss');
      ensureWellFormed(!Number.isNaN(loss), 'loss is NaN');
      message = { type: MSG.EVALUATE_RES, round, numExamples, loss, metrics: readMetrics(r) };
      break;
    }
    case MSG.FAILURE: {
      const round = r.u32('round');
      const phase = r.u8('phase');
      ensureWellFormed(phase <= 1, `unknown phase ${phase}`);
      const reason = r.string('reason', MAX_STRING);
      message = { type: MSG.FAILURE, round, phase: phase === 0 ? 'fit' : 'evaluate', reason };
      break;
    }
    case MSG.AGGREGATION: {
      const round = r.u32('round');
      message = { type: MSG.AGGREGATION, round, payload: r.varBytes('payload').slice() };
      break;
    }
    case MSG.SHUTDOWN:
      message = { type: MSG.SHUTDOWN, reason: r.string('reason', MAX_STRING) };
      break;
    default:
      throw new UnseenError('ERR_UNEXPECTED_MESSAGE', `unknown message type ${env.type}`, {
        details: { type: env.type },
      });
  }
  r.end();
  return { message, envelope: env };
}
