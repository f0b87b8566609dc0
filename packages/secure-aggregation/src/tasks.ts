/**
 * The heavy loops of secure aggregation as worker tasks (`@unseen/workers`): mask expansion over a
 * range of the vector, and X25519 agreement of one secret key with many public keys. `masks.ts`
 * cuts the work into chunks and spreads them over a pool; the same functions run inline for small
 * jobs. Nothing here keeps state between calls.
 * @module
 */
import {
  Prg,
  type RingBits,
  ringAddInto,
  ringSubInto,
  UnseenError,
  x25519Agree,
} from '@unseen/core';
import { defineTasks } from '@unseen/workers';

/** Words per PRG call: 64 KiB, so one seed's block and the accumulator stay in cache. */
const BLOCK_WORDS = 16_384;
/** The PRG emits 16-byte AES blocks: ranges start on a multiple of 4 words. */
export const WORDS_PER_AES_BLOCK = 4;

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The 128-bit big-endian counter block `block` (AES-CTR counter of the range's first block). */
function counterBlock(block: number): Uint8Array {
  const out = new Uint8Array(16);
  let v = block;
  for (let i = 15; i >= 8 && v > 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Masks are the PRG bytes read as little-endian words on every platform. */
function toLittleEndianWords(words: Uint32Array): void {
  if (LITTLE_ENDIAN) return;
  for (let i = 0; i < words.length; i++) {
    const x = words[i]!;
    words[i] = ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
  }
}

/**
 * `base + sum_j signs[j] * PRG(seed_j)` on words `[startWord, startWord + words)` of the
 * expanded masks, in Z_2^bits. The PRG of a seed is the AES-128-CTR stream of @unseen/core's
 * `Prg`, started at the counter block of `startWord`, so that chunks of one vector computed apart
 * equal the whole computed at once.
 * @param seeds the 16-byte seeds back to back
 * @param signs +1 or -1 per seed
 * @param base the input to add the masks to (consumed), or null for zero
 */
export async function maskRange(
  bits: RingBits,
  startWord: number,
  words: number,
  seeds: Uint8Array,
  signs: Int8Array,
  base: Uint32Array | null,
): Promise<Uint32Array> {
  if (startWord % WORDS_PER_AES_BLOCK !== 0 || (bits === 64 && words % 2 !== 0)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'maskRange: misaligned range');
  }
  if (seeds.length !== 16 * signs.length || (base !== null && base.length !== words)) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'maskRange: inconsistent arguments');
  }
  const out = base ?? new Uint32Array(words);
  const nonce = counterBlock(startWord / WORDS_PER_AES_BLOCK);
  const prgs: Prg[] = [];
  for (let j = 0; j < signs.length; j++) {
    prgs.push(await Prg.create(seeds.subarray(16 * j, 16 * j + 16), { nonce }));
  }
  const tmp = new Uint32Array(Math.min(BLOCK_WORDS, words));
  for (let off = 0; off < words; off += BLOCK_WORDS) {
    const n = Math.min(BLOCK_WORDS, words - off);
    const acc = out.subarray(off, off + n);
    const block = tmp.subarray(0, n);
    for (let j = 0; j < prgs.length; j++) {
      await prgs[j]!.fill(block);
      toLittleEndianWords(block);
      if (signs[j]! > 0) ringAddInto(bits, acc, block);
      else ringSubInto(bits, acc, block);
    }
  }
  tmp.fill(0);
  return out;
}

/** The task module of @unseen/secure-aggregation. */
export const secAggTasks = defineTasks('@unseen/secure-aggregation', import.meta.url, {
  maskRange,
  /** X25519 of one secret key with consecutive public keys (see `x25519Agree`). */
  agree(secretKey: Uint8Array, publicKeys: Uint8Array, firstIndex: number): Promise<Uint8Array> {
    return x25519Agree(secretKey, publicKeys, { firstIndex });
  },
});
