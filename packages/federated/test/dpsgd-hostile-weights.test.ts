/**
 * DP-SGD against starting weights chosen by a hostile FedAvg server. Finite float32 weights can
 * make one record's per-example gradient overflow float32; a naive clip then computes
 * `(C / Infinity) * Infinity = NaN` and the update turns NaN exactly when a sampled record
 * satisfies the server's predicate, an oracle outside the DP accounting. Here such a gradient
 * contributes what a zero gradient does: the update is finite and identical (same randomness)
 * whether or not the predicate holds, and every clipped per-example gradient is finite with
 * norm <= C for arbitrary finite float32 weights (property-tested).
 */
import { encodeFixedPoint, isUnseenError } from '@unseen/core';
import {
  addClipped,
  allFinite,
  clipByL2Norm,
  createDataset,
  type Dataset,
  type DifferentiableModel,
  dpSgd,
  l2Norm,
  mlp,
  Rng,
  softmaxInPlace,
  softmaxRegression,
  type Weights,
} from '@unseen/federated';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const F = 2;
const H = 1;
const C = 2;
const BIG = 3e38; // finite in float32 (max 3.4028e38)
const model = mlp({ features: F, hidden: H, classes: C });
/**
 * W1 (H x F), b1 (H), W2 (C x H), b2 (C): the hidden unit is 100 (x0 - 0.9), active only for
 * x0 > 0.9 (with a margin that the noise of a few steps does not cross), and then the output
 * logits are +-BIG * 5. A record with x0 > 0.9 and label 1 has a gradient of 2 * BIG on b1
 * (overflows float32); with label 0 its gradient is exactly zero.
 */
const hostile: Weights = [
  Float32Array.of(100, 0),
  Float32Array.of(-90),
  Float32Array.of(BIG, -BIG),
  Float32Array.of(0, 0),
];

/** 200 records with x0 <= 0.89 (the predicate fails), then `last` if given. */
function population(last?: { x: [number, number]; y: number }): Dataset {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 200; i++) {
    x.push((i % 90) / 100, (i % 13) / 13);
    y.push(i % 2);
  }
  if (last !== undefined) {
    x.push(...last.x);
    y.push(last.y);
  }
  return createDataset(Float32Array.from(x), y, F, C);
}
const target = { x: [0.95, 0.5] as [number, number], y: 1 }; // "an old defaulter"
const decoy = { x: [0.95, 0.5] as [number, number], y: 0 }; // same row, predicate fails

function gradientOf(m: DifferentiableModel, w: Weights, data: Dataset, row: number): Weights {
  const g = m.shape.map((n) => new Float32Array(n));
  m.lossAndGradient(w, data, [row], g);
  return g;
}

