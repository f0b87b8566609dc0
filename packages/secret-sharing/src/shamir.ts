/**
 * Shamir secret sharing of byte strings over GF(2^8) (Shamir, "How to share a secret", CACM
 * 1979): every byte of the secret is the constant term of its own random polynomial of degree
 * `threshold - 1`, and share `i` holds the values of all those polynomials at x = i.
 *
 * Share format: `x (1 byte, 1..255) || y_0 || y_1 || ... || y_{L-1}`, one byte per secret byte.
 * The field is the AES field (x^8 + x^4 + x^3 + x + 1), as in HashiCorp Vault and the
 * `shamir-secret-sharing` package (whose shares put x last instead of first).
 *
 * Speed and side channels: one bulk random draw per split; the polynomials are evaluated four
 * bytes at a time on 32-bit words (SWAR doubling, {@link xtimeWords}) in cache-sized chunks, with
 * no table lookups, so no memory access or branch depends on a secret byte.
 *
 * Security: any `threshold - 1` shares are uniformly distributed and independent of the secret
 * (information-theoretic, given uniform coefficients from `crypto.getRandomValues`). `combine`
 * cannot know the threshold: given fewer shares it returns a wrong value without noticing,
 * unless the secret was split with `integrity: true`.
 * @module
 */
import {
  abool,
  abytes,
  aint,
  equalBytes,
  fillRandom,
  hmacSha256,
  randomBytes,
  UnseenError,
} from '@unseen/core';
import { _invPublic, _mulPublic, xtimeWords } from './gf256.js';

/** Options of {@link split}. */
export interface ShamirSplitOptions {
  /** Number of shares n, 2..255. */
  shares: number;
  /** Shares needed to recover the secret t, 2..n. */
  threshold: number;
  /**
   * Append a keyed check (a random 32-byte key and a 16-byte HMAC-SHA256 tag of the secret under
   * it, both shared with the secret) so that {@link combine} with `integrity: true` detects a
   * wrong result: too few shares or a tampered share. Adds 48 bytes to every share.
   */
  integrity?: boolean;
}

/** Options of {@link combine}. */
export interface ShamirCombineOptions {
  /** The shares were made with `integrity: true`: verify and strip the check. */
  integrity?: boolean;
}

/** Bytes of the integrity key and tag appended to the secret before splitting. */
const INTEGRITY_KEY_BYTES = 32;
const INTEGRITY_TAG_BYTES = 16;
/** Bytes `integrity: true` adds to the secret (and so to every share). */
export const SHAMIR_INTEGRITY_OVERHEAD = INTEGRITY_KEY_BYTES + INTEGRITY_TAG_BYTES;

/** Words per chunk of the bulk loops: 8 KiB per array, so all of a chunk's arrays stay in cache. */
const CHUNK_WORDS = 2048;

/** HMAC-SHA256 of the secret under `key`, truncated to 16 bytes (RFC 2104, section 5). */
function integrityTag(key: Uint8Array, secret: Uint8Array): Uint8Array {
  return hmacSha256(key, secret).subarray(0, INTEGRITY_TAG_BYTES);
}

/** Evaluates, in place, `acc[0..m) = xtime(acc[0..m))` on packed words. */
function xtimeInPlace(acc: Uint32Array, m: number): void {
  for (let k = 0; k < m; k++) acc[k] = xtimeWords(acc[k]!);
}

function xorInto(acc: Uint32Array, src: Uint32Array, m: number): void {
  for (let k = 0; k < m; k++) acc[k] = acc[k]! ^ src[k]!;
}

/**
 * Splits a secret into `shares` shares, any `threshold` of which recover it.
 * Share i (0-based) has x-coordinate i + 1.
 * @param secret 1 or more bytes (a key, a seed, a record, a file)
 * @returns `shares` arrays of `1 + secret.length` bytes (plus 48 with `integrity`)
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for an empty secret or counts out of range
 * @example
 * ```ts
 * const parts = shamir.split(key, { shares: 5, threshold: 3 });
 * const again = shamir.combine([parts[0]!, parts[3]!, parts[4]!]); // equals key
 * ```
 */
