/**
 * Cryptographic randomness from `crypto.getRandomValues` (Node 20+ and browsers), with the
 * helpers protocols need: uniform integers without modulo bias, and Fisher-Yates shuffles.
 * @module
 */
import { aint, UnseenError } from './errors.js';

/** `crypto.getRandomValues` fills at most 65,536 bytes per call. */
const MAX_DRAW = 65_536;

function cryptoOrThrow(): Crypto {
  const c = globalThis.crypto;
  if (c === undefined || typeof c.getRandomValues !== 'function') {
    throw new UnseenError('ERR_UNSUPPORTED', 'crypto.getRandomValues is not available');
  }
  return c;
}

/**
 * Fills `out` with cryptographically secure random bytes, in chunks of 64 KiB.
 * @returns `out`
 */
export function fillRandom<T extends ArrayBufferView>(out: T): T {
  const c = cryptoOrThrow();
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  for (let off = 0; off < bytes.length; off += MAX_DRAW) {
    c.getRandomValues(bytes.subarray(off, Math.min(bytes.length, off + MAX_DRAW)));
  }
  return out;
}

/**
 * `n` cryptographically secure random bytes (any size: drawn in 64 KiB chunks).
 * @example
 * ```ts
 * const key = randomBytes(32);
 * ```
 */
export function randomBytes(n: number): Uint8Array {
  return fillRandom(new Uint8Array(aint(n, 'randomBytes length', 0)));
}

/**
 * A uniform integer in `[0, bound)` for `1 <= bound <= 2^32`, by rejection sampling (no modulo
 * bias).
 */
export function randomInt(bound: number): number {
  aint(bound, 'bound', 1, 2 ** 32);
  if (bound === 1) return 0;
  const buf = new Uint32Array(1);
  // Largest multiple of bound that fits in 2^32; values at or above it are redrawn.
  const limit = 2 ** 32 - (2 ** 32 % bound);
  for (;;) {
    fillRandom(buf);
    if (buf[0]! < limit) return buf[0]! % bound;
  }
}

/**
 * Shuffles `items` in place with Fisher-Yates and unbiased random indices; every permutation is
 * equally likely. Random words are drawn in bulk.
 * @returns `items`
 */
export function shuffle<T>(items: T[]): T[] {
  const n = items.length;
  if (n < 2) return items;
  const words = new Uint32Array(Math.min(n, 16_384));
  let w = words.length;
  const next = (): number => {
    if (w === words.length) {
      fillRandom(words);
      w = 0;
    }
    return words[w++]!;
  };
  for (let i = n - 1; i > 0; i--) {
    const bound = i + 1;
    const limit = 2 ** 32 - (2 ** 32 % bound);
    let r = next();
    while (r >= limit) r = next();
    const j = r % bound;
    const tmp = items[i]!;
    items[i] = items[j]!;
    items[j] = tmp;
  }
  return items;
}
