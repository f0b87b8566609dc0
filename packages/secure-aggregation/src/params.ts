/**
 * The public parameters of one secure-aggregation round and their validation.
 *
 * Names follow the papers: n clients, threshold t, neighbours k (Bell et al., CCS 2020:
 * every client masks only with its k neighbours in a k-regular graph; k = n - 1 is the complete
 * graph of Bonawitz et al., CCS 2017). A client's secrets (its mask key s^SK and its self-mask
 * seed b) are Shamir-shared among its *group*: itself and its k neighbours, k + 1 holders, any t
 * of which recover them. Privacy against the server needs t to exceed half of the group: the
 * server may tell some holders that a client dropped (to get shares of s^SK) and others that it
 * survived (to get shares of b); with 2t > k + 1 + c, where c is the number of colluding clients in
 * the group, it cannot gather t shares of both (the security analysis of Bonawitz et al.).
 *
 * Two levels of checks: {@link checkParams}, the structural bounds every party enforces on any
 * setup, and {@link secAggParams}, which also fills defaults and refuses parameters outside the
 * analysis of `analysis.ts` (too few neighbours for the threat model, a threshold below its
 * bound) unless told `allowUnsafeParameters`. Clients apply the same analysis to the setup they
 * receive (`SecAggClient`).
 * @module
 */
import { abool, aint, aringBits, type RingBits, UnseenError } from '@unseen/core';
import {
  assessParams,
  minimumParameters,
  minimumThreshold,
  type ThreatModel,
  threatModel,
} from './analysis.js';
import {
  defaultThreshold,
  MAX_CLIENTS,
  MAX_GROUP,
  MAX_LENGTH,
  majorityThreshold,
} from './bounds.js';

/** The rounds of the protocol, in order (Bonawitz et al., Figure 4). */
export const ROUNDS = [
  'advertiseKeys',
  'shareKeys',
  'maskedInput',
  'consistencyCheck',
  'unmask',
] as const;

/** One round of the protocol. `consistencyCheck` runs in the active variant only. */
export type SecAggRound = (typeof ROUNDS)[number];

/** The public parameters every party of one round agrees on. */
export interface SecAggParams {
  /** Number of clients n (2 to 65,535). Clients are numbered 0 to n - 1. */
  clients: number;
  /** Shares needed to recover a client's secrets, t: 2t > neighbours + 1, t <= neighbours + 1. */
  threshold: number;
  /** Neighbours per client k: n - 1 for the full protocol, fewer for SecAgg+ (k <= 254). */
  neighbours: number;
  /** The ring of the inputs: Z_2^32 or Z_2^64. */
  bits: RingBits;
  /** Elements per input vector (a 64-bit element is two Uint32 words). */
  length: number;
  /** Active-adversary variant: signed keys and the consistency check round. */
  active: boolean;
}

/** Options that may leave threshold and neighbours to their defaults. */
export interface SecAggParamsInput {
  clients: number;
  /**
   * Default: the smallest threshold the analysis accepts for the round (`minimumThreshold`), at
   * least {@link defaultThreshold}.
   */
  threshold?: number;
  /**
   * Default n - 1 (the full protocol) up to 255 clients; above that the fewest neighbours the
   * analysis accepts (`minimumParameters`).
   */
  neighbours?: number;
  /** Default 32. */
  bits?: RingBits;
  length: number;
  /** Default false. */
  active?: boolean;
  /**
   * The adversary the parameters must resist (default `DEFAULT_THREAT_MODEL`: 5% colluding
   * clients, 10% dropouts, security 2^-40).
   */
  threat?: Partial<ThreatModel>;
  /**
   * Accept a threshold or neighbour count outside the analysis (`assessParams`): fewer
   * neighbours than the threat model needs, or a threshold below its bound (for the active
   * variant, the two-thirds bound of Bonawitz et al.). For tests and experiments: such a round
   * may reveal partial sums to a server colluding with clients. The structural bounds
   * (2t > k + 1, t <= k + 1) hold regardless.
   */
  allowUnsafeParameters?: boolean;
}

export { defaultThreshold, MAX_CLIENTS, MAX_GROUP, MAX_LENGTH } from './bounds.js';

/** Size of a client's group: itself and its neighbours. */
export function groupSize(params: Pick<SecAggParams, 'neighbours'>): number {
  return params.neighbours + 1;
}

