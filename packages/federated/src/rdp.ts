/**
 * Rényi differential privacy (RDP) accounting for the sampled Gaussian mechanism.
 *
 * One round of DP-FedAvg (or one step of DP-SGD) samples each client (example) with probability
 * `q`, sums the updates clipped to L2 norm `C` and adds Gaussian noise of standard deviation
 * `sigma * C`: the sampled Gaussian mechanism (SGM) with noise multiplier `sigma`.
 *
 * - RDP of the SGM at integer orders alpha >= 2 (Mironov, Talwar, Zhang 2019, "Rényi
 *   Differential Privacy of the Sampled Gaussian Mechanism", section 3.3): with
 *   A_alpha = sum_{k=0..alpha} C(alpha, k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2)),
 *   the mechanism is (alpha, log(A_alpha) / (alpha - 1))-RDP. Computed in log space.
 * - Composition: RDP at a fixed order adds up over rounds (Mironov 2017, Proposition 1).
 * - Conversion to (epsilon, delta): the tighter bound of Balle et al. 2020 ("Hypothesis testing
 *   interpretations and Rényi differential privacy", Theorem 21) and Canonne, Kamath, Steinke
 *   2020 (Proposition 12), as used by TensorFlow Privacy / dp_accounting and Opacus:
 *   epsilon = rdp + log((alpha - 1) / alpha) - (log(delta) + log(alpha)) / (alpha - 1),
 *   minimised over the orders. `conversion: 'mironov2017'` gives the original
 *   epsilon = rdp + log(1 / delta) / (alpha - 1) (Mironov 2017, Proposition 3).
 *
 * Neighbouring datasets differ by adding or removing one participant (the relation these
 * papers analyse under Poisson sampling).
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';

/**
 * Orders 1.1, 1.2, ..., 10.9 and 11, 12, ..., 256: the fractional orders of TensorFlow Privacy and
 * Opacus (which stop at 63) and integers for small epsilon regimes.
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => Math.round(11 + i) / 10),
  ...Array.from({ length: 246 }, (_, i) => i + 11),
]);

/** Integer orders 2..256 only (the integer-order computation alone). */
export const INTEGER_RDP_ORDERS: readonly number[] = Object.freeze(
  Array.from({ length: 255 }, (_, i) => i + 2),
);

/**
 * log(erfc(x)) for any real x, accurate to about 1e-14 relative: erfc(x) = 2 - erfc(-x) for
 * x < 0, 1 - erf(x) from the Maclaurin series of erf for 0 <= x < 0.5, and for x >= 0.5 the
 * continued fraction erfc(x) = exp(-x^2) / sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 * (Abramowitz and Stegun 7.1.14), evaluated by the modified Lentz method, whose log never
 * underflows.
 */
export function logErfc(x: number): number {
  anumber(x, 'x');
  if (x < 0) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 0.5) {
    // erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.log1p((-2 / Math.sqrt(Math.PI)) * sum);
  }
  // K = 1/(x + a1/(x + a2/(x + ...))) with a_k = k/2, by modified Lentz.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 10_000; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

/** Adds exp(b) (with sign) to a signed log-space accumulator. */
function logSignedAdd(acc: { pos: number; neg: number }, logTerm: number, positive: boolean): void {
  if (positive) acc.pos = logAddExp(acc.pos, logTerm);
  else acc.neg = logAddExp(acc.neg, logTerm);
}

