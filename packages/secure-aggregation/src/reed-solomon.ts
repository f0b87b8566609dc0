/**
 * Error-correcting reconstruction of Shamir shares over GF(2^8). Byte j of the shares of a
 * threshold-t secret are the values at x_1..x_m of a polynomial f_j of degree < t: a word of the
 * Reed-Solomon code of length m and dimension t, so f_j (and the secret byte f_j(0)) is
 * determined even when up to e = floor((m - t) / 2) of the m values are wrong.
 *
 * Decoding follows Gao, "A new algorithm for decoding Reed-Solomon codes" (2003): interpolate
 * g1 through all m points, run the extended Euclidean algorithm on g0 = prod (X - x_i) and g1
 * until the remainder g has degree < (m + t) / 2, with g = u g0 + v g1; then f = g / v when v
 * divides g and deg f < t, and decoding fails otherwise. Each byte is decoded on its own (a
 * corrupted share may be wrong in some bytes only), O(m^2) field operations per byte, with the
 * constant-time field arithmetic of @unseen/secret-sharing.
 * @module
 */
import { UnseenError } from '@unseen/core';
import { gfInv, gfMul } from '@unseen/secret-sharing';

/** A polynomial over GF(2^8), coefficients from degree 0 up, without leading zeros. */
type Poly = number[];

function trim(p: Poly): Poly {
  let d = p.length;
  while (d > 0 && p[d - 1] === 0) d--;
  p.length = d;
  return p;
}

function degree(p: Poly): number {
  return p.length - 1;
}

function evaluate(p: Poly, x: number): number {
  let acc = 0;
  for (let i = p.length - 1; i >= 0; i--) acc = gfMul(acc, x) ^ p[i]!;
  return acc;
}

/** a - b (= a + b in characteristic 2). */
function add(a: Poly, b: Poly): Poly {
  const out = a.length >= b.length ? a.slice() : b.slice();
  const short = a.length >= b.length ? b : a;
  for (let i = 0; i < short.length; i++) out[i] = out[i]! ^ short[i]!;
  return trim(out);
}

function mul(a: Poly, b: Poly): Poly {
  if (a.length === 0 || b.length === 0) return [];
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    for (let j = 0; j < b.length; j++) out[i + j] = out[i + j]! ^ gfMul(a[i]!, b[j]!);
  }
  return trim(out);
}

/** Quotient and remainder of a / b (b non-zero). */
function divmod(a: Poly, b: Poly): [Poly, Poly] {
  const r = a.slice();
  const db = degree(b);
  if (degree(r) < db) return [[], trim(r)];
  const q = new Array<number>(degree(r) - db + 1).fill(0);
  const lead = gfInv(b[db]!);
  for (let d = degree(r); d >= db; d--) {
    const c = r[d]!;
    if (c === 0) continue;
    const f = gfMul(c, lead);
    q[d - db] = f;
    for (let j = 0; j <= db; j++) r[d - db + j] = r[d - db + j]! ^ gfMul(f, b[j]!);
  }
  return [trim(q), trim(r)];
}

/** The parts of decoding that depend on the x-coordinates only. */
interface Basis {
  /** g0 = prod_i (X - x_i). */
  g0: Poly;
  /** q_i = g0 / (X - x_i), scaled by 1 / q_i(x_i): the Lagrange basis polynomial of x_i. */
  lagrange: Poly[];
}

function basis(xs: readonly number[]): Basis {
  let g0: Poly = [1];
  for (const x of xs) g0 = mul(g0, [x, 1]);
  const lagrange = xs.map((x) => {
    const [q] = divmod(g0, [x, 1]);
    const scale = gfInv(evaluate(q, x));
    return q.map((c) => gfMul(c, scale));
  });
  return { g0, lagrange };
}

/** Decodes one byte position; undefined when more than floor((m - t) / 2) values are wrong. */
function decodeByte(b: Basis, ys: readonly number[], t: number): Poly | undefined {
  const m = ys.length;
  let g1: Poly = [];
  for (let i = 0; i < m; i++) {
    const y = ys[i]!;
    if (y === 0) continue;
    g1 = add(
      g1,
      b.lagrange[i]!.map((c) => gfMul(c, y)),
    );
  }
  // Partial extended Euclid on (g0, g1), tracking only the coefficient v of g1.
  let r0: Poly = b.g0;
  let r1: Poly = g1;
  let v0: Poly = [];
  let v1: Poly = [1];
  while (2 * degree(r1) >= m + t) {
    const [q, r] = divmod(r0, r1);
    [r0, r1] = [r1, r];
    [v0, v1] = [v1, add(v0, mul(q, v1))];
  }
  if (v1.length === 0) return undefined;
  const [f, rest] = divmod(r1, v1);
  if (rest.length !== 0 || degree(f) >= t) return undefined;
  return f;
}

/**
 * How many wrong shares the server's reconstruction (`recovery.ts`) corrects among m shares of a
 * threshold-t secret: floor((m - t) / 2) by decoding, or 1 when m = t + 1 (by leaving each share
 * out in turn and checking the result against a commitment).
 */
export function correctableShares(m: number, t: number): number {
  if (m <= t) return 0;
  return m === t + 1 ? 1 : Math.floor((m - t) / 2);
}

/** What {@link decodeShares} found. */
export interface DecodedSecret {
  secret: Uint8Array;
  /** Indices (into the shares given) of the shares that disagree with the decoded secret. */
  wrong: number[];
}

/**
 * Reconstructs a threshold-t secret from m >= t shares (`x || y_0 .. y_{L-1}`, distinct non-zero
 * x) of which up to floor((m - t) / 2) may be wrong.
 * @returns the secret and which shares were wrong, or undefined when decoding fails (too many
 *   wrong shares; the caller should still check the secret against a commitment: more errors
 *   than that can decode to another codeword)
 * @throws UnseenError `ERR_INVALID_SHARE` for shares that do not belong together
 */
export function decodeShares(
  shares: readonly Uint8Array[],
  threshold: number,
): DecodedSecret | undefined {
  const m = shares.length;
  const length = shares[0]?.length ?? 0;
  const xs = shares.map((s) => s[0]!);
  if (
    m < threshold ||
    length < 2 ||
    shares.some((s) => s.length !== length) ||
    xs.some((x) => x === 0) ||
    new Set(xs).size !== m
  ) {
    throw new UnseenError(
      'ERR_INVALID_SHARE',
      `decodeShares: expected at least ${threshold} shares of one secret with distinct non-zero x-coordinates`,
    );
  }
  const b = basis(xs);
  const secret = new Uint8Array(length - 1);
  const wrong = new Set<number>();
  const ys = new Array<number>(m);
  for (let j = 1; j < length; j++) {
    for (let i = 0; i < m; i++) ys[i] = shares[i]![j]!;
    const f = decodeByte(b, ys, threshold);
    if (f === undefined) {
      secret.fill(0);
      return undefined;
    }
    secret[j - 1] = f[0] ?? 0;
    for (let i = 0; i < m; i++) if (evaluate(f, xs[i]!) !== ys[i]) wrong.add(i);
  }
  ys.fill(0);
  return { secret, wrong: [...wrong].sort((x, y) => x - y) };
}
