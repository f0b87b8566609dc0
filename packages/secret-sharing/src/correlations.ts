/**
 * Correlated randomness from a trusted dealer, the preprocessing of Beaver-style MPC:
 *
 * - a multiplication triple ([a], [b], [c]) with c = a * b element-wise (Beaver, "Efficient
 *   multiparty protocols using circuit randomization", CRYPTO 1991);
 * - a truncation pair ([r], [r' >> m], [r_{k-1}]) with r uniform in Z_2^k, r' = r mod 2^{k-1}
 *   and r_{k-1} its top bit, for probabilistic truncation (see `truncation.ts`).
 *
 * Compression: every party's share of the random components (a, b; r) and the dependent ones
 * (c; r' >> m, r_{k-1}) for parties 0..n-2 is the AES-128-CTR stream (core's `Prg`) under a
 * fresh 16-byte seed; only party n - 1 receives explicit words, the corrections that make the
 * dependent components add up. A party receives 16 bytes, or 16 bytes and the corrections,
 * instead of its full share (the "seeded dealer" of e.g. CrypTen's trusted third party).
 * @module
 */
import {
  PRG_SEED_BYTES,
  Prg,
  type RingBits,
  randomBytes,
  ringAddInto,
  ringSubInto,
  wordsPerElement,
} from '@unseen/core';
import { ringMulInto, ringShiftRightInto, ringSplitTopBitInto } from './ring-arith.js';

/** What a dealer makes. */
export type CorrelationKind = 'triple' | 'truncation';

/** One batch of correlated randomness: `length` elements of Z_2^bits. */
export interface CorrelationSpec {
  kind: CorrelationKind;
  bits: RingBits;
  /** Elements per component. */
  length: number;
  /** Truncation pairs: the shift m, 1 <= m <= bits - 2. Triples: 0. */
  shift: number;
}

/** A party's shares of a multiplication triple. */
export interface TripleShares {
  a: Uint32Array;
  b: Uint32Array;
  c: Uint32Array;
}

/** A party's shares of a truncation pair. */
export interface TruncationShares {
  /** Share of r, uniform in Z_2^k. */
  r: Uint32Array;
  /** Share of (r mod 2^{k-1}) >> m. */
  rTrunc: Uint32Array;
  /** Share of the top bit r_{k-1} (0 or 1 as a ring element). */
  rMsb: Uint32Array;
}

/** Random and dependent components per kind. */
const SHAPE: Record<CorrelationKind, { free: number; dependent: number }> = {
  triple: { free: 2, dependent: 1 },
  truncation: { free: 1, dependent: 2 },
};

function componentWords(spec: CorrelationSpec): number {
  return spec.length * wordsPerElement(spec.bits);
}

/** Words party `party` of `parties` expands from its seed. */
function seedWords(spec: CorrelationSpec, party: number, parties: number): number {
  const { free, dependent } = SHAPE[spec.kind];
  return (free + (party < parties - 1 ? dependent : 0)) * componentWords(spec);
}

/** Words of the explicit correction party n - 1 receives. */
export function correctionWords(spec: CorrelationSpec): number {
  return SHAPE[spec.kind].dependent * componentWords(spec);
}

/** The first `words` words of the AES-128-CTR stream under `seed`. */
async function expand(seed: Uint8Array, words: number): Promise<Uint32Array> {
  return (await Prg.create(seed)).uint32s(words);
}

/** The dependent components from the random ones (the dealer knows both in the clear). */
function dependentOf(spec: CorrelationSpec, free: Uint32Array[]): Uint32Array[] {
  const { bits } = spec;
  if (spec.kind === 'triple') return [ringMulInto(bits, free[0]!.slice(), free[1]!)];
  const low = free[0]!.slice();
  const msb = ringSplitTopBitInto(bits, low); // low = r mod 2^{k-1}
  return [ringShiftRightInto(bits, low, spec.shift), msb];
}

/**
 * The dealer's side: fresh seeds for all parties and the correction for party n - 1.
 * @returns `seeds[i]` for party i, and `correction` (the dependent components' words) for the last
 */
export async function dealCorrelation(
  spec: CorrelationSpec,
  parties: number,
): Promise<{ seeds: Uint8Array[]; correction: Uint32Array }> {
  const W = componentWords(spec);
  const { free, dependent } = SHAPE[spec.kind];
  const seeds: Uint8Array[] = [];
  const freeTotals = Array.from({ length: free }, () => new Uint32Array(W));
  const dependentTotals = Array.from({ length: dependent }, () => new Uint32Array(W));
  for (let p = 0; p < parties; p++) {
    const seed = randomBytes(PRG_SEED_BYTES);
    seeds.push(seed);
    const stream = await expand(seed, seedWords(spec, p, parties));
    for (let k = 0; k < free; k++)
      ringAddInto(spec.bits, freeTotals[k]!, stream.subarray(k * W, (k + 1) * W));
    if (p < parties - 1) {
      for (let k = 0; k < dependent; k++) {
        ringAddInto(
          spec.bits,
          dependentTotals[k]!,
          stream.subarray((free + k) * W, (free + k + 1) * W),
        );
      }
    }
  }
  const values = dependentOf(spec, freeTotals);
  const correction = new Uint32Array(dependent * W);
  for (let k = 0; k < dependent; k++) {
    const part = ringSubInto(spec.bits, values[k]!, dependentTotals[k]!);
    correction.set(part, k * W);
  }
  for (const v of [...freeTotals, ...dependentTotals, ...values]) v.fill(0);
  return { seeds, correction };
}

/**
 * A party's side: its components from its seed (and, for party n - 1, the correction).
 * @returns the components in order: random ones, then dependent ones
 */
export async function expandCorrelation(
  spec: CorrelationSpec,
  party: number,
  parties: number,
  seed: Uint8Array,
  correction?: Uint32Array,
): Promise<Uint32Array[]> {
  const W = componentWords(spec);
  const { free, dependent } = SHAPE[spec.kind];
  const stream = await expand(seed, seedWords(spec, party, parties));
  const parts: Uint32Array[] = [];
  for (let k = 0; k < free + dependent; k++) {
    if (k < free || party < parties - 1) parts.push(stream.slice(k * W, (k + 1) * W));
    else parts.push(correction!.slice((k - free) * W, (k - free + 1) * W));
  }
  return parts;
}

/** Names the components of a triple. */
export function asTriple(parts: Uint32Array[]): TripleShares {
  return { a: parts[0]!, b: parts[1]!, c: parts[2]! };
}

/** Names the components of a truncation pair. */
export function asTruncation(parts: Uint32Array[]): TruncationShares {
  return { r: parts[0]!, rTrunc: parts[1]!, rMsb: parts[2]! };
}