export function split(secret: Uint8Array, options: ShamirSplitOptions): Uint8Array[] {
  abytes(secret, 'secret');
  if (secret.length === 0) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'shamir.split: the secret is empty');
  }
  if (typeof options !== 'object' || options === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'shamir.split: expected options');
  }
  const n = aint(options.shares, 'shares', 2, 255);
  const t = aint(options.threshold, 'threshold (2 <= threshold <= shares)', 2, n);
  const integrity = options.integrity === undefined ? false : abool(options.integrity, 'integrity');

  let payload = secret;
  if (integrity) {
    const key = randomBytes(INTEGRITY_KEY_BYTES);
    payload = new Uint8Array(secret.length + SHAMIR_INTEGRITY_OVERHEAD);
    payload.set(secret);
    payload.set(key, secret.length);
    payload.set(integrityTag(key, secret), secret.length + INTEGRITY_KEY_BYTES);
    key.fill(0);
  }
  const len = payload.length;
  const words = Math.ceil(len / 4);

  // The secret, padded to whole words; the coefficients a_1..a_{t-1} of every byte's polynomial,
  // coefficient-major, in one draw from crypto.getRandomValues.
  const a0 = new Uint32Array(words);
  new Uint8Array(a0.buffer).set(payload);
  if (integrity) payload.fill(0);
  const coefficients = fillRandom(new Uint32Array(words * (t - 1)));

  // powers[i * t + j] = x_i^j, the public multipliers of coefficient j in share i.
  const powers = new Uint8Array(n * t);
  for (let i = 0; i < n; i++) {
    let p = 1;
    for (let j = 0; j < t; j++) {
      powers[i * t + j] = p;
      p = _mulPublic(p, i + 1);
    }
  }

  const chunk = Math.min(CHUNK_WORDS, words);
  const shares: Uint8Array[] = [];
  const out: Uint32Array[] = [];
  for (let i = 0; i < n; i++) {
    const share = new Uint8Array(1 + len);
    share[0] = i + 1;
    shares.push(share);
    out.push(new Uint32Array(chunk));
  }
  const chain = new Uint32Array(chunk);

  for (let off = 0; off < words; off += chunk) {
    const m = Math.min(chunk, words - off);
    for (let i = 0; i < n; i++) out[i]!.set(a0.subarray(off, off + m));
    // y_i = a_0 + sum_j a_j * x_i^j. For each coefficient, walk the chain a_j * x^bit
    // (bit = 0..7) once and add it into every share whose multiplier has that bit set.
    for (let j = 1; j < t; j++) {
      const base = (j - 1) * words + off;
      chain.set(coefficients.subarray(base, base + m));
      let remaining = 0; // union of the bits still to use across shares
      for (let i = 0; i < n; i++) remaining |= powers[i * t + j]!;
      for (let bit = 0; remaining !== 0; bit++) {
        const mask = 1 << bit;
        for (let i = 0; i < n; i++)
          if ((powers[i * t + j]! & mask) !== 0) xorInto(out[i]!, chain, m);
        remaining &= ~mask;
        if (remaining !== 0) xtimeInPlace(chain, m);
      }
    }
    const byteOff = off * 4;
    const bytes = Math.min(m * 4, len - byteOff);
    for (let i = 0; i < n; i++) {
      shares[i]!.set(new Uint8Array(out[i]!.buffer, 0, bytes), 1 + byteOff);
    }
  }
  // Best-effort erasure of the secret and the polynomials (JS gives no guarantee).
  a0.fill(0);
  coefficients.fill(0);
  chain.fill(0);
  for (const o of out) o.fill(0);
  return shares;
}

/**
 * Validates shares and returns their x-coordinates and common length.
 * @throws UnseenError per the rules of {@link combine}
 */
function checkShares(shares: readonly Uint8Array[]): { xs: number[]; length: number } {
  if (!Array.isArray(shares)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'shamir.combine: expected an array of shares');
  }
  if (shares.length < 2) {
    throw new UnseenError(
      'ERR_INSUFFICIENT_SHARES',
      `shamir.combine: at least 2 shares are needed, got ${shares.length}`,
      { details: { got: shares.length } },
    );
  }
  if (shares.length > 255) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `shamir.combine: at most 255 shares exist, got ${shares.length}`,
    );
  }
  const seen = new Uint8Array(256);
  const xs: number[] = [];
  let length = -1;
  for (let i = 0; i < shares.length; i++) {
    const s = shares[i];
    if (!(s instanceof Uint8Array)) {
      throw new UnseenError('ERR_INVALID_SHARE', `shamir.combine: share ${i} is not a Uint8Array`, {
        details: { index: i },
      });
    }
    if (s.length < 2) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `shamir.combine: share ${i} has ${s.length} bytes; a share is 1 x byte and at least 1 data byte`,
        { details: { index: i, length: s.length } },
      );
    }
    if (length === -1) length = s.length;
    else if (s.length !== length) {
      throw new UnseenError(
        'ERR_PARAMETER_MISMATCH',
        `shamir.combine: shares of different lengths (${length} and ${s.length} bytes): they do not belong to one secret`,
        { details: { index: i, expected: length, got: s.length } },
      );
    }
    const x = s[0]!;
    if (x === 0) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `shamir.combine: share ${i} has x-coordinate 0, which would be the secret itself`,
        { details: { index: i } },
      );
    }
    if (seen[x] === 1) {
      throw new UnseenError(
        'ERR_INVALID_SHARE',
        `shamir.combine: two shares have the same x-coordinate ${x}`,
        { details: { index: i, x } },
      );
    }
    seen[x] = 1;
    xs.push(x);
  }
  return { xs, length };
}

