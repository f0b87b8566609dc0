// The aggregator's arithmetic on the wire form, against BigInt and against SEAL's own add.
import { fileURLToPath } from 'node:url';
import { base64UrlToBytes, randomBytes } from '@unseen/core';
import {
  Aggregator,
  createKeyHolder,
  encryptContribution,
  TC128_MAX_BITS,
} from '@unseen/homomorphic';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { choosePrimes, maxCoeffModulusBits, SealSession } from '../src/seal/adapter.js';
import {
  CONTRIBUTION_HEADER_BYTES,
  decodeVectorParams,
  deriveLayout,
  type VectorParams,
} from '../src/seal/params.js';
import { SimdCoefficientSums, type Sums, simdSumsAvailable } from '../src/seal/simd-sums.js';
import { SUMS_WASM } from '../src/seal/sums-wasm.js';
import { CoefficientSums, packWords, reduceSums, unpackWords } from '../src/seal/wire.js';

/** Vector parameters with one data prime q at ring degree n, for the wire codec and sums. */
function oneLevel(n: number, q: bigint, length: number): VectorParams {
  const layout = deriveLayout(n, length, [q], 1);
  return {
    scheme: 'bfv',
    polyModulusDegree: n,
    coeffModulus: [q],
    levelPrimes: 1,
    ...layout,
  } as VectorParams;
}

