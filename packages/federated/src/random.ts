/**
 * Randomness for training and privacy: a {@link Rng} draws uniform words in bulk either from
 * `crypto.getRandomValues` (core's `fillRandom`; the default, and the only choice for DP noise
 * in production) or from core's seeded AES-CTR `Prg` (reproducible model initialisation, data
 * splits and simulations). `Math.random` is never used.
 *
 * Gaussian noise comes from the Box-Muller transform over 53-bit uniform doubles. Caveat
 * (Mironov 2012, "On significance of the least significant bits for differential privacy";
 * Holohan and Braghin 2021): floating-point samplers do not produce an exact Gaussian; the
 * set of representable outputs is irregular and can, in principle, leak the noiseless value
 * through its low-order bits. Here the noise is added to a model update that is then rounded
 * to float32 (plain) or quantised to fixed point (secure aggregation), which removes most
 * low-order structure, but the implementation makes no formal claim against such attacks.
 * A discrete Gaussian over the fixed-point grid (Canonne, Kamath, Steinke 2020) is the
 * rigorous remedy and the natural next step.
 * @module
 */
import { aint, anumber, fillRandom, PRG_SEED_BYTES, Prg, UnseenError } from '@unseen/core';

/** Bulk uniform randomness: crypto or seeded. */
export class Rng {
  readonly seeded: boolean;
  readonly #prg: Prg | undefined;

  private constructor(prg?: Prg) {
    this.#prg = prg;
    this.seeded = prg !== undefined;
  }

  /** Cryptographic randomness (`crypto.getRandomValues`). */
  static crypto(): Rng {
    return new Rng();
  }

  /**
   * A reproducible stream: core's AES-128-CTR `Prg` under a 16-byte seed, or under a small
   * integer seed placed in a 16-byte key (for experiments only: an integer seed is guessable).
   */
  static async seeded(seed: Uint8Array | number): Promise<Rng> {
    let key: Uint8Array;
    if (typeof seed === 'number') {
      aint(seed, 'seed', 0, 2 ** 32 - 1);
      key = new Uint8Array(PRG_SEED_BYTES);
      new DataView(key.buffer).setUint32(0, seed);
      key[15] = 0x5e; // domain byte: integer seeds
    } else {
      key = seed;
    }
    return new Rng(await Prg.create(key));
  }

  /** Derives an independent seeded stream for a labelled purpose (same seed, same output). */
  async fork(label: number): Promise<Rng> {
    aint(label, 'label', 0, 2 ** 32 - 1);
    const key = new Uint8Array(PRG_SEED_BYTES);
    await this.fill(key);
    new DataView(key.buffer).setUint32(12, new DataView(key.buffer).getUint32(12) ^ label);
    return this.seeded ? new Rng(await Prg.create(key)) : Rng.crypto();
  }

  /** Fills `out` with uniform bytes. */
  async fill<T extends ArrayBufferView>(out: T): Promise<T> {
    if (this.#prg === undefined) return fillRandom(out);
    return this.#prg.fill(out);
  }

  /** `n` uniform 32-bit words. */
  uint32s(n: number): Promise<Uint32Array> {
    return this.fill(new Uint32Array(aint(n, 'count', 0)));
  }

  /** `n` uniform doubles in [0, 1) with 53 random bits each. */
  async uniforms(n: number): Promise<Float64Array> {
    const w = await this.uint32s(2 * aint(n, 'count', 0));
    const out = new Float64Array(n);
    // (hi 27 bits * 2^26 + lo 26 bits) / 2^53
    for (let i = 0; i < n; i++)
      out[i] = ((w[2 * i]! >>> 5) * 67108864 + (w[2 * i + 1]! >>> 6)) / 2 ** 53;
    return out;
  }

  /** A uniform integer in [0, bound), without modulo bias. */
  async int(bound: number): Promise<number> {
    aint(bound, 'bound', 1, 2 ** 32);
    const limit = 2 ** 32 - (2 ** 32 % bound);
    for (;;) {
      const w = (await this.uint32s(1))[0]!;
      if (w < limit) return w % bound;
    }
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates, unbiased indices). */
  async permutation(n: number): Promise<Uint32Array> {
    aint(n, 'n', 0, 2 ** 32 - 1);
    const p = new Uint32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    let words = await this.uint32s(n);
    let w = 0;
    for (let i = n - 1; i > 0; i--) {
      const bound = i + 1;
      const limit = 2 ** 32 - (2 ** 32 % bound);
      for (;;) {
        if (w === words.length) {
          words = await this.uint32s(64);
          w = 0;
        }
        const r = words[w++]!;
        if (r < limit) {
          const j = r % bound;
          const t = p[i]!;
          p[i] = p[j]!;
          p[j] = t;
          break;
        }
      }
    }
    return p;
  }

  /** `n` independent N(0, std^2) samples (Box-Muller on 53-bit uniforms; see module notes). */
  async normals(n: number, std = 1): Promise<Float64Array> {
    aint(n, 'count', 0);
    anumber(std, 'std', 0);
    const pairs = Math.ceil(n / 2);
    const u = await this.uniforms(2 * pairs);
    const out = new Float64Array(n);
    for (let i = 0; i < pairs; i++) {
      const u1 = 1 - u[2 * i]!; // (0, 1]: log never sees 0
      const u2 = u[2 * i + 1]!;
      const r = Math.sqrt(-2 * Math.log(u1)) * std;
      const t = 2 * Math.PI * u2;
      out[2 * i] = r * Math.cos(t);
      if (2 * i + 1 < n) out[2 * i + 1] = r * Math.sin(t);
    }
    return out;
  }

  /**
   * One Gamma(shape, 1) sample (Marsaglia and Tsang 2000; shape < 1 by the boost
   * Gamma(a) = Gamma(a + 1) * U^(1/a)).
   */
  async gamma(shape: number): Promise<number> {
    anumber(shape, 'shape', Number.MIN_VALUE);
    if (shape < 1) {
      const g = await this.gamma(shape + 1);
      const u = (await this.uniforms(1))[0]!;
      return g * (1 - u) ** (1 / shape);
    }
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (let tries = 0; tries < 10_000; tries++) {
      const x = (await this.normals(1))[0]!;
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = 1 - (await this.uniforms(1))[0]!;
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
    throw new UnseenError('ERR_INTERNAL', 'gamma sampler did not converge');
  }

  /** A sample from the symmetric Dirichlet(alpha, ..., alpha) over `k` categories. */
  async dirichlet(k: number, alpha: number): Promise<Float64Array> {
    aint(k, 'k', 1);
    const g = new Float64Array(k);
    let s = 0;
    for (let i = 0; i < k; i++) {
      g[i] = await this.gamma(alpha);
      s += g[i]!;
    }
    if (!(s > 0)) {
      // All gammas underflowed (tiny alpha): the limit is a point mass on one category.
      g.fill(0);
      g[await this.int(k)] = 1;
      return g;
    }
    for (let i = 0; i < k; i++) g[i] = g[i]! / s;
    return g;
  }
}
