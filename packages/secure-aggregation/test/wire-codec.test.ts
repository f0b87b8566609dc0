import { isUnseenError } from '@unseen/core';
import { secAggParams } from '@unseen/secure-aggregation';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as w from '../src/wire.js';

// A small active SecAgg+ round: below what the analysis asks for, which the codecs do not care about.
const params = secAggParams({
  clients: 40,
  neighbours: 10,
  length: 6,
  bits: 64,
  active: true,
  allowUnsafeParameters: true,
});
const group = params.neighbours + 1;
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const index = fc.integer({ min: 0, max: params.clients - 1 });
const sortedIndices = (max: number) =>
  fc.uniqueArray(index, { maxLength: max }).map((a) => a.sort((x, y) => x - y));
const bitmapOf = (size: number) =>
  fc
    .array(fc.boolean(), { minLength: size, maxLength: size })
    .map((bits) => w.makeBitmap(size, (p) => bits[p]!));
const bitmap = bitmapOf(group);
const survivors = bitmapOf(params.clients);

interface Codec<T> {
  name: string;
  arb: fc.Arbitrary<T>;
  encode(v: T): Uint8Array;
  decode(b: Uint8Array): T;
}

const codecs: Codec<unknown>[] = [
  {
    name: 'setup',
    arb: fc.record({ to: index, params: fc.constant(params), graphSeed: bytes(16) }),
    encode: (v) => w.encodeSetup(v as w.SetupBody),
    decode: (b) => w.decodeSetup(b),
  },
  {
    name: 'advertise',
    arb: fc.record({ index, cPK: bytes(32), sPK: bytes(32), signature: bytes(64) }),
    encode: (v) => w.encodeAdvertise(v as w.AdvertisedKeys, true),
    decode: (b) => w.decodeAdvertise(b, params),
  },
  {
    name: 'keys',
    arb: fc.record({
      to: index,
      entries: sortedIndices(group).chain((ids) =>
        fc.tuple(
          ...ids.map((i) =>
            fc.record({
              index: fc.constant(i),
              cPK: bytes(32),
              sPK: bytes(32),
              signature: bytes(64),
            }),
          ),
        ),
      ),
    }),
    encode: (v) => w.encodeKeys(v as w.KeysBody, true),
    decode: (b) => w.decodeKeys(b, params),
  },
  {
    name: 'shareKeys',
    arb: fc.record({
      from: index,
      commitment: bytes(32),
      entries: sortedIndices(params.neighbours).chain((ids) =>
        fc.tuple(
          ...ids.map((i) =>
            fc.record({
              peer: fc.constant(i),
              nonce: bytes(12),
              ciphertext: bytes(w.SHARE_CIPHERTEXT_BYTES),
            }),
          ),
        ),
      ),
    }),
    encode: (v) => w.encodeShareKeys(v as w.ShareKeysBody),
    decode: (b) => w.decodeShareKeys(b, params),
  },
  {
    name: 'maskedInput',
    arb: fc.record({ from: index, data: fc.uint32Array({ minLength: 12, maxLength: 12 }) }),
    encode: (v) => w.encodeMaskedInput(v as w.MaskedInputBody),
    decode: (b) => w.decodeMaskedInput(b, params),
  },
  {
    name: 'unmaskRequest',
    arb: fc.record({
      to: index,
      selfMask: bitmap,
      maskKey: bitmap,
      alive: survivors,
      signatures: sortedIndices(8).chain((ids) =>
        fc.tuple(...ids.map((i) => fc.record({ signer: fc.constant(i), signature: bytes(64) }))),
      ),
    }),
    encode: (v) => w.encodeUnmaskRequest(v as w.UnmaskRequestBody, true),
    decode: (b) => w.decodeUnmaskRequest(b, params),
  },
  {
    name: 'unmask',
    arb: fc.record({
      from: index,
      entries: sortedIndices(group).chain((ids) =>
        fc.tuple(
          ...ids.map((i) =>
            fc.boolean().chain((key) =>
              fc.record({
                owner: fc.constant(i),
                kind: fc.constant(key ? w.SHARE_KIND.maskKey : w.SHARE_KIND.selfMaskSeed),
                share: bytes(key ? w.KEY_SHARE_BYTES : w.SEED_SHARE_BYTES),
              }),
            ),
          ),
        ),
      ),
    }),
    encode: (v) => w.encodeUnmask(v as w.UnmaskBody),
    decode: (b) => w.decodeUnmask(b, params),
  },
  {
    name: 'consistencyRequest',
    arb: fc.record({ to: index, alive: survivors }),
    encode: (v) => w.encodeConsistencyRequest(v as w.ConsistencyRequestBody),
    decode: (b) => w.decodeConsistencyRequest(b, params),
  },
  {
    name: 'consistency',
    arb: fc.record({ from: index, signature: bytes(64) }),
    encode: (v) => w.encodeConsistency(v as w.ConsistencyBody),
    decode: (b) => w.decodeConsistency(b, params),
  },
  {
    name: 'abort',
    arb: fc.record({ code: fc.string({ maxLength: 30 }), reason: fc.string({ maxLength: 200 }) }),
    encode: (v) => w.encodeAbort(v as w.AbortBody),
    decode: (b) => w.decodeAbort(b),
  },
];

