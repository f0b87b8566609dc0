/**
 * Beaver-triple multiplication of additively shared vectors over Z_2^k (Beaver, CRYPTO 1991),
 * as two local steps around one opening:
 *
 * 1. every party masks its inputs with the triple: d = x - a, e = y - b ({@link beaverMask});
 * 2. d and e are opened (all parties learn them; they are uniform, as a and b are);
 * 3. every party computes z = c + d*b + e*a, and party 0 adds d*e ({@link beaverFinish}), so
 *    that sum z = ab + (x - a)b + (y - b)a + (x - a)(y - b) = xy.
 *
 * Security: semi-honest parties and a trusted dealer that does not collude with any party and
 * does not see the opened values (else d = x - a reveals x). A triple must never be used twice.
 * @module
 */
import { type RingBits, ringAddInto, ringSub, UnseenError } from '@unseen/core';
import type { TripleShares } from './correlations.js';
import { ringMulInto } from './ring-arith.js';

function sameWords(expected: number, v: Uint32Array, what: string): void {
  if (v.length !== expected) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `beaver: ${what} has ${v.length} words, expected ${expected}`,
    );
  }
}

/** The words to open: d = x - a followed by e = y - b. */
export function beaverMask(
  bits: RingBits,
  x: Uint32Array,
  y: Uint32Array,
  triple: TripleShares,
): Uint32Array {
  const W = x.length;
  for (const [v, what] of [
    [y, 'y'],
    [triple.a, 'a'],
    [triple.b, 'b'],
    [triple.c, 'c'],
  ] as const) {
    sameWords(W, v, what);
  }
  const out = new Uint32Array(2 * W);
  out.set(ringSub(bits, x, triple.a), 0);
  out.set(ringSub(bits, y, triple.b), W);
  return out;
}

/**
 * This party's share of x * y from the opened d || e.
 * @param party this party's index (party 0 adds the public d * e)
 */
export function beaverFinish(
  bits: RingBits,
  party: number,
  triple: TripleShares,
  opened: Uint32Array,
): Uint32Array {
  const W = triple.c.length;
  sameWords(2 * W, opened, 'the opened d || e');
  const d = opened.subarray(0, W);
  const e = opened.subarray(W, 2 * W);
  const z = triple.c.slice();
  ringAddInto(bits, z, ringMulInto(bits, triple.b.slice(), d));
  ringAddInto(bits, z, ringMulInto(bits, triple.a.slice(), e));
  if (party === 0) ringAddInto(bits, z, ringMulInto(bits, d.slice(), e));
  return z;
}
