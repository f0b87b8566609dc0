/**
 * Homomorphic aggregation of FedAvg updates under BFV through @unseen/homomorphic. A key holder
 * (a party other than the server: the model owner, an auditor) publishes BFV public parameters
 * and knows each client's Ed25519 public key; each client encodes `[w * clip(u), w, clipped]` in
 * fixed point (the same encoding as secure aggregation, `encodeHiddenUpdate`, on core's
 * fixed-point codec), encrypts it as signed integers, and signs the ciphertext for the round's
 * context; the server checks and collects the ciphertexts without being able to read any and
 * hands them to the key holder, which adds them itself (adding is cheap) and decrypts the sum
 * once per context.
 *
 * Why BFV and not CKKS: BFV decryption is exact, so a decrypted sum says nothing about the
 * secret key (CKKS decryption releases key-dependent noise: Li and Micciancio 2021), and the
 * aggregate is exactly the fixed-point sum, as with secure aggregation.
 *
 * Why signed contributions: the key holder counts distinct registered contributors for itself
 * and decrypts each context once. A malicious server cannot get a single update decrypted: a
 * relabelled contribution, padding with encryptions it made, a client counted twice, a
 * contribution moved from another round and two overlapping subsets of one round are all
 * refused. It still learns the sum if it colludes with all but one of the contributors of a
 * round, as with any aggregate of at least `minContributions`.
 *
 * Error, reported per round as `meanErrorBound`: each encoded value is within 2^-(f+1) of
 * `w * clip(u)` and the sum is exact, so the mean is within k * 2^-(f+1) / sum(w) of the exact
 * weighted mean of the clipped updates (k contributors): the same bound as secure aggregation.
 * @module
 */
import {
  aint,
  anumber,
  ByteReader,
  ByteWriter,
  concatBytes,
  isUnseenError,
  UnseenError,
  utf8ToBytes,
} from '@unseen/core';
import {
  Aggregator,
  createKeyHolder,
  describeParams,
  type EncryptOptions,
  encryptContribution,
  type KeyHolder,
  signContribution,
} from '@unseen/homomorphic';
import { type UpdateEncoding, updateEncoding } from '@unseen/secure-aggregation';
import { flatten, splitByShape, totalLength, type WeightsShape } from '../tensors.js';
import type { FitRes } from '../wire.js';
import {
  decodeHiddenAggregate,
  encodeHiddenUpdate,
  hiddenUpdateLength,
  ringToSigned,
  signedToRing,
} from './encoding.js';
import {
  type AggregationStep,
  type ClientAggregation,
  type ClientAggregator,
  type ClientContribution,
  checkHiddenFitRes,
  type RoundContext,
  type ServerAggregation,
  type ServerAggregator,
} from './types.js';

/** What the key holder returns for one round. */
export interface DecryptedRound {
  /** The exact sum of the accepted contributions (signed integers). */
  sum: BigInt64Array;
  /** Indices (into the contributions given) of those in the sum; the others were invalid. */
  accepted: number[];
}

/**
 * The key holder as FedAvg uses it: its public parameters, and a call that sums the signed
 * contributions of one round itself and decrypts the sum (a local {@link KeyHolder} through
 * {@link federatedKeyHolder}, or a call to a remote one).
 */
export interface FederatedKeyHolder {
  publicParams: Uint8Array;
  decryptRound(context: Uint8Array, contributions: readonly Uint8Array[]): Promise<DecryptedRound>;
}

/**
 * Wraps a local BFV key holder (with registered contributors) as a {@link FederatedKeyHolder}:
 * invalid contributions are skipped, the rest summed by the key holder and decrypted if at
 * least its `minContributions` remain (else `ERR_POLICY_DENIED`).
 */
export function federatedKeyHolder(holder: KeyHolder<'bfv'>): FederatedKeyHolder {
  return {
    publicParams: holder.publicParams,
    async decryptRound(context, contributions) {
      const round = await holder.openRound(context);
      const accepted: number[] = [];
      contributions.forEach((c, i) => {
        try {
          round.add(c);
          accepted.push(i);
        } catch (e) {
          if (!isUnseenError(e)) throw e; // a bad contribution drops its client only
        }
      });
      return { sum: await round.decrypt(), accepted };
    },
  };
}

/** Options of {@link createHomomorphicKeyHolder}. */
export interface HomomorphicKeyHolderOptions {
  shape: WeightsShape;
  /** The clients' Ed25519 public keys: only they can contribute. */
  contributors: readonly Uint8Array[];
  /** Most clients per round (default: the number of contributors). */
  maxClients?: number;
  /** Update values are clipped to [-clip, clip] (default 1). */
  clip?: number;
  /** Largest example count a weight may carry (default 10,000; 1 for DP's uniform weights). */
  maxExamples?: number;
  /** Fractional bits of the fixed-point encoding (default: secure aggregation's, 16 or 24). */
  fractionalBits?: number;
  /** Refuse to decrypt sums of fewer contributions (default 2). */
  minContributions?: number;
}

