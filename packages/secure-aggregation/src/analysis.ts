/**
 * Which SecAgg+ parameters are safe: the analysis of Bell et al., "Secure Single-Server
 * Aggregation with (Poly)Logarithmic Overhead" (CCS 2020), for the graph this package builds (a
 * Harary graph under a uniformly random relabelling, `graph.ts`), in the form used by the
 * authors' reference implementation (Google's federated-compute, `graph_parameter_finder.cc`):
 * union bounds over explicit bad events, each with its failure probability computed exactly.
 *
 * Model. n clients; the adversary controls the server and a set C of at most gamma * n clients,
 * fixed before the graph seed is drawn; at most delta * n clients drop out (set D), independently
 * of the graph. The relabelling is a uniform permutation, so for any fixed C and D the positions
 * of C and D on the Harary ring are uniformly random subsets. Bad events:
 *
 * 1. **Disconnection** (security). The adversary learns the sum of every connected component of
 *    the honest survivors' graph G[V \ (C u D)] (the pairwise masks cancel inside a component and
 *    nowhere else). In the Harary graph H(k, n) two alive ring positions at distance <= h =
 *    floor(k/2) are neighbours, so the alive vertices stay connected unless at least two of the
 *    cyclic gaps between consecutive alive positions are runs of h or more removed positions.
 *    Two disjoint such runs, not adjacent, can be placed in n (n - 2h - 1) / 2 ways, and a given
 *    set of 2h positions lies in a uniform random set of b = |C u D| positions with probability
 *    C(b, 2h) / C(n, 2h). Hence P[disconnected] <= n (n - 2h - 1) / 2 * C(b, 2h) / C(n, 2h).
 * 2. **Corrupt neighbours** (security). An honest client's k neighbours are a uniform k-subset of
 *    the other n - 1 clients, so its corrupt neighbours c follow Hypergeometric(n - 1, |C|, k);
 *    cMax bounds c for every client except with probability n * P[c > cMax]. With c >= t
 *    corrupt holders the adversary reconstructs both secrets of a client (semi-honest variant);
 *    an active server also plays honest holders against each other, which fails when
 *    2t > k + 1 + c (two sets of t holders told different stories share an honest member).
 * 3. **Dropped neighbours** (correctness). Likewise Hypergeometric(n - 1, |D|, k) per client;
 *    with at most dMax dropped neighbours every secret keeps k - dMax holders, so t <= k - dMax.
 *    The server also aborts when the survivors' graph is disconnected by dropouts alone (event 1
 *    with b = |D|), which costs availability, not privacy.
 *
 * The security budget 2^-sigma is split evenly over events 1 and 2 (2^-(sigma+1) each), and the
 * correctness budget 2^-eta over events 3 and 1-by-dropouts, as in the reference implementation.
 * For the complete graph (k = n - 1) nothing is random: c = |C| and every secret keeps n - |D|
 * holders.
 * @module
 */
import { aint, anumber, UnseenError } from '@unseen/core';
import { activeThreshold, MAX_CLIENTS, MAX_GROUP, majorityThreshold } from './bounds.js';

/** The adversary and failures a round's parameters are chosen for. */
export interface ThreatModel {
  /** gamma: the largest fraction of clients that may collude with the server (0 <= gamma < 1). */
  corruptFraction: number;
  /** delta: the largest fraction of clients that may drop out during the round (0 <= delta < 1). */
  dropoutFraction: number;
  /** sigma: the security events have probability at most 2^-sigma. */
  securityBits: number;
  /** eta: the round fails for lack of shares (or connectivity) with probability at most 2^-eta. */
  correctnessBits: number;
}

/**
 * The default threat model: 5% colluding clients, 10% dropouts, statistical security 2^-40 and
 * correctness 2^-20 (the security and correctness parameters of Bell et al.'s reference
 * implementation).
 */
export const DEFAULT_THREAT_MODEL: Readonly<ThreatModel> = Object.freeze({
  corruptFraction: 0.05,
  dropoutFraction: 0.1,
  securityBits: 40,
  correctnessBits: 20,
});

/**
 * Fills the defaults of a threat model and checks it.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for fractions outside [0, 1), gamma + delta >= 1 or
 *   bit counts outside 1..128
 */
