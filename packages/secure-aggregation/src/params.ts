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
 * @module
 */
import { abool, aint, aringBits, type RingBits, UnseenError } from '@unseen/core';

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
  /** Default {@link defaultThreshold}. */
  threshold?: number;
  /** Default n - 1 (the full protocol; needs n <= 255). */
  neighbours?: number;
  /** Default 32. */
  bits?: RingBits;
  length: number;
  /** Default false. */
  active?: boolean;
}

/** Most clients in one round: indices travel as u16-sized values in bitmaps and graphs. */
export const MAX_CLIENTS = 65_535;
/** Largest group (a client and its neighbours): Shamir over GF(256) has 255 non-zero points. */
export const MAX_GROUP = 255;
/** Largest input: 2^26 elements (256 MiB of 32-bit words, the message limit of core). */
export const MAX_LENGTH = 2 ** 26;

/** Size of a client's group: itself and its neighbours. */
export function groupSize(params: Pick<SecAggParams, 'neighbours'>): number {
  return params.neighbours + 1;
}

/**
 * The smallest safe threshold for a group of `group` holders: floor(group / 2) + 1 against an
 * honest-but-curious server, floor(2 group / 3) + 1 in the active variant, which then tolerates
 * fewer than group / 3 colluding clients (the bounds of Bonawitz et al.'s security analysis).
 */
export function defaultThreshold(group: number, active = false): number {
  aint(group, 'group size', 2, MAX_GROUP);
  return active ? Math.floor((2 * group) / 3) + 1 : Math.floor(group / 2) + 1;
}

/** Words per input vector: `length` for Z_2^32, `2 * length` for Z_2^64. */
export function inputWords(params: Pick<SecAggParams, 'bits' | 'length'>): number {
  return params.bits === 32 ? params.length : 2 * params.length;
}

function invalid(message: string, details?: Record<string, unknown>): UnseenError {
  return new UnseenError('ERR_INVALID_ARGUMENT', message, details === undefined ? {} : { details });
}

/**
 * Fills defaults and checks every constraint; returns a frozen copy.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` naming the violated constraint
 * @example
 * ```ts
 * const params = secAggParams({ clients: 100, neighbours: 14, length: 100_000 });
 * params.threshold; // 8 = floor(15 / 2) + 1
 * ```
 */
export function secAggParams(input: SecAggParamsInput): SecAggParams {
  if (typeof input !== 'object' || input === null) throw invalid('expected a parameter object');
  const clients = aint(input.clients, 'clients', 2, MAX_CLIENTS);
  if (input.neighbours === undefined && clients > MAX_GROUP) {
    throw invalid(
      `${clients} clients cannot use the full graph (at most ${MAX_GROUP} per group): set neighbours for SecAgg+`,
    );
  }
  const neighbours = aint(
    input.neighbours ?? clients - 1,
    'neighbours',
    1,
    Math.min(clients - 1, MAX_GROUP - 1),
  );
  if (neighbours % 2 === 1 && clients % 2 === 1) {
    throw invalid(
      `no ${neighbours}-regular graph on ${clients} vertices exists (n * k must be even): choose an even number of neighbours`,
      { clients, neighbours },
    );
  }
  const active = input.active === undefined ? false : abool(input.active, 'active');
  const group = neighbours + 1;
  const threshold = aint(input.threshold ?? defaultThreshold(group, active), 'threshold', 1);
  if (threshold > group || 2 * threshold <= group || threshold < 2) {
    throw invalid(
      `threshold ${threshold} must exceed half of the group (${group} = neighbours + 1) and not exceed it: ${Math.floor(group / 2) + 1} <= t <= ${group}`,
      { threshold, group },
    );
  }
  const bits = aringBits(input.bits ?? 32);
  const length = aint(input.length, 'length', 1, bits === 32 ? MAX_LENGTH : MAX_LENGTH / 2);
  return Object.freeze({ clients, threshold, neighbours, bits, length, active });
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