/** log(A_alpha) at a fractional order (Mironov, Talwar, Zhang 2019, section 3.3). */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const s2 = sigma * sigma;
  const z0 = s2 * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const a0 = { pos: -Infinity, neg: -Infinity };
  const a1 = { pos: -Infinity, neg: -Infinity };
  let logBinom = 0; // log |C(alpha, i)|
  let positive = true; // sign of C(alpha, i)
  for (let i = 0; i < 100_000; i++) {
    if (i > 0) {
      const r = (alpha - i + 1) / i; // C(a, i) = C(a, i-1) (a - i + 1) / i
      logBinom += Math.log(Math.abs(r));
      if (r < 0) positive = !positive;
    }
    const j = alpha - i;
    // Left of z0: (1-q)^(a-i) q^i E_{N(i, s2)}[1{z <= z0}] exp((i^2 - i) / (2 s2))
    const s0 =
      logBinom +
      i * logQ +
      j * log1mQ +
      (i * i - i) / (2 * s2) +
      Math.log(0.5) +
      logErfc((i - z0) / (Math.SQRT2 * sigma));
    // Right of z0: q^(a-i) (1-q)^i E_{N(a-i, s2)}[1{z > z0}] exp(((a-i)^2 - (a-i)) / (2 s2))
    const s1 =
      logBinom +
      j * logQ +
      i * log1mQ +
      (j * j - j) / (2 * s2) +
      Math.log(0.5) +
      logErfc((z0 - j) / (Math.SQRT2 * sigma));
    logSignedAdd(a0, s0, positive);
    logSignedAdd(a1, s1, positive);
    if (i > alpha && Math.max(s0, s1) < -30) break;
  }
  const part = (acc: { pos: number; neg: number }): number =>
    acc.neg === -Infinity ? acc.pos : acc.pos + Math.log1p(-Math.exp(acc.neg - acc.pos));
  return logAddExp(part(a0), part(a1));
}

/** How RDP converts to (epsilon, delta). */
export type RdpConversion = 'balle2020' | 'mironov2017';

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/**
 * log(A_alpha) of the sampled Gaussian mechanism for an integer order (Mironov, Talwar, Zhang
 * 2019, section 3.3): the binomial expansion, summed in log space.
 */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  let logBinom = 0; // log C(alpha, 0)
  let acc = -Infinity;
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logBinom += Math.log((alpha - k + 1) / k); // C(a,k) = C(a,k-1) (a-k+1)/k
    const term = logBinom + k * logQ + (alpha - k) * log1mQ + (k * k - k) / (2 * sigma * sigma);
    acc = logAddExp(acc, term);
  }
  return acc;
}

/**
 * RDP epsilon at `order` of one application of the sampled Gaussian mechanism with sampling
 * rate `q` and noise multiplier `sigma` (noise std / L2 sensitivity).
 * @param q sampling probability in [0, 1]
 * @param sigma noise multiplier >= 0 (0: no privacy, infinite RDP unless q = 0)
 * @param order > 1: integers take the exact binomial sum, other orders the series with erfc
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 * @example
 * ```ts
 * rdpSampledGaussian(0.01, 2.5, 5) * 50; // 2.18075656e-3 (dp_accounting's test value)
 * ```
 */
export function rdpSampledGaussian(q: number, sigma: number, order: number): number {
  anumber(q, 'sampling rate q', 0, 1);
  anumber(sigma, 'noise multiplier', 0);
  anumber(order, 'RDP order', 1, 100_000);
  if (!(order > 1)) throw new UnseenError('ERR_INVALID_ARGUMENT', `RDP order ${order} must be > 1`);
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return order / (2 * sigma * sigma); // the Gaussian mechanism (Mironov 2017, Prop. 7)
  const logA = Number.isInteger(order)
    ? logAInteger(q, sigma, order)
    : logAFractional(q, sigma, order);
  return Math.max(0, logA) / (order - 1);
}

/** An (epsilon, delta) guarantee and the RDP order that gave it. */
export interface PrivacySpent {
  epsilon: number;
  delta: number;
  /** The order at which the conversion was tightest. */
  order: number;
}

/**
 * Converts RDP values at the given orders into the smallest epsilon at `delta`.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` on mismatched arrays, negative RDP or a bad delta
 */