/**
 * Lagrange coefficients for interpolation at 0: lambda_i = prod_{j != i} x_j / (x_j - x_i); in
 * GF(2^8) subtraction is XOR. Public values (they depend on x-coordinates only).
 */
export function lagrangeAtZero(xs: readonly number[]): number[] {
  return xs.map((xi, i) => {
    let num = 1;
    let den = 1;
    for (let j = 0; j < xs.length; j++) {
      if (j === i) continue;
      num = _mulPublic(num, xs[j]!);
      den = _mulPublic(den, xs[j]! ^ xi); // non-zero: the x-coordinates are distinct
    }
    return _mulPublic(num, _invPublic(den));
  });
}

/**
 * Recovers the secret from shares by Lagrange interpolation at x = 0. Any `threshold` or more
 * shares of one split give the secret; fewer give a wrong value, which `combine` can only detect
 * for secrets split with `integrity: true` (then pass `{ integrity: true }` here too).
 * @throws UnseenError `ERR_INSUFFICIENT_SHARES` (fewer than 2 shares), `ERR_INVALID_SHARE`
 * (not bytes, too short, x = 0, duplicate x), `ERR_PARAMETER_MISMATCH` (different lengths),
 * `ERR_INTEGRITY` (integrity check failed: too few shares, or a tampered share)
 */
export function combine(
  shares: readonly Uint8Array[],
  options: ShamirCombineOptions = {},
): Uint8Array {
  const integrity = options.integrity === undefined ? false : abool(options.integrity, 'integrity');
  const { xs, length } = checkShares(shares);
  const len = length - 1;
  if (integrity && len <= SHAMIR_INTEGRITY_OVERHEAD) {
    throw new UnseenError(
      'ERR_INVALID_SHARE',
      `shamir.combine: shares of ${length} bytes cannot carry an integrity check (${SHAMIR_INTEGRITY_OVERHEAD} bytes); were they split with integrity: true?`,
      { details: { length } },
    );
  }
  const k = xs.length;
  const lambda = lagrangeAtZero(xs);
  const words = Math.ceil(len / 4);
  const out = new Uint8Array(len);
  const chunk = Math.min(CHUNK_WORDS, words);
  const acc = new Uint32Array(chunk);
  const ys = xs.map(() => new Uint32Array(chunk));
  let top = 0;
  for (const l of lambda) top |= l;
  const topBit = 31 - Math.clz32(top);

  for (let off = 0; off < words; off += chunk) {
    const m = Math.min(chunk, words - off);
    const byteOff = off * 4;
    const bytes = Math.min(m * 4, len - byteOff);
    for (let i = 0; i < k; i++) {
      const y = new Uint8Array(ys[i]!.buffer, 0, m * 4);
      y.set(shares[i]!.subarray(1 + byteOff, 1 + byteOff + bytes));
      y.fill(0, bytes); // the pad of the last word
    }
    // secret = sum_i lambda_i * y_i, by Horner over the bits of the (public) lambdas:
    // acc = acc * x + (sum of the y_i whose lambda_i has this bit), from the top bit down.
    acc.fill(0, 0, m);
    for (let bit = topBit; bit >= 0; bit--) {
      if (bit !== topBit) xtimeInPlace(acc, m);
      for (let i = 0; i < k; i++) if (((lambda[i]! >> bit) & 1) === 1) xorInto(acc, ys[i]!, m);
    }
    out.set(new Uint8Array(acc.buffer, 0, bytes), byteOff);
  }
  acc.fill(0);
  for (const y of ys) y.fill(0);

  if (!integrity) return out;
  const secretLength = len - SHAMIR_INTEGRITY_OVERHEAD;
  const secret = out.slice(0, secretLength);
  const key = out.subarray(secretLength, secretLength + INTEGRITY_KEY_BYTES);
  const tag = out.subarray(secretLength + INTEGRITY_KEY_BYTES);
  const ok = equalBytes(integrityTag(key, secret), tag);
  out.fill(0);
  if (!ok) {
    secret.fill(0);
    throw new UnseenError(
      'ERR_INTEGRITY',
      'shamir.combine: the integrity check failed: fewer shares than the threshold, a tampered share, or shares of different secrets',
    );
  }
  return secret;
}

/**
 * Byte-wise Shamir secret sharing over GF(2^8): `shamir.split(secret, { shares, threshold })`
 * and `shamir.combine(shares)`. See the module documentation for the share format and security.
 */
export const shamir = { split, combine } as const;
