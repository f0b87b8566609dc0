/**
 * Shamir secret sharing of Uint32Array vectors over GF(2^31 - 1), with share arithmetic: add,
 * subtract, add or multiply by a public constant, and multiply two sharings (the product is a
 * sharing of degree 2(t - 1), which needs 2t - 1 shares to open, as in BGW). Share i holds the
 * values at x = i + 1 of one random polynomial of degree t - 1 per element.
 *
 * Security: any t - 1 shares are uniform and independent of the secret vector
 * (information-theoretic, given uniform coefficients from `crypto.getRandomValues`).
 * @module
 */
import { aint, ByteReader, ByteWriter, UnseenError } from '@unseen/core';
import {
  afieldElement,
  afieldVector,
  fpAdd,
  fpInv,
  fpMul,
  fpSub,
  P31,
  randomFieldElements,
} from './prime-field.js';
import { readWords, writeWords } from './wire.js';

/** One party's share of a vector: its x-coordinate and one field element per secret element. */
export interface FieldShare {
  readonly x: number;
  readonly values: Uint32Array;
}

/** Most shares of one vector: x-coordinates stay below 2^16 so that x * y is exact in a double. */
export const MAX_FIELD_SHARES = 65_535;

/** Options of {@link fieldShamir}.split. */
export interface FieldSplitOptions {
  /** Number of shares n, 2..65,535. */
  shares: number;
  /** Shares needed to recover t, 2..n. */
  threshold: number;
}

/** 2^-31: multiplying by it divides by 2^31 exactly (a power of two). */
const INV_2_31 = 2 ** -31;

/**
 * y * x + c mod p for y, c < p and a small public x < 2^16: the sum is below 2^48, exact in a
 * double, and folds once with 2^31 = 1 (mod p) to below 2^31 + 2^17.
 */
function mulAddSmall(y: number, x: number, c: number): number {
  let s = y * x + c;
  const h = Math.floor(s * INV_2_31);
  s = s - h * 2_147_483_648 + h;
  return s >= P31 ? s - P31 : s;
}

function split(values: Uint32Array, options: FieldSplitOptions): FieldShare[] {
  afieldVector(values, 'fieldShamir.split values');
  if (typeof options !== 'object' || options === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'fieldShamir.split: expected options');
  }
  const n = aint(options.shares, 'shares', 2, MAX_FIELD_SHARES);
  const t = aint(options.threshold, 'threshold (2 <= threshold <= shares)', 2, n);
  const len = values.length;
  // Coefficients a_1..a_{t-1}, coefficient-major, in one draw.
  const coefficients = randomFieldElements(new Uint32Array(len * (t - 1)));
  const shares: FieldShare[] = [];
  for (let i = 0; i < n; i++) {
    const x = i + 1;
    const y = new Uint32Array(len);
    for (let k = 0; k < len; k++) {
      // Horner: ((a_{t-1} x + a_{t-2}) x + ...) x + a_0
      let acc = 0;
      for (let j = t - 1; j >= 1; j--) acc = mulAddSmall(acc, x, coefficients[(j - 1) * len + k]!);
      y[k] = mulAddSmall(acc, x, values[k]!);
    }
    shares.push({ x, values: y });
  }
  coefficients.fill(0);
  return shares;
}

function checkShare(share: unknown, title: string): FieldShare {
  if (typeof share !== 'object' || share === null) {
    throw new UnseenError('ERR_INVALID_SHARE', `${title}: expected { x, values }`);
  }
  const { x, values } = share as { x?: unknown; values?: unknown };
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > MAX_FIELD_SHARES) {
    throw new UnseenError(
      'ERR_INVALID_SHARE',
      `${title}: x must be an integer in [1, ${MAX_FIELD_SHARES}]`,
    );
  }
  if (!(values instanceof Uint32Array)) {
    throw new UnseenError('ERR_INVALID_SHARE', `${title}: values must be a Uint32Array`);
  }
  for (let i = 0; i < values.length; i++) {
    if (values[i]! >= P31) {
      throw new UnseenError('ERR_INVALID_SHARE', `${title}: element ${i} is not below p`, {
        details: { index: i },
      });
    }
  }
  return share as FieldShare;
}

/** Lagrange coefficients at 0 over GF(p): lambda_i = prod_{j != i} x_j / (x_j - x_i). */
export function fieldLagrangeAtZero(xs: readonly number[]): number[] {
  return xs.map((xi, i) => {
    let num = 1;
    let den = 1;
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue;
      num = fpMul(num, xs[j]!);
      den = fpMul(den, fpSub(xs[j]!, xi));
    }
    return fpMul(num, fpInv(den));
  });
}

function combine(shares: readonly FieldShare[]): Uint32Array {
  if (!Array.isArray(shares)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'fieldShamir.combine: expected an array of shares',
    );
  }
  if (shares.length < 2) {
    throw new UnseenError(
      'ERR_INSUFFICIENT_SHARES',
      `fieldShamir.combine: at least 2 shares are needed, got ${shares.length}`,
    );
  }
  const seen = new Set<number>();
  let len = -1;
  shares.forEach((s, i) => {
    checkShare(s, `share ${i}`);
    if (seen.has(s.x)) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `fieldShamir.combine: two shares have x = ${s.x}`,
        {
          details: { x: s.x },
        },
      );
    }
    seen.add(s.x);
    if (len === -1) len = s.values.length;
    else if (s.values.length !== len) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `fieldShamir.combine: shares of ${len} and ${s.values.length} elements`,
        { details: { index: i, expected: len, got: s.values.length } },
      );
    }
  });
  const lambda = fieldLagrangeAtZero(shares.map((s) => s.x));
  const out = new Uint32Array(len);
  shares.forEach((s, i) => {
    const l = lambda[i]!;
    const y = s.values;
    for (let k = 0; k < len; k++) out[k] = fpAdd(out[k]!, fpMul(y[k]!, l));
  });
  return out;
}