/** Words per input vector: `length` for Z_2^32, `2 * length` for Z_2^64. */
export function inputWords(params: Pick<SecAggParams, 'bits' | 'length'>): number {
  return params.bits === 32 ? params.length : 2 * params.length;
}

function invalid(message: string, details?: Record<string, unknown>): UnseenError {
  return new UnseenError('ERR_INVALID_ARGUMENT', message, details === undefined ? {} : { details });
}

/**
 * Checks the structural constraints every party enforces whatever its policy (decoders call
 * this on a received setup): ranges, a k-regular graph that exists, 2t > k + 1 and t <= k + 1.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` naming the violated constraint
 */
export function checkParams(input: SecAggParams): SecAggParams {
  if (typeof input !== 'object' || input === null) throw invalid('expected a parameter object');
  const clients = aint(input.clients, 'clients', 2, MAX_CLIENTS);
  const neighbours = aint(input.neighbours, 'neighbours', 1, Math.min(clients - 1, MAX_GROUP - 1));
  if (neighbours % 2 === 1 && clients % 2 === 1) {
    throw invalid(
      `no ${neighbours}-regular graph on ${clients} vertices exists (n * k must be even): choose an even number of neighbours`,
      { clients, neighbours },
    );
  }
  const active = abool(input.active, 'active');
  const group = neighbours + 1;
  const threshold = aint(input.threshold, 'threshold', 1);
  if (threshold > group || threshold < majorityThreshold(group) || threshold < 2) {
    throw invalid(
      `threshold ${threshold} must exceed half of the group (${group} = neighbours + 1) and not exceed it: ${majorityThreshold(group)} <= t <= ${group}`,
      { threshold, group },
    );
  }
  const bits = aringBits(input.bits);
  const length = aint(input.length, 'length', 1, bits === 32 ? MAX_LENGTH : MAX_LENGTH / 2);
  return Object.freeze({ clients, threshold, neighbours, bits, length, active });
}

/**
 * Fills defaults and checks every constraint, structural and of the analysis (unless
 * `allowUnsafeParameters`); returns a frozen copy.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` naming the violated constraint
 * @example
 * ```ts
 * const params = secAggParams({ clients: 100, neighbours: 22, length: 100_000 });
 * params.threshold; // 12 = floor(23 / 2) + 1
 * ```
 */
export function secAggParams(input: SecAggParamsInput): SecAggParams {
  if (typeof input !== 'object' || input === null) throw invalid('expected a parameter object');
  const clients = aint(input.clients, 'clients', 2, MAX_CLIENTS);
  const active = input.active === undefined ? false : abool(input.active, 'active');
  const threat = threatModel(input.threat ?? {});
  const unsafe =
    input.allowUnsafeParameters === undefined
      ? false
      : abool(input.allowUnsafeParameters, 'allowUnsafeParameters');
  let neighbours = input.neighbours;
  let threshold = input.threshold;
  if (neighbours === undefined) {
    if (clients <= MAX_GROUP) neighbours = clients - 1;
    else {
      const chosen = minimumParameters({ clients, active, ...threat });
      neighbours = chosen.neighbours;
      threshold ??= chosen.threshold;
    }
  }
  if (threshold === undefined) {
    const k = aint(neighbours, 'neighbours', 1, Math.min(clients - 1, MAX_GROUP - 1));
    const bound = defaultThreshold(k + 1, active);
    const secure = minimumThreshold(clients, k, active, threat);
    // Above the group no threshold is secure: keep the structural one and let the check explain.
    threshold = secure <= k + 1 ? Math.max(bound, secure) : bound;
  }
  const params = checkParams({
    clients,
    threshold,
    neighbours,
    bits: input.bits ?? 32,
    length: input.length,
    active,
  });
  if (!unsafe) {
    const verdict = assessParams(params, threat);
    if (!verdict.secure) {
      const problems = [verdict.neighboursProblem, verdict.thresholdProblem].filter(
        (x) => x !== undefined,
      );
      throw invalid(
        `parameters outside the analysis: ${problems.join('; ')}. Use minimumParameters() to choose them, or allowUnsafeParameters for an experiment`,
        { ...params, problems },
      );
    }
  }
  return params;
}

/** True when two parameter sets are equal field by field. */
export function sameParams(a: SecAggParams, b: SecAggParams): boolean {
  return (
    a.clients === b.clients &&
    a.threshold === b.threshold &&
    a.neighbours === b.neighbours &&
    a.bits === b.bits &&
    a.length === b.length &&
    a.active === b.active
  );
}
