/** The FedAvg wire format: round trips, and truncated, extended or bit-flipped input rejected. */
import { isUnseenError, newSessionId } from '@unseen/core';
import { decodeFederated, encodeFederated, type FederatedMessage, MSG } from '@unseen/federated';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const f32 = fc.float({ noNaN: true, noDefaultInfinity: true }).map(Math.fround);
const tensors = fc.array(
  fc.array(f32, { maxLength: 8 }).map((a) => Float32Array.from(a)),
  { maxLength: 4 },
);
const key = fc.string({ minLength: 1, maxLength: 12 });
const metrics = fc.dictionary(key, fc.double({ noNaN: true, noDefaultInfinity: true }), {
  maxKeys: 4,
});
const config = fc.dictionary(
  key,
  fc.oneof(fc.double({ noNaN: true }), fc.string({ maxLength: 10 }), fc.boolean()),
  { maxKeys: 4 },
);
const round = fc.integer({ min: 0, max: 2 ** 32 - 1 });

const message: fc.Arbitrary<FederatedMessage> = fc.oneof(
  fc.record({
    type: fc.constant(MSG.FIT_INS),
    round,
    task: fc.record({
      aggregation: fc.constantFrom('plain', 'secure', 'homomorphic' as const),
      clipNorm: fc.double({ min: 0, max: 100, noNaN: true }),
      noiseStd: fc.double({ min: 0, max: 100, noNaN: true }),
      uniformWeights: fc.boolean(),
      aggregationParams: fc.uint8Array({ maxLength: 20 }),
    }),
    config,
    weights: tensors,
  }),
  fc.record({
    type: fc.constant(MSG.FIT_RES),
    round,
    numExamples: fc.nat(),
    metrics,
    update: tensors,
  }),
  fc.record({ type: fc.constant(MSG.FIT_RES), round, numExamples: fc.nat(), metrics }),
  fc.record({ type: fc.constant(MSG.EVALUATE_INS), round, config, weights: tensors }),
  fc.record({
    type: fc.constant(MSG.EVALUATE_RES),
    round,
    numExamples: fc.nat(),
    loss: fc.double({ noNaN: true }),
    metrics,
  }),
  fc.record({
    type: fc.constant(MSG.FAILURE),
    round,
    phase: fc.constantFrom('fit', 'evaluate' as const),
    reason: fc.string({ maxLength: 30 }),
  }),
  fc.record({
    type: fc.constant(MSG.AGGREGATION),
    round,
    payload: fc.uint8Array({ maxLength: 40 }),
  }),
  fc.record({ type: fc.constant(MSG.SHUTDOWN), reason: fc.string({ maxLength: 30 }) }),
) as fc.Arbitrary<FederatedMessage>;

describe('wire format', () => {
  it('decode(encode(m)) = m', () => {
    fc.assert(
      fc.property(message, (m) => {
        const session = newSessionId();
        const { message: back, envelope } = decodeFederated(encodeFederated(session, m), {
          session,
        });
        expect(back).toEqual(m);
        expect(envelope.type).toBe(m.type);
      }),
    );
  });

  it('every truncation and extension is rejected with a typed error', () => {
    fc.assert(
      fc.property(message, fc.nat(), (m, cut) => {
        const bytes = encodeFederated(newSessionId(), m);
        const short = bytes.subarray(0, cut % bytes.length);
        expect(() => decodeFederated(short)).toThrow(
          expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
        );
        expect(() => decodeFederated(Uint8Array.of(...bytes, 1))).toThrow(
          expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
        );
      }),
    );
  });

  it('bit flips either decode to a valid message or raise UnseenError, never anything else', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 0, max: 7 }), (m, at, bit) => {
        const bytes = encodeFederated(newSessionId(), m);
        bytes[at % bytes.length]! ^= 1 << bit;
        try {
          decodeFederated(bytes);
        } catch (e) {
          expect(isUnseenError(e)).toBe(true);
        }
      }),
    );
  });

  it('tensors of another shape are refused while decoding', () => {
    const s = newSessionId();
    const bytes = encodeFederated(s, {
      type: MSG.FIT_RES,
      round: 1,
      numExamples: 1,
      metrics: {},
      update: [Float32Array.of(1, 2)],
    });
    expect(() => decodeFederated(bytes, { shape: [3] })).toThrow(
      expect.objectContaining({ code: 'ERR_PARAMETER_MISMATCH' }),
    );
    expect(() => decodeFederated(bytes, { shape: [2, 1] })).toThrow(
      expect.objectContaining({ code: 'ERR_PARAMETER_MISMATCH' }),
    );
    expect(() => decodeFederated(bytes, { maxValues: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
    );
  });
});
