/**
 * Homomorphic aggregation against a malicious server: it holds every client's signed BFV
 * ciphertext of a round and may call the key holder as it likes, yet it cannot get a single
 * client's update decrypted. The key holder sums registered clients' signed contributions itself
 * and decrypts each round once, so relabelling, padding with its own encryptions, counting a
 * client twice, moving a contribution between rounds and subtracting two subsets all fail.
 */
import { generateSigningKey } from '@unseen/core';
import {
  createHomomorphicKeyHolder,
  decodeFederated,
  FedAvgClient,
  FedAvgServer,
  federatedKeyHolder,
  homomorphicAggregator,
  homomorphicClientAggregator,
  MSG,
  type Weights,
} from '@unseen/federated';
import { encryptContribution, type KeyHolder, signContribution } from '@unseen/homomorphic';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf } from './helpers.js';

const initial: Weights = [new Float32Array(6).fill(0)];
const identities = Array.from({ length: 3 }, () => generateSigningKey());
let holder: KeyHolder<'bfv'>;

beforeAll(async () => {
  holder = await createHomomorphicKeyHolder({
    shape: [6],
    contributors: identities.map((k) => k.publicKey),
    maxExamples: 10,
    minContributions: 2,
  });
}, 60_000);

afterAll(() => holder.dispose());

/** One round as the clients play it: their signed ciphertexts, as the server receives them. */
async function collectRound(server: FedAvgServer): Promise<Uint8Array[]> {
  const out = await server.startFit(['c0', 'c1', 'c2']);
  const payloads: Uint8Array[] = [];
  for (const [id, fitIns] of out) {
    const i = Number(id.slice(1));
    const client = new FedAvgClient({
      train: async (w) => ({
        weights: [w[0]!.map((v, j) => v + 0.1 * (i + 1) + 0.01 * j)],
        numExamples: 5,
      }),
      aggregators: {
        homomorphic: homomorphicClientAggregator({
          pool: null,
          signingKey: identities[i]!.secretKey,
        }),
      },
    });
    const replies = await client.handle(fitIns);
    const m = decodeFederated(replies[1]!).message;
    if (m.type !== MSG.AGGREGATION) throw new Error('expected the ciphertext');
    payloads[i] = m.payload;
  }
  return payloads;
}

/** The context a signed contribution is bound to (version, type, hash, length, context...). */
const contextOf = (signed: Uint8Array) => signed.slice(35, 35 + signed[34]!);

describe('a malicious server and the key holder', () => {
  it('cannot get one client update decrypted, alone or dressed up as a sum', async () => {
    const keyHolder = federatedKeyHolder(holder);
    const newServer = () =>
      new FedAvgServer({
        initialWeights: initial,
        aggregator: homomorphicAggregator({ keyHolder, maxExamples: 10 }),
      });
    const [victim, second, third] = await collectRound(newServer());
    const ctx = contextOf(victim!);
    // Alone, or twice.
    expect(await codeOf(() => keyHolder.decryptRound(ctx, [victim!]))).toBe('ERR_POLICY_DENIED');
    expect(await codeOf(() => keyHolder.decryptRound(ctx, [victim!, victim!]))).toBe(
      'ERR_POLICY_DENIED',
    );
    // Padded with an encryption of zero the server made and signed itself.
    const own = generateSigningKey();
    const zero = await encryptContribution(
      holder.publicParams,
      new BigInt64Array(holder.info.length),
      { pool: null },
    );
    const padding = signContribution(holder.publicParams, zero, {
      secretKey: own.secretKey,
      context: ctx,
    });
    expect(await codeOf(() => keyHolder.decryptRound(ctx, [victim!, padding]))).toBe(
      'ERR_POLICY_DENIED',
    );
    // The inner ciphertext relabelled as an aggregate sum, handed to the key holder directly.
    const offset = 35 + victim![34]! + 32;
    const inner = victim!.slice(offset, victim!.length - 64);
    inner[1] = 0x03;
    new DataView(inner.buffer).setUint32(34, 3);
    expect(await codeOf(() => holder.decrypt(inner))).toBe('ERR_POLICY_DENIED');
    // A contribution of the second client from another round does not count in this one.
    const later = await collectRound(newServer());
    expect(await codeOf(() => keyHolder.decryptRound(ctx, [victim!, later[1]!]))).toBe(
      'ERR_POLICY_DENIED',
    );
    // A sum of two honest clients decrypts (that is what minContributions 2 allows) ...
    const pair = await keyHolder.decryptRound(ctx, [victim!, second!]);
    expect(pair.accepted).toEqual([0, 1]);
    // ... but only once per round: no second subset to subtract it from.
    expect(await codeOf(() => keyHolder.decryptRound(ctx, [second!, third!]))).toBe('ERR_REPLAY');
    expect(await codeOf(() => keyHolder.decryptRound(ctx, [victim!, second!, third!]))).toBe(
      'ERR_REPLAY',
    );
  }, 60_000);

  it('an honest server gets the round aggregated as usual', async () => {
    const keyHolder = federatedKeyHolder(holder);
    const server = new FedAvgServer({
      initialWeights: initial,
      aggregator: homomorphicAggregator({ keyHolder, maxExamples: 10 }),
    });
    const out = await server.startFit(['c0', 'c1', 'c2']);
    for (const [id, fitIns] of out) {
      const i = Number(id.slice(1));
      const client = new FedAvgClient({
        train: async (w) => ({ weights: [w[0]!.map((v) => v + 0.5)], numExamples: 5 }),
        aggregators: {
          homomorphic: homomorphicClientAggregator({
            pool: null,
            signingKey: identities[i]!.secretKey,
          }),
        },
      });
      for (const reply of await client.handle(fitIns)) await server.receive(id, reply);
    }
    const fit = server.lastFit!;
    expect(fit.status).toBe('applied');
    expect(fit.contributors.sort()).toEqual(['c0', 'c1', 'c2']);
    for (const v of server.weights[0]!) expect(Math.abs(v - 0.5)).toBeLessThan(1e-6);
  }, 60_000);
});
