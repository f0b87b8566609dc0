/**
 * The CKKS error model of vector aggregation, and noise-flooded decryption.
 *
 * **Why flooding.** CKKS decryption returns `m + e`, where the error `e` depends on the secret
 * key: whoever holds a ciphertext and its decryption gets linear equations in the key (Li and
 * Micciancio, "On the Security of Homomorphic Encryption on Approximate Numbers", EUROCRYPT
 * 2021: IND-CPA^D). The mitigation of Li, Micciancio, Schultz and Sorrell, "Securing Approximate
 * Homomorphic Encryption Using Differential Privacy" (CRYPTO 2022), as OpenFHE implements it in
 * its `NOISE_FLOODING_DECRYPT` mode: decryption adds Gaussian noise to the coefficients of the
 * exact decrypted plaintext, of standard deviation
 *
 *     sigma = sqrt(12 tau) * 2^(kappa / 2) * t
 *
 * for kappa bits of statistical security against an adversary seeing tau decryptions of
 * ciphertexts whose error vector has Euclidean length at most t (OpenFHE measures its `t` in the
 * slots, which bounds the length too; docs/static_docs/Static-Estimation,
 * `CryptoParametersCKKSRNS`). Here t = sqrt(N) * (the worst-case largest coefficient of the
 * error), since a vector of N coefficients of size at most b has length at most sqrt(N) b. One
 * decrypted ciphertext is one query: a sum of C ciphertexts counts C, and a key holder allowed D
 * decryptions uses tau = C * D.
 *
 * **Where the noise goes.** Into the exact plaintext, before anything is rounded or decoded in
 * floating point: the decoder's rounding is a function of the flooded plaintext, so it releases
 * nothing more (had the noise been added to decoded values, the decoder's rounding of m + e,
 * larger than e at these scales, would be a key-dependent part outside the argument). The noise
 * polynomial is drawn in the slots and encoded: a ciphertext holds N values, the real and the
 * imaginary parts of the canonical embedding, `d(zeta_j) / Delta` for N/2 primitive 2N-th roots
 * zeta_j, one of each conjugate pair. For i.i.d. N(0, sigma^2) coefficients z,
 * `Re z(zeta_j) = sum_i z_i cos(theta_j i)` and `Im z(zeta_j) = sum_i z_i sin(theta_j i)`: the N
 * rows are orthogonal and of squared norm N/2 (the theta_j are odd multiples of pi/N, distinct
 * and not conjugate; the N roots of X^N + 1 make the Vandermonde matrix sqrt(N) times a unitary
 * one). So N i.i.d. values of N(0, sigma^2 N / 2) / Delta^2, encoded at scale Delta (the real
 * parts, then the imaginary parts times X^(N/2)), are i.i.d. N(0, sigma^2) coefficients up to
 * the encoder's rounding (at most 1 per coefficient, and independent of the key). The samples
 * are drawn here, truncated at `tail` standard deviations (a change below 2^-(kappa+1) in
 * statistical distance over the whole budget), and the decoded values are rounded to a grid no
 * finer than the precision.
 *
 * **The error bound** of a decrypted sum of k honest contributions is proven, term by term:
 * - encryption: SEAL's public-key encryption leaves `e1 + e2 s - u e_pk` with every coefficient of
 *   e1, e2, e_pk in [-21, 21] (centred binomial with 21 coin pairs, SEAL 4's default; its rounded
 *   Gaussian option clips at 19) and s, u ternary, so |coefficient| <= 21 (2N + 1); with a special
 *   prime P, SEAL divides that by P and rounds both components, adding at most (1 + N) / 2;
 * - encoding: each coefficient is rounded to an integer, at most 1/2, and a ciphertext adds
 *   two encodings (real parts, and imaginary parts times X^(N/2), a signed permutation of the
 *   coefficients): at most 1 per coefficient, N / Delta per value;
 * - canonical embedding: |x(zeta)| <= ||x||_1 <= N ||x||_inf, so a coefficient bound b is a slot
 *   bound N b / Delta;
 * - flooding: at most `tail` standard deviations (truncated sampling), plus the rounding of the
 *   encoded noise (1 per coefficient: N / Delta per value);
 * - grid: half a step;
 * - floating point: SEAL's encoder and decoder are radix-2 FFTs in doubles, whose error is at
 *   most log2(N) * eta * ||y||_2 with eta < 10 u (Higham, "Accuracy and Stability of Numerical
 *   Algorithms", 2nd ed., section 24.1), eta < 10 u with u = 2^-53. Per value: 2k encodings of
 *   values at most B (sqrt(N) log2(N) eta B each), two decodings of slots of modulus at most
 *   sqrt(2) k B (sqrt(2N) log2(N) eta k B each) and their conversion of the coefficients to
 *   doubles (sqrt(2N) k B u each): (2 + 2 sqrt(2)) k B log2(N) sqrt(N) eta +
 *   2 sqrt(2N) k B u; and the two encodings of the noise (sqrt(N) log2(N) eta F each, F = tail *
 *   std), counted with the flooding.
 * Contributions that are not honest encryptions (a malicious contributor) are outside the bound.
 * @module
 */