function pair(a: FieldShare, b: FieldShare, op: string): number {
  checkShare(a, `${op} left`);
  checkShare(b, `${op} right`);
  if (a.x !== b.x) {
    throw new UnseenError('ERR_PARAMETER_MISMATCH', `${op}: shares at x = ${a.x} and x = ${b.x}`);
  }
  if (a.values.length !== b.values.length) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      `${op}: shares of ${a.values.length} and ${b.values.length} elements`,
    );
  }
  return a.values.length;
}

function constantAt(c: number | Uint32Array, k: number): number {
  return typeof c === 'number' ? c : c[k]!;
}

function checkConstant(c: number | Uint32Array, len: number, op: string): void {
  if (typeof c === 'number') afieldElement(c, `${op} constant`);
  else {
    afieldVector(c, `${op} constant`);
    if (c.length !== len) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `${op}: constant of ${c.length} elements for ${len}`,
      );
    }
  }
}

function map(share: FieldShare, f: (y: number, k: number) => number): FieldShare {
  const out = new Uint32Array(share.values.length);
  for (let k = 0; k < out.length; k++) out[k] = f(share.values[k]!, k);
  return { x: share.x, values: out };
}

/** Encodes a share: `x u16 | count u32 | count little-endian u32 words`. */
function encodeShare(share: FieldShare): Uint8Array {
  checkShare(share, 'share');
  const w = new ByteWriter(6 + share.values.length * 4).u16(share.x).u32(share.values.length);
  return writeWords(w, share.values).finish();
}

/**
 * Decodes and validates a share.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (truncated, extended), `ERR_INVALID_SHARE`
 * (x = 0, an element not below p)
 */
function decodeShare(bytes: Uint8Array, maxElements = 1 << 26): FieldShare {
  const r = new ByteReader(bytes, 'field share');
  const x = r.u16('x');
  const count = r.u32('count');
  if (count > maxElements) {
    throw new UnseenError(
      'ERR_MESSAGE_TOO_LARGE',
      `field share: ${count} elements exceed ${maxElements}`,
    );
  }
  const values = readWords(r, count, 'values');
  r.end();
  return checkShare({ x, values }, 'field share');
}

/**
 * Shamir sharing of vectors over GF(2^31 - 1) and arithmetic on the shares. Every operation
 * returns a new share; inputs are never modified.
 * @example
 * ```ts
 * const a = fieldShamir.split(Uint32Array.of(5, 7), { shares: 3, threshold: 2 });
 * const b = fieldShamir.split(Uint32Array.of(1, 2), { shares: 3, threshold: 2 });
 * const sum = a.map((s, i) => fieldShamir.add(s, b[i]!));
 * fieldShamir.combine([sum[0]!, sum[2]!]); // Uint32Array [6, 9]
 * ```
 */
export const fieldShamir = {
  /** Splits a vector of field elements (each < 2^31 - 1) into `shares` shares, x = 1..n. */
  split,
  /**
   * Interpolates at 0 through all given shares (give exactly the ones you trust; t or more of
   * one sharing recover it, fewer give a wrong vector without notice).
   * @throws UnseenError `ERR_INSUFFICIENT_SHARES`, `ERR_INVALID_SHARE`, `ERR_PARAMETER_MISMATCH`
   */
  combine,
  /** Share of a + b. */
  add(a: FieldShare, b: FieldShare): FieldShare {
    pair(a, b, 'fieldShamir.add');
    return map(a, (y, k) => fpAdd(y, b.values[k]!));
  },
  /** Share of a - b. */
  sub(a: FieldShare, b: FieldShare): FieldShare {
    pair(a, b, 'fieldShamir.sub');
    return map(a, (y, k) => fpSub(y, b.values[k]!));
  },
  /** Share of a + c for a public constant (scalar or vector); every party adds it. */
  addConst(a: FieldShare, c: number | Uint32Array): FieldShare {
    checkShare(a, 'fieldShamir.addConst');
    checkConstant(c, a.values.length, 'fieldShamir.addConst');
    return map(a, (y, k) => fpAdd(y, constantAt(c, k)));
  },
  /** Share of c * a for a public constant (scalar or vector). */
  mulConst(a: FieldShare, c: number | Uint32Array): FieldShare {
    checkShare(a, 'fieldShamir.mulConst');
    checkConstant(c, a.values.length, 'fieldShamir.mulConst');
    return map(a, (y, k) => fpMul(y, constantAt(c, k)));
  },
  /**
   * Share of a * b of degree 2(t - 1): it opens with 2t - 1 shares (needs n >= 2t - 1).
   * Semi-honest BGW-style local product, without degree reduction.
   */
  mulLocal(a: FieldShare, b: FieldShare): FieldShare {
    pair(a, b, 'fieldShamir.mulLocal');
    return map(a, (y, k) => fpMul(y, b.values[k]!));
  },
  /** Bytes of a share: `x u16 | count u32 | words (little-endian)`. */
  encodeShare,
  /** Parses bytes from {@link fieldShamir}.encodeShare, validating every element. */
  decodeShare,
} as const;