describe('wire arithmetic', () => {
  it('reduceSums equals BigInt reduction for every prime size and up to 2^20 contributions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 33, max: 60 }),
        fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }),
        fc.integer({ min: 1, max: 1 << 20 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
        (bits, r, k, fr) => {
          const q = ((1n << BigInt(bits - 1)) + (r % (1n << BigInt(bits - 1)))) | 1n;
          const qhi = Number(q >> 32n);
          const hi = new Float64Array(4);
          const lo = new Float64Array(4);
          for (let i = 0; i < 4; i++) {
            // Sums of k words below q: high parts up to k * qhi, low parts up to k * (2^32 - 1).
            hi[i] = Math.floor(fr[2 * i]! * k * (qhi + 1));
            lo[i] = Math.floor(fr[2 * i + 1]! * k * 4294967295);
          }
          hi[3] = k * qhi; // the extremes
          lo[3] = k * 4294967295;
          reduceSums(hi, lo, q, (i, l, h) => {
            const want = ((BigInt(hi[i]!) << 32n) + BigInt(lo[i]!)) % q;
            expect((BigInt(h) << 32n) + BigInt(l)).toBe(want);
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('packs and unpacks words for 1, 2, 3 and 4 high bytes per coefficient', () => {
    for (const bits of [40, 48, 56, 60]) {
      const n = 4096;
      const q = (1n << BigInt(bits)) - 1n; // any odd bound works for the codec
      const params = oneLevel(n, q, 5000);
      const words = new Uint32Array(params.ciphertexts * 2 * n * 2);
      const rnd = new Uint32Array(randomBytes(words.length * 4).buffer);
      for (let i = 0; i < words.length; i += 2) {
        words[i] = rnd[i]!;
        words[i + 1] = rnd[i + 1]! % 2 ** (bits - 32);
      }
      const body = new Uint8Array(params.contributionBytes - CONTRIBUTION_HEADER_BYTES);
      packWords(params, words, body);
      expect(body.length).toBe(
        params.ciphertexts * 2 * n * (bits / 8 === 7.5 ? 8 : Math.ceil(bits / 8)),
      );
      expect(unpackWords(params, body)).toEqual(words);
    }
  });

  it.each([
    ['JavaScript', (p: VectorParams): Sums => new CoefficientSums(p)],
    ['WebAssembly SIMD', (p: VectorParams): Sums => new SimdCoefficientSums(p)],
  ])(
    'sums bodies exactly for 5, 6, 7 and 8-byte coefficients, past several flushes (%s)',
    (_, make) => {
      for (const bits of [40, 48, 56, 60]) {
        const n = 4096;
        const q = (1n << BigInt(bits)) - 2n * BigInt(n) * 12345n + 1n; // odd, just below 2^bits
        const params = oneLevel(n, q, 10);
        const count = 2 * n;
        const sums = make(params);
        const want = new Array<bigint>(count).fill(0n);
        const k = 40; // more than the 16 additions a 56-bit partial sum holds
        for (let c = 0; c < k; c++) {
          const words = new Uint32Array(2 * count);
          const rnd = new Uint32Array(randomBytes(8 * count).buffer);
          for (let i = 0; i < count; i++) {
            // Uniform below q, and the extremes q - 1 and 0 at fixed places.
            let x = ((BigInt(rnd[2 * i]!) << 32n) | BigInt(rnd[2 * i + 1]!)) % q;
            if (i === 0) x = q - 1n;
            if (i === 1) x = 0n;
            want[i] = (want[i]! + x) % q;
            words[2 * i] = Number(x & 0xffffffffn);
            words[2 * i + 1] = Number(x >> 32n);
          }
          const body = new Uint8Array(params.contributionBytes - CONTRIBUTION_HEADER_BYTES);
          packWords(params, words, body);
          sums.accept(body, 1);
        }
        const check = () => {
          const out = new Uint8Array(params.contributionBytes - CONTRIBUTION_HEADER_BYTES);
          sums.write(out);
          const got = unpackWords(params, out);
          for (let i = 0; i < count; i++) {
            expect((BigInt(got[2 * i + 1]!) << 32n) | BigInt(got[2 * i]!)).toBe(want[i]);
          }
        };
        check();
        // A coefficient equal to q, q + 1 (the same high part, a larger low word) or 2^(8w) - 1 is
        // refused, wherever it is, and the sums stay as they were.
        for (const [at, x] of [
          [3, q],
          [count - 1, q + 1n],
          [1000, (1n << BigInt(8 * Math.ceil(bits / 8))) - 1n],
        ] as const) {
          const bad = new Uint32Array(2 * count);
          bad[2 * at] = Number(x & 0xffffffffn);
          bad[2 * at + 1] = Number(x >> 32n);
          const body = new Uint8Array(params.contributionBytes - CONTRIBUTION_HEADER_BYTES);
          packWords(params, bad, body);
          expect(() => sums.accept(body, 1)).toThrow(
            new RegExp(`coefficient ${at} of prime 0 is not reduced`),
          );
          expect(sums.count).toBe(k);
        }
        check();
      }
    },
  );

  it('WebAssembly SIMD: 16-bit planes at their largest, past the 65,537 additions a 32-bit lane holds', () => {
    const n = 1024;
    const q = (1n << 48n) - 2n * BigInt(n) * 7n + 1n; // 6-byte coefficients, high part 0xffff
    const params = oneLevel(n, q, 10);
    const count = 2 * n;
    const words = new Uint32Array(2 * count);
    for (let i = 0; i < count; i++) {
      const x = q - 1n - BigInt(i);
      words[2 * i] = Number(x & 0xffffffffn);
      words[2 * i + 1] = Number(x >> 32n);
    }
    const body = new Uint8Array(params.contributionBytes - CONTRIBUTION_HEADER_BYTES);
    packWords(params, words, body);
    const sums = new SimdCoefficientSums(params);
    const k = 70_000;
    for (let c = 0; c < k; c++) sums.accept(body, 1);
    const out = new Uint8Array(body.length);
    sums.write(out);
    const got = unpackWords(params, out);
    for (let i = 0; i < count; i++) {
      const want = ((q - 1n - BigInt(i)) * BigInt(k)) % q;
      expect((BigInt(got[2 * i + 1]!) << 32n) | BigInt(got[2 * i]!)).toBe(want);
    }
  }, 60_000);

  it('the WebAssembly kernels are sums.wat assembled (the embedded bytes cannot drift)', async () => {
    const { assemble } = (await import('../scripts/assemble-wasm.mjs' as string)) as {
      assemble: (path: string) => Promise<Uint8Array>;
    };
    const path = fileURLToPath(new URL('../src/seal/sums.wat', import.meta.url));
    expect(await assemble(path)).toEqual(base64UrlToBytes(SUMS_WASM));
    expect(simdSumsAvailable()).toBe(true); // Node 20+ has WebAssembly SIMD
  });

  it("the aggregator computes the same ciphertext words as SEAL's evaluator.add", async () => {
    for (const scheme of ['bfv', 'ckks'] as const) {
      const holder = await createKeyHolder({ scheme, length: 3000, maxContributions: 10 });
      const p = decodeVectorParams(holder.publicParams);
      const values =
        scheme === 'bfv'
          ? () => BigInt64Array.from({ length: 3000 }, (_, i) => BigInt(i - 1500))
          : () => Float64Array.from({ length: 3000 }, (_, i) => Math.sin(i));
      const a = await encryptContribution(holder.publicParams, values() as never, { pool: null });
      const b = await encryptContribution(holder.publicParams, values() as never, { pool: null });
      const agg = await Aggregator.create(holder.publicParams);
      agg.add(a);
      agg.add(b);
      const ours = unpackWords(p, agg.result().subarray(CONTRIBUTION_HEADER_BYTES));
      const session = await SealSession.create({
        scheme,
        polyModulusDegree: p.polyModulusDegree,
        coeffModulus: p.coeffModulus,
        plainModulus: p.plainModulus,
      });
      session.usePublicKey(p.publicKey);
      const wa = unpackWords(p, a.subarray(CONTRIBUTION_HEADER_BYTES));
      const wb = unpackWords(p, b.subarray(CONTRIBUTION_HEADER_BYTES));
      const per = session.ciphertextWords;
      for (let ct = 0; ct < p.ciphertexts; ct++) {
        const ref = session.addWordsWithSeal(
          wa.subarray(ct * per, (ct + 1) * per),
          wb.subarray(ct * per, (ct + 1) * per),
          2 ** p.scaleBits,
        );
        expect(ours.subarray(ct * per, (ct + 1) * per)).toEqual(ref);
      }
      session.dispose();
      holder.dispose();
    }
  });

  it('the tc128 table matches SEAL, and SEAL picks the primes the parameters record', async () => {
    for (const [n, bits] of Object.entries(TC128_MAX_BITS)) {
      expect(await maxCoeffModulusBits(Number(n))).toBe(bits);
    }
    const primes = await choosePrimes(4096, [56, 53]);
    expect(primes.map((q) => q.toString(2).length)).toEqual([56, 53]);
    for (const q of primes) expect(q % 8192n).toBe(1n);
  });
});
