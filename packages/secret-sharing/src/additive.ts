/**
 * Additive secret sharing over the rings Z_2^32 and Z_2^64 (vectors in core's layout): a vector
 * x is split into n shares that sum to x; any n - 1 of them are uniform and independent of x.
 * Share arithmetic is local: add and subtract shares, multiply by a public constant, and add a
 * public constant (party 0 adds it, the others do nothing).
 *
 * Two ways to make shares:
 * - {@link additive}.share: every share is drawn from `crypto.getRandomValues` (n - 1 of them;
 *   the last is the difference). Information-theoretic given uniform randomness.
 * - {@link additive}.shareWithSeeds: n - 1 shares are AES-128-CTR streams (core's `Prg`) under
 *   fresh 16-byte seeds, so a party can receive 16 bytes instead of its whole share; the last
 *   share is the difference. Secrecy then rests on AES-128 as a PRF (computational, 128-bit).
 * @module
 */
import {
  abytes,
  aint,
  aringBits,
  fillRandom,
  PRG_SEED_BYTES,
  Prg,
  type RingBits,
  randomBytes,
  ringAdd,
  ringAddInto,
  ringNegInto,
  ringSub,
  ringSubInto,
  UnseenError,
  wordsPerElement,
} from '@unseen/core';
import {
  aringVector,
  type RingConstant,
  ringAddConstInto,
  ringMulConstInto,
} from './ring-arith.js';

/** Options of {@link additive}.share. */
export interface AdditiveShareOptions {
  /** Number of parties n, 2..65,535. */
  parties: number;
  /** Ring size (default 32). */
  bits?: RingBits;
}

/** Result of {@link additive}.shareWithSeeds. */
export interface SeededShares {
  /** Seeds of parties 0..n-2: party i's share is `expandSeed(seeds[i], length, bits)`. */
  seeds: Uint8Array[];
  /** The share of party n - 1: x minus the expanded shares. */
  last: Uint32Array;
}

function checkOptions(values: Uint32Array, options: AdditiveShareOptions): [number, RingBits] {
  if (typeof options !== 'object' || options === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'additive: expected options');
  }
  const n = aint(options.parties, 'parties', 2, 65_535);
  const bits = aringBits(options.bits ?? 32);
  aringVector(bits, values, 'additive values');
  return [n, bits];
}

function share(values: Uint32Array, options: AdditiveShareOptions): Uint32Array[] {
  const [n, bits] = checkOptions(values, options);
  const shares: Uint32Array[] = [];
  for (let i = 0; i < n - 1; i++) shares.push(fillRandom(new Uint32Array(values.length)));
  if (bits === 64) {
    const last = values.slice();
    for (const s of shares) ringSubInto(64, last, s);
    shares.push(last);
    return shares;
  }
  // Z_2^32: last = x - r_0 - r_1 - ..., two random shares per pass; `| 0` keeps the
  // difference an int32, which the Uint32Array store wraps modulo 2^32 on its fast path.
  const last = new Uint32Array(values.length);
  let src = values;
  for (let j = 0; j < n - 1; j += 2) {
    const a = shares[j]!;
    const b = shares[j + 1];
    if (b === undefined) for (let k = 0; k < last.length; k++) last[k] = (src[k]! - a[k]!) | 0;
    else for (let k = 0; k < last.length; k++) last[k] = (src[k]! - a[k]! - b[k]!) | 0;
    src = last;
  }
  shares.push(last);
  return shares;
}

/**
 * Expands a 16-byte seed into a pseudo-random share of `length` elements: the first
 * `4 * length * words` bytes of the AES-128-CTR stream under the seed (zero nonce).
 */
async function expandSeed(
  seed: Uint8Array,
  length: number,
  bits: RingBits = 32,
): Promise<Uint32Array> {
  abytes(seed, 'seed', PRG_SEED_BYTES);
  aint(length, 'length', 0);
  return (await Prg.create(seed)).uint32s(length * wordsPerElement(aringBits(bits)));
}

async function shareWithSeeds(
  values: Uint32Array,
  options: AdditiveShareOptions,
): Promise<SeededShares> {
  const [n, bits] = checkOptions(values, options);
  const length = values.length / wordsPerElement(bits);
  const seeds: Uint8Array[] = [];
  const last = values.slice();
  for (let i = 0; i < n - 1; i++) {
    const seed = randomBytes(PRG_SEED_BYTES);
    ringSubInto(bits, last, await expandSeed(seed, length, bits));
    seeds.push(seed);
  }
  return { seeds, last };
}

function reveal(shares: readonly Uint32Array[], bits: RingBits = 32): Uint32Array {
  aringBits(bits);
  if (!Array.isArray(shares) || shares.length < 1) {
    throw new UnseenError('ERR_INSUFFICIENT_SHARES', 'additive.reveal: no shares');
  }
  const out = aringVector(bits, shares[0], 'share 0').slice();
  for (let i = 1; i < shares.length; i++) {
    const s = aringVector(bits, shares[i], `share ${i}`);
    if (s.length !== out.length) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `additive.reveal: shares of ${out.length} and ${s.length} words`,
        { details: { index: i } },
      );
    }
    ringAddInto(bits, out, s);
  }
  return out;
}

/**
 * Additive sharing over Z_2^32 / Z_2^64. All shares of a vector must be revealed together:
 * n - 1 of them say nothing about it. Arithmetic returns new vectors.
 * @example
 * ```ts
 * const shares = additive.share(Uint32Array.of(10, 20), { parties: 3 });
 * const doubled = shares.map((s) => additive.mulConst(s, 2));
 * additive.reveal(doubled); // Uint32Array [20, 40]
 * ```
 */
export const additive = {
  /** Splits `values` into `parties` shares from `crypto.getRandomValues`. */
  share,
  /** Splits `values` with n - 1 seed-expanded shares; see the module documentation. */
  shareWithSeeds,
  /** The share a seed from {@link additive}.shareWithSeeds stands for. */
  expandSeed,
  /**
   * Sums all shares back into the vector.
   * @throws UnseenError `ERR_INSUFFICIENT_SHARES`, `ERR_PARAMETER_MISMATCH`, `ERR_INVALID_ARGUMENT`
   */
  reveal,
  /** Share of a + b. */
  add: (a: Uint32Array, b: Uint32Array, bits: RingBits = 32): Uint32Array => ringAdd(bits, a, b),
  /** Share of a - b. */
  sub: (a: Uint32Array, b: Uint32Array, bits: RingBits = 32): Uint32Array => ringSub(bits, a, b),
  /** Share of -a. */
  neg: (a: Uint32Array, bits: RingBits = 32): Uint32Array => ringNegInto(bits, a.slice()),
  /** Share of c * a for a public constant. */
  mulConst: (a: Uint32Array, c: RingConstant, bits: RingBits = 32): Uint32Array =>
    ringMulConstInto(bits, aringVector(bits, a, 'share').slice(), c),
  /**
   * Share of a + c for a public constant: party 0 adds c, every other party keeps its share.
   * @param party this share's party index
   */
  addConst: (a: Uint32Array, c: RingConstant, party: number, bits: RingBits = 32): Uint32Array => {
    aint(party, 'party', 0);
    const out = aringVector(bits, a, 'share').slice();
    return party === 0 ? ringAddConstInto(bits, out, c) : out;
  },
} as const;