describe('DP-SGD under hostile starting weights', () => {
  it('reproduces the attack: the target record’s gradient overflows and a naive clip turns NaN', () => {
    const data = population(target);
    const g = gradientOf(model, hostile, data, 200);
    expect(allFinite(hostile)).toBe(true);
    expect(allFinite(g)).toBe(false);
    // The clip DP-SGD used to apply: scale = C / ||g|| = 0, then 0 * Infinity.
    const norm = l2Norm(g);
    const naive = g.map((t) => t.map((v) => (norm > 1 ? 1 / norm : 1) * v));
    expect(naive.some((t) => t.some(Number.isNaN))).toBe(true);
    // The decoy's gradient is exactly zero, and every other record's is finite.
    expect(
      gradientOf(model, hostile, population(decoy), 200).every((t) => t.every((v) => v === 0)),
    ).toBe(true);
    for (let r = 0; r < 200; r++) expect(allFinite(gradientOf(model, hostile, data, r))).toBe(true);
  });

  it('the overflowing record contributes exactly zero: the update is finite and identical whether or not the predicate holds', async () => {
    for (const cfg of [
      { steps: 1, samplingRate: 1, learningRate: 0.5, clipNorm: 1, noiseMultiplier: 1.5 },
      { steps: 15, samplingRate: 0.1, learningRate: 0.5, clipNorm: 1, noiseMultiplier: 1.5 },
      { steps: 3, samplingRate: 1, learningRate: 0.5, clipNorm: 1, noiseMultiplier: 0 },
    ]) {
      for (let seed = 0; seed < 4; seed++) {
        const withTarget = await dpSgd(
          model,
          hostile,
          population(target),
          cfg,
          await Rng.seeded(seed),
        );
        const withDecoy = await dpSgd(
          model,
          hostile,
          population(decoy),
          cfg,
          await Rng.seeded(seed),
        );
        expect(allFinite(withTarget)).toBe(true);
        expect(withTarget).toEqual(withDecoy);
        // What the secure aggregation encodes: it accepts the update.
        const flat = Float64Array.from(withTarget.flatMap((t) => Array.from(t, (v) => v / 1e38)));
        expect(() =>
          encodeFixedPoint(flat, { bits: 64, fractionalBits: 16, clip: 4 }),
        ).not.toThrow();
      }
    }
    // Alone, the target leaves the weights as they were (its clipped gradient is zero).
    const alone = createDataset(Float32Array.from(target.x), [target.y], F, C);
    const out = await dpSgd(
      model,
      hostile,
      alone,
      { steps: 2, samplingRate: 1, learningRate: 1, clipNorm: 1, noiseMultiplier: 0 },
      await Rng.seeded(1),
    );
    expect(out).toEqual(hostile);
  });

  it('with crypto randomness the update is never NaN (the audit’s 20 rounds, q = 0.1, 15 steps)', async () => {
    const data = population(target);
    for (let i = 0; i < 20; i++) {
      const out = await dpSgd(model, hostile, data, {
        steps: 15,
        samplingRate: 0.1,
        learningRate: 0.5,
        clipNorm: 1,
        noiseMultiplier: 1.5,
      });
      expect(allFinite(out)).toBe(true);
    }
  });

  it('refuses non-finite or misshapen weights, and noise with fixed-size batches', async () => {
    const data = population();
    const cfg = { steps: 1, samplingRate: 1, learningRate: 1, clipNorm: 1, noiseMultiplier: 1 };
    const nan = hostile.map((t) => t.slice());
    nan[1]![0] = Number.NaN;
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e) => (isUnseenError(e) ? e.code : String(e)),
      );
    expect(await code(dpSgd(model, nan, data, cfg))).toBe('ERR_INVALID_ARGUMENT');
    expect(await code(dpSgd(model, hostile.slice(0, 3), data, cfg))).toBe('ERR_PARAMETER_MISMATCH');
    expect(await code(dpSgd(model, hostile, data, { ...cfg, batchSize: 10 }))).toBe(
      'ERR_INVALID_ARGUMENT',
    );
    const other = createDataset(new Float32Array(3), [0], 3, 2);
    expect(await code(dpSgd(model, hostile, other, cfg))).toBe('ERR_PARAMETER_MISMATCH');
  });

  it('keeps the weights float32 numbers even for a huge learning rate', async () => {
    const w = [Float32Array.of(BIG, -BIG, 1, 2), Float32Array.of(-BIG, BIG)];
    const soft = softmaxRegression({ features: 2, classes: 2 });
    const out = await dpSgd(
      soft,
      w,
      population(),
      { steps: 3, samplingRate: 0.5, learningRate: 1e300, clipNorm: 1, noiseMultiplier: 1 },
      await Rng.seeded(4),
    );
    expect(allFinite(out)).toBe(true);
  });

  it('fixed-size batches sum exactly batchSize records: a full batch is the full-batch step', async () => {
    const soft = softmaxRegression({ features: 2, classes: 2 });
    const w0 = await soft.init(await Rng.seeded(2));
    const data = population();
    const cfg = { steps: 1, samplingRate: 1, learningRate: 0.3, clipNorm: 0.5, noiseMultiplier: 0 };
    const poisson = await dpSgd(soft, w0, data, cfg, await Rng.seeded(1));
    const fixed = await dpSgd(soft, w0, data, { ...cfg, batchSize: 200 }, await Rng.seeded(9));
    fixed.forEach((t, i) => {
      t.forEach((v, j) => {
        expect(v).toBeCloseTo(poisson[i]![j]!, 6);
      });
    });
  });
});

