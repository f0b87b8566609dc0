/**
 * A malformed, wrong-shape, non-finite or out-of-protocol update is rejected with a typed error,
 * recorded as that client's failure, and leaves the global model to the honest clients.
 */
import { decodeMessage, encodeMessage, newSessionId } from '@unseen/core';
import {
  decodeFederated,
  encodeFederated,
  FedAvgServer,
  MSG,
  type Weights,
} from '@unseen/federated';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const initial: Weights = [Float32Array.of(1, 2), Float32Array.of(3)];

async function round(server: FedAvgServer, ids: string[]): Promise<number> {
  const out = await server.startFit(ids);
  const { message } = decodeFederated(out.get(ids[0]!)!);
  return (message as { round: number }).round;
}

function fitRes(server: FedAvgServer, r: number, update: Weights, n = 1): Uint8Array {
  return encodeFederated(server.session, {
    type: MSG.FIT_RES,
    round: r,
    numExamples: n,
    metrics: {},
    update,
  });
}

const honest: Weights = [Float32Array.of(0.5, 0.5), Float32Array.of(-1)];

describe('bad updates', () => {
  const cases: [string, (s: FedAvgServer, r: number) => Uint8Array, string][] = [
    [
      'wrong tensor count',
      (s, r) => fitRes(s, r, [Float32Array.of(1, 1)]),
      'ERR_PARAMETER_MISMATCH',
    ],
    [
      'wrong tensor length',
      (s, r) => fitRes(s, r, [Float32Array.of(1, 1, 1), Float32Array.of(1)]),
      'ERR_PARAMETER_MISMATCH',
    ],
    [
      'NaN value',
      (s, r) => fitRes(s, r, [Float32Array.of(Number.NaN, 1), Float32Array.of(1)]),
      'ERR_MALFORMED_MESSAGE',
    ],
    [
      'infinite value',
      (s, r) => fitRes(s, r, [Float32Array.of(Infinity, 1), Float32Array.of(1)]),
      'ERR_MALFORMED_MESSAGE',
    ],
    ['zero examples', (s, r) => fitRes(s, r, honest, 0), 'ERR_MALFORMED_MESSAGE'],
    ['truncated', (s, r) => fitRes(s, r, honest).subarray(0, 40), 'ERR_MALFORMED_MESSAGE'],
    ['extended', (s, r) => Uint8Array.of(...fitRes(s, r, honest), 0), 'ERR_MALFORMED_MESSAGE'],
    [
      'another session',
      (_s, r) =>
        encodeFederated(newSessionId(), {
          type: MSG.FIT_RES,
          round: r,
          numExamples: 1,
          metrics: {},
          update: honest,
        }),
      'ERR_SESSION_MISMATCH',
    ],
    ['another round', (s, r) => fitRes(s, r + 1, honest), 'ERR_UNEXPECTED_MESSAGE'],
    [
      'wrong type',
      (s, r) =>
        encodeFederated(s.session, {
          type: MSG.EVALUATE_RES,
          round: r,
          numExamples: 1,
          loss: 0,
          metrics: {},
        }),
      'ERR_UNEXPECTED_MESSAGE',
    ],
    [
      'no update',
      (s, r) =>
        encodeFederated(s.session, { type: MSG.FIT_RES, round: r, numExamples: 1, metrics: {} }),
      'ERR_MALFORMED_MESSAGE',
    ],
  ];
  for (const [name, make, code] of cases) {
    it(`${name}: ${code}, the client fails, the honest update alone moves the model`, async () => {
      const server = new FedAvgServer({ initialWeights: initial });
      const r = await round(server, ['good', 'bad']);
      await server.receive('bad', make(server, r));
      await server.receive('good', fitRes(server, r, honest, 5));
      const fit = server.lastFit!;
      expect(fit.status).toBe('applied');
      expect(fit.failures).toEqual([expect.objectContaining({ client: 'bad', code })]);
      expect(fit.contributors).toEqual(['good']);
      expect(server.weights).toEqual([Float32Array.of(1.5, 2.5), Float32Array.of(2)]);
    });
  }

  it('with acceptFailures false, one bad update leaves the model unchanged', async () => {
    const server = new FedAvgServer({ initialWeights: initial, acceptFailures: false });
    const r = await round(server, ['good', 'bad']);
    await server.receive('good', fitRes(server, r, honest, 5));
    await server.receive('bad', fitRes(server, r, [Float32Array.of(1)]));
    expect(server.lastFit!.status).toBe('discarded');
    expect(server.weights).toEqual(initial);
  });

  it('fuzzed bytes never throw out of receive and never change the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 0, max: 199 }),
        async (junk, flip) => {
          const server = new FedAvgServer({ initialWeights: initial, acceptFailures: false });
          const r = await round(server, ['a', 'b']);
          const valid = fitRes(server, r, honest);
          const flipped = valid.slice();
          flipped[flip % flipped.length]! ^= 0x40;
          await server.receive('a', junk);
          await server.receive('b', flipped);
          const fit = server.lastFit!;
          // Either both failed (model unchanged) or the flip hit a value and stayed well formed.
          if (fit.status !== 'applied') expect(server.weights).toEqual(initial);
          expect(fit.failures.map((f) => f.client)).toContain('a');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('under DP with central noise, an unclipped update is refused', async () => {
    const server = new FedAvgServer({
      initialWeights: initial,
      dp: { noiseMultiplier: 0, clipNorm: 1, sampling: 'fixed' },
    });
    const r = await round(server, ['a', 'b']);
    await server.receive('a', fitRes(server, r, [Float32Array.of(3, 4), Float32Array.of(0)]));
    await server.receive('b', fitRes(server, r, [Float32Array.of(0.6, 0.8), Float32Array.of(0)]));
    expect(server.lastFit!.failures).toEqual([
      expect.objectContaining({ client: 'a', code: 'ERR_MALFORMED_MESSAGE' }),
    ]);
    // Fixed denominator: the expected 2 participants.
    expect(server.weights[0]![0]).toBeCloseTo(1 + 0.6 / 2, 6);
  });

  it('messages from clients not in the round are ignored', async () => {
    const server = new FedAvgServer({ initialWeights: initial });
    const r = await round(server, ['a', 'b']);
    expect((await server.receive('intruder', fitRes(server, r, honest))).size).toBe(0);
    expect(server.awaiting).toEqual(new Set(['a', 'b']));
  });

  it('the envelope carries the protocol version: another version is refused', async () => {
    const server = new FedAvgServer({ initialWeights: initial });
    const r = await round(server, ['a', 'b']);
    const env = decodeMessage(fitRes(server, r, honest));
    await server.receive('a', encodeMessage({ ...env, version: 9 }));
    await server.expire();
    expect(server.lastFit!.failures.map((f) => f.code).sort()).toEqual([
      'ERR_TIMEOUT',
      'ERR_UNSUPPORTED_VERSION',
    ]);
    expect(server.lastFit!.status).toBe('discarded');
  });
});

describe('bad options', () => {
  it('the server refuses initial weights that are not Float32Array tensors', () => {
    for (const w of [undefined, [], [new Float64Array(2)], 'weights']) {
      expect(() => new FedAvgServer({ initialWeights: w as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(() => new FedAvgServer({ initialWeights: initial, fractionFit: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(
      () => new FedAvgServer({ initialWeights: initial, dp: { noiseMultiplier: -1, clipNorm: 1 } }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