function normalise(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_, x) => (ArrayBuffer.isView(x) ? Array.from(x as Uint8Array) : x)),
  );
}

describe('wire format', () => {
  for (const c of codecs) {
    it(`${c.name}: round-trips; truncated and extended bodies are ERR_MALFORMED_MESSAGE`, () => {
      fc.assert(
        fc.property(c.arb, fc.nat(), (v, cut) => {
          const b = c.encode(v);
          expect(normalise(c.decode(b))).toEqual(normalise(v));
          const short = b.subarray(0, cut % b.length);
          let code = 'none';
          try {
            c.decode(short);
          } catch (e) {
            code = isUnseenError(e) ? e.code : 'untyped';
          }
          expect(code).toBe('ERR_MALFORMED_MESSAGE');
          expect(() => c.decode(Uint8Array.of(...b, 0))).toThrow(
            expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
          );
        }),
        { numRuns: 40 },
      );
    });
  }

  it('refuses unsorted or duplicated lists, out-of-range indices, stray bitmap bits and unknown kinds', () => {
    const keys = {
      to: 1,
      entries: [2, 1].map((i) => ({
        index: i,
        cPK: new Uint8Array(32),
        sPK: new Uint8Array(32),
        signature: new Uint8Array(64),
      })),
    };
    expect(() => w.decodeKeys(w.encodeKeys(keys, true), params)).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
    );
    keys.entries[0]!.index = 1;
    expect(() => w.decodeKeys(w.encodeKeys(keys, true), params)).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
    );
    expect(() =>
      w.decodeConsistency(w.encodeConsistency({ from: 40, signature: new Uint8Array(64) }), params),
    ).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }));
    const strayGroup = new Uint8Array(w.bitmapBytes(group)).fill(0xff); // 11 members, 16 bits
    expect(() =>
      w.decodeUnmaskRequest(
        w.encodeUnmaskRequest(
          {
            to: 0,
            selfMask: strayGroup,
            maskKey: new Uint8Array(2),
            alive: new Uint8Array(5),
            signatures: [],
          },
          true,
        ),
        params,
      ),
    ).toThrow(expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }));
    const um = w.encodeUnmask({
      from: 0,
      entries: [{ owner: 1, kind: 0, share: new Uint8Array(17) }],
    });
    um[12] = 7; // the kind byte
    expect(() => w.decodeUnmask(um, params)).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
    );
    // A count that claims more entries than the body can hold is refused before allocation.
    const huge = w.encodeShares({ to: 0, entries: [] });
    huge.set([0xff, 0xff, 0xff, 0xff], 4);
    expect(() => w.decodeShares(huge, params)).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
    );
    // A setup with parameters below the papers' bounds is malformed.
    const setup = w.encodeSetup({ to: 0, params, graphSeed: new Uint8Array(16) });
    setup[9] = 5; // threshold low byte: 5 is not above half of 11
    expect(() => w.decodeSetup(setup)).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_MESSAGE' }),
    );
  });
});