export function threatModel(input: Partial<ThreatModel> = {}): ThreatModel {
  if (typeof input !== 'object' || input === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'threat model: expected an object');
  }
  const d = DEFAULT_THREAT_MODEL;
  const corruptFraction = anumber(input.corruptFraction ?? d.corruptFraction, 'corruptFraction', 0);
  const dropoutFraction = anumber(input.dropoutFraction ?? d.dropoutFraction, 'dropoutFraction', 0);
  if (corruptFraction >= 1 || dropoutFraction >= 1 || corruptFraction + dropoutFraction >= 1) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `threat model: corruptFraction ${corruptFraction} and dropoutFraction ${dropoutFraction} must each be below 1, and so must their sum`,
    );
  }
  const securityBits = aint(input.securityBits ?? d.securityBits, 'securityBits', 1, 128);
  const correctnessBits = aint(
    input.correctnessBits ?? d.correctnessBits,
    'correctnessBits',
    1,
    128,
  );
  return { corruptFraction, dropoutFraction, securityBits, correctnessBits };
}

// ---- exact combinatorics in log space ---------------------------------------------------------

const SMALL = 256;
const LOG_FACTORIAL = new Float64Array(SMALL);
for (let m = 2; m < SMALL; m++) LOG_FACTORIAL[m] = LOG_FACTORIAL[m - 1]! + Math.log(m);

/**
 * ln(m!) for an integer m >= 0: summed logarithms below 256, above that Stirling's series
 * ln m! = m ln m - m + ln(2 pi m) / 2 + 1/(12m) - 1/(360m^3) + 1/(1260m^5), whose next term is
 * below 1e-20 there.
 */
export function logFactorial(m: number): number {
  if (m < SMALL) return LOG_FACTORIAL[m]!;
  const inv = 1 / m;
  const inv2 = inv * inv;
  return (
    m * Math.log(m) -
    m +
    0.5 * Math.log(2 * Math.PI * m) +
    inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260))
  );
}

/** ln C(a, b), -Infinity when b < 0 or b > a. */
export function logBinomial(a: number, b: number): number {
  if (b < 0 || b > a) return Number.NEGATIVE_INFINITY;
  return logFactorial(a) - logFactorial(b) - logFactorial(a - b);
}