import { aint, fillRandom, UnseenError } from '@unseen/core';

/** Largest |coefficient| of SEAL's encryption error distributions (CBD(21); clipped Gaussian 19). */
export const SEAL_NOISE_MAX = 21;
/** Default statistical security kappa of flooded CKKS decryption, in bits. */
export const DEFAULT_STATISTICAL_SECURITY = 40;
/** Default number of decryptions a CKKS key holder may make (the flooding budget D). */
export const DEFAULT_MAX_DECRYPTIONS = 16;

/**
 * Worst-case infinity norm of the coefficient error of one fresh SEAL public-key encryption at
 * ring degree `n`, with or without a special prime of `specialBits` bits.
 */
export function freshCoefficientBound(n: number, specialBits?: number): number {
  const raw = SEAL_NOISE_MAX * (2 * n + 1); // e1 + e2 s - u e_pk, |s_i|, |u_i| <= 1
  if (specialBits === undefined) return raw;
  // (raw / P) + rounding of c0 and c1 (1/2 each, c1 times s: N/2), P >= 2^(bits - 1).
  return raw / 2 ** (specialBits - 1) + (n + 1) / 2;
}

/** Unit roundoff of doubles. */
const U = 2 ** -53;

/**
 * Floating-point allowance per value of encoding k vectors of values at most `valueBound` and
 * decoding their sum (see the module note; the noise's own encoding is counted with the
 * flooding).
 */
export function floatingPointError(n: number, k: number, valueBound: number): number {
  const eta = 10 * U;
  const kb = k * valueBound;
  return (
    (2 + 2 * Math.SQRT2) * kb * Math.log2(n) * Math.sqrt(n) * eta + 2 * Math.sqrt(2 * n) * kb * U
  );
}

/**
 * The largest |z| the Gaussian sampler can draw: Box-Muller with u1 >= 2^-106 (two 53-bit
 * words) gives |z| <= sqrt(-2 ln 2^-106), about 12.1 standard deviations.
 */
export const SAMPLER_MAX_TAIL = Math.sqrt(-2 * Math.log(2 ** -106));

/**
 * Tail cut of the flooding samples, in standard deviations: P(|Z| > z) <= exp(-z^2 / 2) is at
 * most 2^-(kappa+1) divided by the number of values the whole budget releases.
 */
export function floodingTail(kappa: number, released: number): number {
  return Math.sqrt(2 * ((kappa + 1) * Math.LN2 + Math.log(released)));
}

/** Everything the error bound and the flooding of a CKKS parameter set are made of. */
export interface CkksNoise {
  /** Worst-case largest coefficient of the error of a sum of maxContributions honest contributions. */
  coefficientBound: number;
  /** t: worst-case Euclidean length of that error, sqrt(N) * coefficientBound. */
  errorLength: number;
  /** tau: ciphertext decryptions the flooding is sized for (ciphertexts x maxDecryptions). */
  queries: number;
  /** Standard deviation of the flooding noise on each coefficient (sigma above). */
  coefficientStd: number;
  /** Standard deviation of the flooding noise on each decrypted value. */
  std: number;
  /** Samples are cut at `tail` standard deviations. */
  tail: number;
  /** Released values are multiples of 2^gridExponent. */
  gridExponent: number;
  /** The parts of the error bound, each a proven worst case for honest contributions. */
  parts: { encryption: number; encoding: number; flooding: number; grid: number; float: number };
  /** Their sum: the largest absolute error of a decrypted sum. */
  errorBound: number;
}

/** What {@link ckksNoise} needs: public parameters of a CKKS set. */
export interface CkksNoiseInput {
  polyModulusDegree: number;
  /** Bits of the special prime, or undefined when the single prime is the key level. */
  specialBits: number | undefined;
  maxContributions: number;
  ciphertexts: number;
  scaleBits: number;
  valueBound: number;
  precision: number;
  statisticalSecurity: number;
  maxDecryptions: number;
}

/** The grid exponent for a precision: the largest power of two at most precision / 2. */
export function gridExponent(precision: number): number {
  return Math.floor(Math.log2(precision / 2));
}

/**
 * The error model and flooding of a CKKS parameter set.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` on inputs out of range
 */