export function rdpToEpsilon(
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
  conversion: RdpConversion = 'balle2020',
): PrivacySpent {
  anumber(delta, 'delta', Number.MIN_VALUE, 1);
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'rdpToEpsilon: orders and rdp must match');
  }
  let best = Infinity;
  let bestOrder = orders[0]!;
  for (let i = 0; i < orders.length; i++) {
    const a = orders[i]!;
    const r = rdp[i]!;
    if (!(a > 1)) throw new UnseenError('ERR_INVALID_ARGUMENT', `RDP order ${a} must be > 1`);
    if (!(r >= 0)) throw new UnseenError('ERR_INVALID_ARGUMENT', `RDP value ${r} must be >= 0`);
    let eps: number;
    if (conversion === 'mironov2017') {
      eps = r + Math.log(1 / delta) / (a - 1);
    } else if (delta * delta + Math.expm1(-r) >= 0) {
      // The divergence is so small that delta alone covers it (Canonne, Kamath, Steinke 2020,
      // Prop. 12 with epsilon = 0: delta >= sqrt(1 - exp(-rdp))).
      eps = 0;
    } else {
      eps = r + Math.log1p(-1 / a) - Math.log(delta * a) / (a - 1);
    }
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), delta, order: bestOrder };
}

/** Options of {@link RdpAccountant}. */
export interface RdpAccountantOptions {
  /** Orders > 1 (default {@link DEFAULT_RDP_ORDERS}). */
  orders?: readonly number[];
  /** RDP to (epsilon, delta) conversion (default 'balle2020'). */
  conversion?: RdpConversion;
}

/**
 * Accumulates the privacy loss of repeated sampled Gaussian mechanisms (one call of
 * {@link RdpAccountant.step} per round) and reports (epsilon, delta) at any time.
 * @example
 * ```ts
 * const acc = new RdpAccountant();
 * acc.step({ q: 150 / 60000, noiseMultiplier: 1.3, steps: 6000 });
 * acc.epsilon(1e-5).epsilon; // 0.7242 (TensorFlow Privacy's test value)
 * ```
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  readonly conversion: RdpConversion;
  readonly #rdp: Float64Array;
  #steps = 0;

  constructor(options: RdpAccountantOptions = {}) {
    const orders = options.orders ?? DEFAULT_RDP_ORDERS;
    if (orders.length === 0) throw new UnseenError('ERR_INVALID_ARGUMENT', 'no RDP orders');
    for (const o of orders) {
      if (!(anumber(o, 'RDP order', 1, 100_000) > 1)) {
        throw new UnseenError('ERR_INVALID_ARGUMENT', `RDP order ${o} must be > 1`);
      }
    }
    this.orders = Object.freeze([...orders]);
    this.conversion = options.conversion ?? 'balle2020';
    this.#rdp = new Float64Array(orders.length);
  }

  /** Rounds (mechanism applications) recorded so far. */
  get steps(): number {
    return this.#steps;
  }

  /** The accumulated RDP at each order (a copy). */
  get rdp(): number[] {
    return Array.from(this.#rdp);
  }

  /**
   * Records `steps` applications of the sampled Gaussian mechanism.
   * @param q sampling probability of one participant
   * @param noiseMultiplier noise standard deviation divided by the L2 clipping norm
   */
  step(options: { q: number; noiseMultiplier: number; steps?: number }): this {
    const steps = aint(options.steps ?? 1, 'steps', 0);
    const add = this.orders.map(
      (o) => steps * rdpSampledGaussian(options.q, options.noiseMultiplier, o),
    );
    for (let i = 0; i < add.length; i++) this.#rdp[i] = this.#rdp[i]! + add[i]!;
    this.#steps += steps;
    return this;
  }

  /** The (epsilon, delta) guarantee of everything recorded so far. */
  epsilon(delta: number): PrivacySpent {
    anumber(delta, 'delta', Number.MIN_VALUE, 1);
    if (this.#steps === 0) return { epsilon: 0, delta, order: this.orders[0]! };
    return rdpToEpsilon(this.orders, Array.from(this.#rdp), delta, this.conversion);
  }
}