describe('per-example clipping and the forward pass', () => {
  it('a non-finite gradient adds nothing; a finite one adds at most C', () => {
    const sum = [new Float64Array(2), new Float64Array(1)];
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const norm = addClipped(sum, [Float32Array.of(1, bad), Float32Array.of(2)], 1);
      expect(Number.isFinite(norm)).toBe(false);
    }
    expect(sum).toEqual([new Float64Array(2), new Float64Array(1)]);
    const norm = addClipped(sum, [Float32Array.of(3e38, 3e38), Float32Array.of(-3e38)], 2);
    expect(norm / (Math.sqrt(3) * Math.fround(3e38))).toBeCloseTo(1, 12);
    expect(l2Norm(sum)).toBeLessThanOrEqual(2);
    expect(l2Norm(sum)).toBeGreaterThan(2 * (1 - 1e-5));
    expect(() => addClipped(sum, [Float32Array.of(1)], 1)).toThrow(/shapes differ/);
  });

  it('l2Norm does not overflow on finite values; clipByL2Norm zeroes a non-finite update', () => {
    expect(l2Norm([Float64Array.of(1e300, 1e300)])).toBeCloseTo(Math.SQRT2 * 1e300, -290);
    expect(l2Norm([Float64Array.of(1e-300, 1e-300)])).toBeGreaterThan(0);
    expect(l2Norm([Float32Array.of(1, Number.NaN)])).toBeNaN();
    expect(l2Norm([Float32Array.of(Number.NaN, Infinity)])).toBe(Infinity);
    expect(l2Norm([])).toBe(0);
    const r = clipByL2Norm([Float32Array.of(Infinity, 1)], 1);
    expect(r).toEqual({ update: [new Float32Array(2)], norm: Infinity, clipped: true });
  });

  it('softmax never turns NaN: huge, infinite and NaN logits', () => {
    const run = (...z: number[]) => {
      const v = Float64Array.from(z);
      softmaxInPlace(v);
      return Array.from(v);
    };
    expect(run(3e38 * 0.05 * 1e10, -1e300)).toEqual([1, 0]);
    expect(run(Infinity, 1, Infinity)).toEqual([0.5, 0, 0.5]);
    expect(run(Number.NaN, 0)).toEqual([0, 1]);
    expect(run(-Infinity, -Infinity)).toEqual([0.5, 0.5]);
    expect(run(Number.NaN, Number.NaN)).toEqual([0.5, 0.5]);
  });

  const finite32 = fc.float({ noNaN: true, noDefaultInfinity: true });
  const huge = fc.constantFrom(3.4028234663852886e38, -3.4028234663852886e38, 3e38, -1e38, 1e20);
  const weight = fc.oneof(finite32, huge);

  for (const [name, make] of [
    ['softmax', () => softmaxRegression({ features: 3, classes: 3 })],
    ['mlp', () => mlp({ features: 3, hidden: 2, classes: 3 })],
  ] as const) {
    it(`${name}: for arbitrary finite float32 weights, every clipped per-example gradient is finite with norm <= C, and DP-SGD's update is finite`, async () => {
      const m = make();
      const total = m.shape.reduce((a, b) => a + b, 0);
      await fc.assert(
        fc.asyncProperty(
          fc.array(weight, { minLength: total, maxLength: total }),
          fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 3, maxLength: 12 }),
          fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
          fc.integer({ min: 0, max: 2 ** 31 }),
          async (flat, features, clip, seed) => {
            const w: Weights = [];
            let off = 0;
            for (const n of m.shape) {
              w.push(Float32Array.from(flat.slice(off, off + n)));
              off += n;
            }
            const rows = Math.floor(features.length / 3);
            const labels = Array.from({ length: rows }, (_, i) => i % 3);
            const data = createDataset(
              Float32Array.from(features.slice(0, rows * 3)),
              labels,
              3,
              3,
            );
            for (let r = 0; r < rows; r++) {
              const contribution = m.shape.map((n) => new Float64Array(n));
              addClipped(contribution, gradientOf(m, w, data, r), clip);
              const norm = l2Norm(contribution);
              expect(Number.isFinite(norm)).toBe(true);
              expect(norm).toBeLessThanOrEqual(clip);
            }
            const out = await dpSgd(
              m,
              w,
              data,
              { steps: 2, samplingRate: 1, learningRate: 0.5, clipNorm: clip, noiseMultiplier: 1 },
              await Rng.seeded(seed),
            );
            expect(allFinite(out)).toBe(true);
          },
        ),
        { numRuns: 150 },
      );
    });
  }
});