export function ckksNoise(p: CkksNoiseInput): CkksNoise {
  const n = p.polyModulusDegree;
  const k = p.maxContributions;
  const kappa = aint(p.statisticalSecurity, 'statisticalSecurity', 16, 128);
  const queries = p.ciphertexts * aint(p.maxDecryptions, 'maxDecryptions', 1, 2 ** 32 - 1);
  const scale = 2 ** p.scaleBits;
  const b = k * freshCoefficientBound(n, p.specialBits);
  const t = Math.sqrt(n) * b; // Euclidean length of N coefficients of size at most b
  const coefficientStd = Math.sqrt(12 * queries) * 2 ** (kappa / 2) * t;
  const std = (coefficientStd * Math.sqrt(n / 2)) / scale;
  const tail = floodingTail(kappa, queries * n); // N values per ciphertext
  if (!(tail < SAMPLER_MAX_TAIL)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `statisticalSecurity ${kappa} over ${queries} decrypted ciphertexts needs a tail cut of ${tail.toFixed(2)} standard deviations; the sampler reaches ${SAMPLER_MAX_TAIL.toFixed(2)}`,
    );
  }
  const exponent = gridExponent(p.precision);
  const parts = {
    encryption: (n * b) / scale,
    encoding: (k * n) / scale,
    // The samples, their encoding's rounding and its floating point (module note).
    flooding: tail * std * (1 + 2 * Math.log2(n) * Math.sqrt(n) * 10 * U) + n / scale,
    grid: 2 ** exponent / 2,
    float: floatingPointError(n, k, p.valueBound),
  };
  const errorBound = parts.encryption + parts.encoding + parts.flooding + parts.grid + parts.float;
  return {
    coefficientBound: b,
    errorLength: t,
    queries,
    coefficientStd,
    std,
    tail,
    gridExponent: exponent,
    parts,
    errorBound,
  };
}

/**
 * The scale bits that make the error of a sum at most `precision`, or undefined when even an
 * infinite scale cannot (the grid and floating point use it all).
 */
export function ckksScaleBits(p: Omit<CkksNoiseInput, 'scaleBits'>): number | undefined {
  const at1 = ckksNoise({ ...p, scaleBits: 0 }); // every scale-dependent part at Delta = 1
  const room = p.precision - at1.parts.grid - at1.parts.float;
  if (!(room > 0)) return undefined;
  const scaled = at1.parts.encryption + at1.parts.encoding + at1.parts.flooding;
  let bits = Math.max(20, Math.ceil(Math.log2(scaled / room)));
  // Guard the rounding of log2: the bound must hold as computed.
  while (ckksNoise({ ...p, scaleBits: bits }).errorBound > p.precision) bits++;
  return bits;
}

const TWO_PI = 2 * Math.PI;

/**
 * `count` samples of N(0, std^2) truncated at `tail` standard deviations, from
 * `crypto.getRandomValues`: Box-Muller with u1 of 106 bits (so that the tail cut, up to
 * {@link SAMPLER_MAX_TAIL}, is reachable) and u2 of 53 bits; a sample beyond the cut is drawn
 * again.
 */
export function floodingNoise(count: number, noise: Pick<CkksNoise, 'std' | 'tail'>): Float64Array {
  const out = new Float64Array(count);
  const cut = noise.tail;
  const batch = Math.min(count, 1 << 14);
  const words = new Uint32Array(6 * batch);
  let i = 0;
  while (i < count) {
    fillRandom(words);
    for (let k = 0; k < batch && i < count; k++) {
      for (const z of gaussianPair(words, 6 * k)) {
        if (i >= count) break;
        if (Math.abs(z) > cut) continue; // truncation: redraw (probability below 2^-kappa)
        out[i++] = z * noise.std;
      }
    }
  }
  return out;
}

/**
 * Two independent N(0, 1) samples by Box-Muller from six random 32-bit words at `at`: u1 in
 * (0, 1] from 106 bits (steps of 2^-106 near 0, so |z| reaches {@link SAMPLER_MAX_TAIL}), u2 in
 * [0, 1) from 53 bits.
 * @internal
 */
export function gaussianPair(words: Uint32Array, at: number): [number, number] {
  const w53 = (i: number) => (words[at + i]! >>> 5) * 67108864 + (words[at + i + 1]! >>> 6);
  const u1 = (w53(0) + (w53(2) + 1) / 2 ** 53) / 2 ** 53;
  const u2 = w53(4) / 2 ** 53;
  const r = Math.sqrt(-2 * Math.log(u1));
  return [r * Math.cos(TWO_PI * u2), r * Math.sin(TWO_PI * u2)];
}

/** Rounds every value to a multiple of 2^gridExponent, in place. @returns `values` */
export function roundToGrid(values: Float64Array, gridExponent: number): Float64Array {
  const step = 2 ** gridExponent;
  for (let i = 0; i < values.length; i++) values[i] = Math.round(values[i]! / step) * step;
  return values;
}
