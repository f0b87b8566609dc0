/**
 * Differential privacy for FedAvg at the level of clients (McMahan, Ramage, Talwar, Zhang 2018,
 * "Learning differentially private recurrent language models", DP-FedAvg): every sampled client
 * clips its model update to L2 norm `clipNorm`; the server sums the clipped updates with equal
 * weights, adds Gaussian noise of standard deviation `noiseMultiplier * clipNorm` and divides by
 * the expected number of participants (a fixed denominator, so one client's presence changes
 * the sum by at most `clipNorm`). The privacy loss of each round is that of the sampled Gaussian
 * mechanism, tracked by {@link RdpAccountant}.
 *
 * Where the noise comes from:
 * - `central`: the server adds all of it after aggregating. The server sees the sum without
 *   noise (and, under plain aggregation, every update): the guarantee protects the released
 *   models against everyone but the server.
 * - `distributed`: each of the n expected participants adds N(0, sigma^2 C^2 / n) to its own
 *   clipped update, so the sum carries N(0, sigma^2 C^2). With secure or homomorphic aggregation
 *   the server only ever sees the noisy sum, so the guarantee holds against the server too
 *   (assuming clients follow the protocol). Clients that drop out take their share of noise with
 *   them: the accountant charges the round at the noise that was actually added,
 *   sigma * sqrt(m / n) for m contributors.
 * @module
 */
import { aint, anumber, aoneOf } from '@unseen/core';

/** Differential-privacy settings of a FedAvg run. */
export interface DpOptions {
  /** Noise standard deviation divided by the clipping norm (sigma). */
  noiseMultiplier: number;
  /** L2 norm every client update is clipped to (C). */
  clipNorm: number;
  /** Who adds the noise (default 'central'). */
  noise?: 'central' | 'distributed';
  /** Delta of the reported (epsilon, delta) (default 1e-5). */
  delta?: number;
  /**
   * Client sampling: 'poisson' (each available client joins with probability `fractionFit`,
   * the assumption of the accountant; default) or 'fixed' (Flower's fixed-size sample, accounted
   * with q = sample / population as the usual approximation).
   */
  sampling?: 'poisson' | 'fixed';
  /** Number of clients in the population, for the sampling rate (default: those available). */
  population?: number;
}

/** DP options with defaults filled in and checked. */
export interface ResolvedDp {
  noiseMultiplier: number;
  clipNorm: number;
  noise: 'central' | 'distributed';
  delta: number;
  sampling: 'poisson' | 'fixed';
  population: number | undefined;
}

/** Checks DP options and fills in defaults. */
export function resolveDp(dp: DpOptions): ResolvedDp {
  return {
    noiseMultiplier: anumber(dp.noiseMultiplier, 'dp.noiseMultiplier', 0),
    clipNorm: anumber(dp.clipNorm, 'dp.clipNorm', Number.MIN_VALUE),
    noise: aoneOf(dp.noise ?? 'central', ['central', 'distributed'] as const, 'dp.noise'),
    delta: anumber(dp.delta ?? 1e-5, 'dp.delta', Number.MIN_VALUE, 1),
    sampling: aoneOf(dp.sampling ?? 'poisson', ['poisson', 'fixed'] as const, 'dp.sampling'),
    population: dp.population === undefined ? undefined : aint(dp.population, 'dp.population', 1),
  };
}
