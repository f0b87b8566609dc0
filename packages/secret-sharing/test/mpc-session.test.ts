import { decodeRingIntegers, encodeRingIntegers } from '@unseen/secret-sharing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOfAsync } from './helpers.js';
import { runParties, values } from './mpc-harness.js';

describe('MpcSession: n parties and a dealer over channels', () => {
  it('inputs, adds, multiplies (Beaver) and reveals integers, for 2..5 parties (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), { minLength: 1, maxLength: 16 }),
        async (n, xs) => {
          const ys = xs.map((x, i) => (x ^ (i * 7919)) - 12345);
          const { outcomes, dealer } = await runParties(n, async (s, p) => {
            const x = await s.input(0, p === 0 ? encodeRingIntegers(64, xs) : xs.length);
            const y = await s.input(n - 1, p === n - 1 ? encodeRingIntegers(64, ys) : ys.length);
            const xy = await s.mul(x, y);
            const expr = s.addPublic(s.mulPublic(s.sub(xy, x), 3), 5); // 3(xy - x) + 5
            return {
              expr: decodeRingIntegers(64, await s.reveal(expr)),
              sum: decodeRingIntegers(64, await s.reveal(s.sum(s.add(x, y)))),
            };
          });
          const want = xs.map((x, i) => 3n * (BigInt(x) * BigInt(ys[i]!) - BigInt(x)) + 5n);
          const wantSum = xs.reduce((acc, x, i) => acc + BigInt(x) + BigInt(ys[i]!), 0n);
          for (const v of values(outcomes)) {
            expect(v.expr).toEqual(want);
            expect(v.sum).toEqual([wantSum]);
          }
          expect(dealer.status === 'fulfilled' && dealer.value).toEqual({
            requests: 1,
            elements: xs.length,
          });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('fixed point: products within 2^-f of the real products, in Z_2^64 and Z_2^32', async () => {
    for (const bits of [64, 32] as const) {
      const xs = [1.5, -2.25, 100.125, -0.5];
      const ys = [4, 3.5, -0.75, -0.5];
      const { outcomes } = await runParties(
        3,
        async (s, p) => {
          const x = await s.inputFixed(1, p === 1 ? xs : 4, bits === 32 ? 127 : undefined);
          const y = await s.inputFixed(2, p === 2 ? ys : 4, bits === 32 ? 127 : undefined);
          return s.revealNumbers(await s.mulFixed(x, y));
        },
        { session: () => ({ bits }) },
      );
      const f = bits === 64 ? 16 : 8;
      for (const got of values(outcomes)) {
        for (const [i, v] of got.entries())
          expect(Math.abs(v - xs[i]! * ys[i]!)).toBeLessThanOrEqual(2 ** -f);
      }
    }
  });

  it('revealTo opens to one party only', async () => {
    const { outcomes } = await runParties(3, async (s, p) => {
      const x = await s.input(0, p === 0 ? Uint32Array.of(7, 0, 9, 0) : 2);
      return s.revealTo(2, x);
    });
    expect(values(outcomes)).toEqual([undefined, undefined, Uint32Array.of(7, 0, 9, 0)]);
  });

  it('local operations refuse mismatched vectors; communicating ones run one at a time', async () => {
    const { outcomes } = await runParties(2, async (s, p) => {
      const a = await s.input(0, p === 0 ? new Uint32Array(4) : 2);
      const b = await s.input(1, p === 1 ? new Uint32Array(6) : 3);
      const errors: (string | undefined)[] = [];
      for (const f of [
        () => s.add(a, b),
        () => s.add(a, s.mulPublic(a, 2, 3)),
        () => s.slice(a, 1, 3),
        () => s.mulPublic(s.mulPublic(a, 1, 40), 1, 30), // 70 fractional bits
      ]) {
        try {
          f();
          errors.push(undefined);
        } catch (e) {
          errors.push((e as { code: string }).code);
        }
      }
      const first = s.reveal(a);
      const second = codeOfAsync(() => s.reveal(a));
      await first;
      errors.push(await second);
      return errors;
    });
    for (const v of values(outcomes)) {
      expect(v).toEqual([
        'ERR_PARAMETER_MISMATCH',
        'ERR_PARAMETER_MISMATCH',
        'ERR_INVALID_ARGUMENT',
        'ERR_INVALID_ARGUMENT',
        'ERR_INVALID_STATE',
      ]);
    }
  });
});