/** The fixed-point encoding of a round and the largest integer it puts in a BFV slot. */
function encodingFor(
  clip: number,
  clients: number,
  maxWeight: number,
  fractionalBits: number | undefined,
): { encoding: UpdateEncoding; valueBound: bigint } {
  const encoding = updateEncoding({
    clip,
    clients,
    maxWeight,
    ...(fractionalBits === undefined ? {} : { fractionalBits }),
  });
  const values = Math.round(clip * maxWeight * 2 ** encoding.fractionalBits);
  return { encoding, valueBound: BigInt(Math.max(values, maxWeight, 65_535)) };
}

/**
 * Creates a BFV key holder sized for a model: vectors of the model's length plus the weight and
 * the clipped count, values bounded by the fixed-point range of `clip * maxExamples`.
 * @example
 * ```ts
 * const clients = ids.map(() => generateSigningKey()); // each client keeps its secretKey
 * const holder = await createHomomorphicKeyHolder({
 *   shape: model.shape, contributors: clients.map((c) => c.publicKey), maxExamples: 1000,
 * });
 * const server = homomorphicAggregator({ keyHolder: federatedKeyHolder(holder), maxExamples: 1000 });
 * ```
 */
export async function createHomomorphicKeyHolder(
  options: HomomorphicKeyHolderOptions,
): Promise<KeyHolder<'bfv'>> {
  const clip = anumber(options.clip ?? 1, 'clip', Number.MIN_VALUE);
  const maxExamples = aint(options.maxExamples ?? 10_000, 'maxExamples', 1, 2 ** 32 - 1);
  const maxClients = aint(
    options.maxClients ?? options.contributors.length,
    'maxClients',
    1,
    65_535,
  );
  const { valueBound } = encodingFor(clip, maxClients, maxExamples, options.fractionalBits);
  return createKeyHolder({
    scheme: 'bfv',
    length: hiddenUpdateLength(totalLength(options.shape)),
    maxContributions: maxClients,
    valueBound,
    minContributions: aint(options.minContributions ?? 2, 'minContributions', 1),
    contributors: options.contributors,
  });
}

/** Options of {@link homomorphicAggregator}. */
export interface HomomorphicOptions {
  /** The key holder (never the server itself in a deployment). */
  keyHolder: FederatedKeyHolder;
  /** Update values are clipped to [-clip, clip] (default 1). */
  clip?: number;
  /** Largest example count a weight may carry; must fit the key holder's value bound. */
  maxExamples?: number;
  /** Fractional bits (default: secure aggregation's for the round). */
  fractionalBits?: number;
  /** The registered clients' public keys, to refuse others early (the key holder checks anyway). */
  contributors?: readonly Uint8Array[];
}

const CONTEXT_DOMAIN = utf8ToBytes('unseen/fedavg/');

function encodeParams(
  publicParams: Uint8Array,
  e: UpdateEncoding,
  context: Uint8Array,
  reportClipped: boolean,
): Uint8Array {
  return new ByteWriter(publicParams.length + 96)
    .f64(e.clip)
    .u8(e.fractionalBits)
    .u8(e.bits)
    .u32(e.maxWeight)
    .u32(e.clients)
    .u8(reportClipped ? 1 : 0)
    .varBytes(context)
    .varBytes(publicParams)
    .finish();
}

function decodeParams(bytes: Uint8Array): {
  encoding: UpdateEncoding;
  context: Uint8Array;
  reportClipped: boolean;
  publicParams: Uint8Array;
} {
  const r = new ByteReader(bytes, 'homomorphic aggregation params');
  const clip = r.f64('clip');
  const fractionalBits = r.u8('fractional bits');
  const bits = r.u8('bits');
  const maxWeight = r.u32('max weight');
  const clients = r.u32('clients');
  const flag = r.u8('report clipped');
  const context = r.varBytes('context', 64).slice();
  const publicParams = r.varBytes('public params').slice();
  r.end();
  if ((bits !== 32 && bits !== 64) || flag > 1 || context.length === 0) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'homomorphic aggregation params: bad fields');
  }
  const encoding = updateEncoding({ clip, fractionalBits, bits, maxWeight, clients });
  return { encoding, context, reportClipped: flag === 1, publicParams };
}