function logAddExp(a: number, b: number): number {
  if (a === Number.NEGATIVE_INFINITY) return b;
  if (b === Number.NEGATIVE_INFINITY) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/**
 * The smallest m with P[X > m] <= exp(logEps) for X ~ Hypergeometric(population, marked, draws)
 * (draws taken without replacement from a population holding `marked` marked items; X counts the
 * marked ones drawn). Walks the upper tail down from its top with the ratio
 * P[X = x - 1] / P[X = x] = x (population - marked - draws + x) / ((marked - x + 1)(draws - x + 1)).
 */
export function hypergeometricQuantile(
  population: number,
  marked: number,
  draws: number,
  logEps: number,
): number {
  const hi = Math.min(draws, marked);
  const lo = Math.max(0, draws - (population - marked));
  let logPmf =
    logBinomial(marked, hi) +
    logBinomial(population - marked, draws - hi) -
    logBinomial(population, draws);
  let logTail = Number.NEGATIVE_INFINITY; // ln P[X >= x]
  for (let x = hi; x > lo; x--) {
    logTail = logAddExp(logTail, logPmf);
    if (logTail > logEps) return x; // P[X >= x] > eps while P[X >= x + 1] <= eps
    logPmf +=
      Math.log(x) +
      Math.log(population - marked - draws + x) -
      Math.log(marked - x + 1) -
      Math.log(draws - x + 1);
  }
  return lo; // P[X >= lo] = 1
}

/**
 * log2 of the bound on the probability that removing `removed` uniformly placed vertices
 * disconnects the Harary graph H(k, n) (event 1 of the module documentation); -Infinity when it
 * cannot happen (the complete graph, or fewer than 2 floor(k/2) removed vertices).
 */
export function disconnectionLog2(clients: number, neighbours: number, removed: number): number {
  const n = clients;
  if (neighbours >= n - 1) return Number.NEGATIVE_INFINITY;
  const h = Math.floor(neighbours / 2); // odd k adds the opposite vertex: H(k, n) contains H(k-1, n)
  const pairs = n - 2 * h - 1;
  if (2 * h > removed || pairs <= 0) return Number.NEGATIVE_INFINITY;
  const ln =
    Math.log(n) + Math.log(pairs) - Math.LN2 + logBinomial(removed, 2 * h) - logBinomial(n, 2 * h);
  return ln / Math.LN2;
}

// ---- the analysis of one (n, k) --------------------------------------------------------------

/** What the analysis says about a graph of n clients with k neighbours each. */
export interface GraphAnalysis {
  clients: number;
  neighbours: number;
  /** k = n - 1: every client neighbours every other (Bonawitz et al.). */
  complete: boolean;
  /** |C| = floor(gamma n) colluding clients. */
  corrupt: number;
  /** |D| = floor(delta n) dropouts. */
  dropouts: number;
  /** log2 of the bound on P[the honest survivors' graph is disconnected] (event 1). */
  disconnectLog2: number;
  /** log2 of the bound on P[the survivors' graph is disconnected by dropouts alone]. */
  dropoutDisconnectLog2: number;
  /** cMax: at most this many corrupt neighbours per honest client, but with prob. 2^-(sigma+1). */
  corruptNeighbours: number;
  /** dMax: at most this many dropped neighbours per client, but with probability 2^-eta. */
  droppedNeighbours: number;
  /** The smallest threshold meeting the security conditions (may exceed k + 1: none does). */
  minThreshold: number;
  /** The largest threshold meeting the correctness condition (every secret keeps t holders). */
  maxThreshold: number;
  /** Event 1 is within the security budget. */
  connected: boolean;
}

/**
 * Analyses n clients with k neighbours each (k = n - 1: the complete graph) under a threat model.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for counts out of range
 */
export function analyseGraph(
  clients: number,
  neighbours: number,
  active: boolean,
  threat: Partial<ThreatModel> = {},
): GraphAnalysis {
  const n = aint(clients, 'clients', 2, MAX_CLIENTS);
  const k = aint(neighbours, 'neighbours', 1, n - 1);
  const m = threatModel(threat);
  const corrupt = Math.floor(m.corruptFraction * n + 1e-9);
  const dropouts = Math.floor(m.dropoutFraction * n + 1e-9);
  const complete = k === n - 1;
  const securityLog = -(m.securityBits + 1) * Math.LN2 - Math.log(n); // per client, event 2
  const correctnessLog = -m.correctnessBits * Math.LN2 - Math.log(n); // per client, event 3
  const cMax = complete ? corrupt : hypergeometricQuantile(n - 1, corrupt, k, securityLog);
  const dMax = complete ? dropouts : hypergeometricQuantile(n - 1, dropouts, k, correctnessLog);
  const group = k + 1;
  // Semi-honest: fewer than t corrupt holders, and 2t > k + 1 always. Active: 2t > k + 1 + cMax
  // and the two-thirds bound of Bonawitz et al.
  const minThreshold = active
    ? Math.max(Math.ceil((k + 2 + cMax) / 2), activeThreshold(group), cMax + 1)
    : Math.max(cMax + 1, majorityThreshold(group));
  // The survivors hold every secret: n - |D| of them (complete), or k - dMax neighbours.
  const maxThreshold = complete ? n - dropouts : k - dMax;
  const disconnectLog2 = disconnectionLog2(n, k, corrupt + dropouts);
  return {
    clients: n,
    neighbours: k,
    complete,
    corrupt,
    dropouts,
    disconnectLog2,
    dropoutDisconnectLog2: disconnectionLog2(n, k, dropouts),
    corruptNeighbours: cMax,
    droppedNeighbours: dMax,
    minThreshold,
    maxThreshold,
    connected: disconnectLog2 <= -(m.securityBits + 1),
  };
}

/** A verdict on one parameter set. */
export interface ParameterAssessment {
  /** Every security condition of the analysis holds. */
  secure: boolean;
  /** The correctness conditions hold too (the round completes but with probability 2^-eta). */
  correct: boolean;
  /** What fails, in words (security first), empty when secure and correct. */
  problems: string[];
  /** Set when the neighbours are too few for the survivors' graph to stay connected. */
  neighboursProblem?: string;
  /** Set when the threshold is below the security bound. */
  thresholdProblem?: string;
  analysis: GraphAnalysis;
}

/**
 * Checks (n, k, t, active) against the analysis.
 * @example
 * ```ts
 * assessParams({ clients: 100, neighbours: 14, threshold: 8, active: false }).secure; // false
 * ```
 */
export function assessParams(
  params: { clients: number; neighbours: number; threshold: number; active: boolean },
  threat: Partial<ThreatModel> = {},
): ParameterAssessment {
  const m = threatModel(threat);
  const a = analyseGraph(params.clients, params.neighbours, params.active, m);
  const t = params.threshold;
  const problems: string[] = [];
  const model = `${a.corrupt} colluding and ${a.dropouts} dropped of ${a.clients} clients`;
  const neighboursProblem = a.connected
    ? undefined
    : `${a.neighbours} neighbours are too few: with ${model} the honest survivors' graph disconnects with probability up to 2^${a.disconnectLog2.toFixed(1)} (> 2^-${m.securityBits + 1}), revealing partial sums`;
  const thresholdProblem =
    t >= a.minThreshold
      ? undefined
      : `threshold ${t} is below ${a.minThreshold}, the least the ${params.active ? 'active' : 'semi-honest'} variant needs with ${a.neighbours} neighbours (up to ${a.corruptNeighbours} colluding neighbours per client)`;
  if (neighboursProblem !== undefined) problems.push(neighboursProblem);
  if (thresholdProblem !== undefined) problems.push(thresholdProblem);
  const secure = problems.length === 0;
  if (t > a.maxThreshold) {
    problems.push(
      `threshold ${t} exceeds ${a.maxThreshold}: with ${model} some secret may keep fewer holders (the round would abort)`,
    );
  }
  if (a.dropoutDisconnectLog2 > -m.correctnessBits) {
    problems.push(
      `dropouts alone disconnect the survivors' graph with probability up to 2^${a.dropoutDisconnectLog2.toFixed(1)} (the round would abort)`,
    );
  }
  return {
    secure,
    correct: problems.length === 0,
    problems,
    ...(neighboursProblem === undefined ? {} : { neighboursProblem }),
    ...(thresholdProblem === undefined ? {} : { thresholdProblem }),
    analysis: a,
  };
}

/**
 * The smallest threshold that keeps n clients with k neighbours secure under the threat model.
 * May exceed k + 1, in which case no threshold does.
 */
export function minimumThreshold(
  clients: number,
  neighbours: number,
  active: boolean,
  threat: Partial<ThreatModel> = {},
): number {
  return analyseGraph(clients, neighbours, active, threat).minThreshold;
}

/** Options of {@link minimumParameters}. */
export interface MinimumParametersInput extends Partial<ThreatModel> {
  clients: number;
  /** The active variant (default false). */
  active?: boolean;
}

/** What {@link minimumParameters} chooses. */
export interface MinimumParameters {
  /** k: the fewest neighbours (even, or n - 1 for the complete graph) meeting the analysis. */
  neighbours: number;
  /** t: the smallest secure threshold for that k. */
  threshold: number;
  /** The largest threshold that still meets the correctness budget for that k. */
  maxThreshold: number;
  complete: boolean;
  analysis: GraphAnalysis;
}

/**
 * The smallest neighbour count k, and the threshold t, for which a round of `clients` clients is
 * secure (failure probability 2^-sigma) and correct (2^-eta) under the threat model: the
 * parameter choice of Bell et al. for this package's graph. Tries k = 2, 4, ... up to 254 (the
 * largest Shamir group over GF(256)), then the complete graph when n <= 255.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` when no k up to 254 (nor the complete graph) works
 * @example
 * ```ts
 * minimumParameters({ clients: 1000, dropoutFraction: 0.1 }); // { neighbours: 36, threshold: 19, ... }
 * ```
 */
export function minimumParameters(input: MinimumParametersInput): MinimumParameters {
  if (typeof input !== 'object' || input === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'minimumParameters: expected options');
  }
  const n = aint(input.clients, 'clients', 2, MAX_CLIENTS);
  const active = input.active ?? false;
  const m = threatModel(input);
  const candidates: number[] = [];
  for (let k = 2; k < n - 1 && k < MAX_GROUP; k += 2) candidates.push(k);
  if (n <= MAX_GROUP) candidates.push(n - 1);
  for (const k of candidates) {
    const a = analyseGraph(n, k, active, m);
    if (!a.connected || a.dropoutDisconnectLog2 > -m.correctnessBits) continue;
    const threshold = a.minThreshold;
    if (threshold > Math.min(a.maxThreshold, k + 1)) continue;
    return {
      neighbours: k,
      threshold,
      maxThreshold: a.maxThreshold,
      complete: a.complete,
      analysis: a,
    };
  }
  throw new UnseenError(
    'ERR_INVALID_ARGUMENT',
    `no parameters for ${n} clients meet the analysis with ${m.corruptFraction} colluding and ${m.dropoutFraction} dropping clients within groups of ${MAX_GROUP}: lower the fractions or the security bits`,
    { details: { clients: n, ...m } },
  );
}