/** The server side of homomorphic (BFV) aggregation. */
export function homomorphicAggregator(options: HomomorphicOptions): ServerAggregator {
  const clip = anumber(options.clip ?? 1, 'clip', Number.MIN_VALUE);
  const maxExamples = aint(options.maxExamples ?? 10_000, 'maxExamples', 1, 2 ** 32 - 1);
  const holder = options.keyHolder;
  const info = describeParams(holder.publicParams);
  if (info.scheme !== 'bfv') {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'homomorphic aggregation needs BFV parameters (exact decryption)',
    );
  }
  return {
    mode: 'homomorphic',
    async begin(ctx: RoundContext): Promise<ServerAggregation> {
      const length = totalLength(ctx.shape);
      if (info.length !== hiddenUpdateLength(length)) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          `the key holder's vectors hold ${info.length} values; this model needs ${hiddenUpdateLength(length)}`,
        );
      }
      if (ctx.sampled.length > info.maxContributions) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          `${ctx.sampled.length} clients sampled; the key holder's parameters hold ${info.maxContributions}`,
        );
      }
      const maxWeight = ctx.uniformWeights ? 1 : maxExamples;
      const { encoding, valueBound } = encodingFor(
        clip,
        Math.max(1, ctx.sampled.length),
        maxWeight,
        options.fractionalBits,
      );
      if ((info.valueBound as bigint) < valueBound) {
        throw new UnseenError(
          'ERR_PARAMETER_MISMATCH',
          `the key holder's value bound ${info.valueBound} is below the encoding's ${valueBound}: lower clip, maxExamples or fractionalBits`,
        );
      }
      const reportClipped = !ctx.uniformWeights; // never under DP
      // One context per round of this run: the key holder decrypts each context once.
      const context = concatBytes(
        CONTEXT_DOMAIN,
        ctx.session,
        new ByteWriter(4).u32(ctx.round).finish(),
      );
      const params = encodeParams(holder.publicParams, encoding, context, reportClipped);
      const check = await Aggregator.create(holder.publicParams, {
        context,
        ...(options.contributors === undefined ? {} : { contributors: options.contributors }),
      });
      const waiting = new Set(ctx.sampled);
      const announced = new Set<string>();
      const contributors: string[] = [];
      const payloads: Uint8Array[] = [];
      return {
        paramsFor: () => params,
        onFitRes(client: string, res: FitRes): void {
          if (!waiting.has(client) || announced.has(client)) {
            throw new UnseenError('ERR_UNEXPECTED_MESSAGE', `no FIT_RES expected from ${client}`);
          }
          checkHiddenFitRes(res, 'homomorphic');
          announced.add(client); // its signed ciphertext follows in an AGGREGATION message
        },
        async onMessage(client: string, payload: Uint8Array): Promise<void> {
          if (!waiting.has(client) || !announced.has(client)) {
            throw new UnseenError(
              'ERR_UNEXPECTED_MESSAGE',
              `no ciphertext expected from ${client}`,
            );
          }
          waiting.delete(client);
          check.add(payload); // signature, context, signer, every coefficient; else nothing kept
          contributors.push(client);
          payloads.push(payload.slice());
        },
        awaiting: () => waiting,
        drop: (client) => {
          waiting.delete(client);
        },
        async advance(): Promise<AggregationStep> {
          waiting.clear();
          const { sum, accepted } = await holder.decryptRound(context, payloads);
          const decoded = decodeHiddenAggregate(
            signedToRing(sum, encoding.bits),
            encoding,
            accepted.length,
            reportClipped,
          );
          const k = accepted.length;
          return {
            done: {
              sum: splitByShape(decoded.weightedSum, ctx.shape),
              totalWeight: decoded.totalWeight,
              contributors: accepted.map((i) => contributors[i]!),
              meanErrorBound:
                (k * 2 ** -(encoding.fractionalBits + 1)) / Math.max(1, decoded.totalWeight),
              ...(decoded.clippedValues === undefined
                ? {}
                : { clippedValues: decoded.clippedValues }),
            },
          };
        },
      };
    },
  };
}

/** Options of {@link homomorphicClientAggregator}. */
export interface HomomorphicClientOptions extends Pick<EncryptOptions, 'pool'> {
  /** This client's Ed25519 secret key; its public key is registered with the key holder. */
  signingKey: Uint8Array;
}

/** The client side of homomorphic (BFV) aggregation. */
export function homomorphicClientAggregator(options: HomomorphicClientOptions): ClientAggregator {
  const signingKey = options.signingKey;
  return {
    mode: 'homomorphic',
    async begin(c: ClientContribution): Promise<ClientAggregation> {
      const { encoding, context, reportClipped, publicParams } = decodeParams(
        c.task.aggregationParams,
      );
      const info = describeParams(publicParams);
      const flat = flatten(c.update);
      if (info.scheme !== 'bfv' || info.length !== hiddenUpdateLength(flat.length)) {
        throw new UnseenError('ERR_PARAMETER_MISMATCH', 'the BFV parameters do not fit this model');
      }
      const w = c.task.uniformWeights ? 1 : Math.min(c.numExamples, encoding.maxWeight);
      // Under DP (uniform weights) the clipped count is not sent, whatever the params say.
      const { data } = encodeHiddenUpdate(
        flat,
        encoding,
        w,
        reportClipped && !c.task.uniformWeights,
      );
      const values = ringToSigned(data, encoding.bits);
      return {
        // Nothing per client in the clear: no update, no example count, no metric.
        fitRes: () => ({ type: 2, round: c.round, numExamples: 0, metrics: {} }),
        afterFit: async () => {
          const contribution = await encryptContribution(
            publicParams,
            values,
            options.pool === undefined ? {} : { pool: options.pool },
          );
          return signContribution(publicParams, contribution, { secretKey: signingKey, context });
        },
        async onMessage(): Promise<Uint8Array | undefined> {
          throw new UnseenError(
            'ERR_UNEXPECTED_MESSAGE',
            'homomorphic aggregation sends the server nothing',
          );
        },
      };
    },
  };
}
