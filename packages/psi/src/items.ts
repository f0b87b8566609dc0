/**
 * Set elements as the protocol sees them: strings are their UTF-8 bytes (so a string and the
 * same bytes are one element), bytes are taken as they are, duplicates are removed keeping the
 * first occurrence, and the set is packed into one buffer with offsets for the workers.
 * Strings must be well formed: a lone surrogate would be replaced by U+FFFD when encoded, making
 * two different strings one element.
 * @module
 */
import { UnseenError, utf8ToBytes } from '@unseen/core';

/** A set element: a string (UTF-8, compared exactly) or bytes. */
export type Item = string | Uint8Array;

/** Elements packed back to back: element i is `data[offsets[i], offsets[i + 1])`. */
export interface Packed {
  data: Uint8Array;
  offsets: Uint32Array;
}

/** Most elements one party may hold (2^28; a 2^20 set is the tested scale). */
export const MAX_ITEMS = 2 ** 28;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A string key equal for equal bytes. Lone-surrogate-prefixed keys cannot equal a string item. */
function keyOf(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    let h = '\ud800';
    for (let i = 0; i < bytes.length; i++) h += HEX[bytes[i]!];
    return h;
  }
}

/** True when a string has no lone surrogate (so UTF-8 encoding is lossless). */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** The bytes of one element. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function itemBytes(item: unknown, index: number): Uint8Array {
  if (typeof item === 'string') {
    if (LONE_SURROGATE.test(item)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `items[${index}]: string has a lone surrogate`);
    }
    return utf8ToBytes(item);
  }
  if (item instanceof Uint8Array) return item;
  throw new UnseenError(
    'ERR_INVALID_ARGUMENT',
    `items[${index}]: expected a string or Uint8Array, got ${item === null ? 'null' : typeof item}`,
  );
}

/** A deduplicated set: the first occurrence of each element, its bytes, and where it came from. */
export interface ItemSet<T extends Item = Item> {
  items: T[];
  bytes: Uint8Array[];
  /** For each kept element, its index in the caller's array (to align labels or values). */
  source: number[];
  /** For each kept element, an equality key (equal bytes, equal keys). */
  keys: string[];
  /** For each element of the caller's array, the index of the kept element equal to it. */
  of: number[];
}

/**
 * Validates and deduplicates `items`.
 * @throws UnseenError `ERR_INVALID_ARGUMENT`
 */
export function toItemSet<T extends Item>(items: readonly T[], what = 'items'): ItemSet<T> {
  if (!Array.isArray(items)) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `${what}: expected an array of strings or Uint8Arrays`,
    );
  }
  if (items.length > MAX_ITEMS) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', `${what}: more than ${MAX_ITEMS} elements`);
  }
  const seen = new Map<string, number>();
  const set: ItemSet<T> = { items: [], bytes: [], source: [], keys: [], of: [] };
  for (let i = 0; i < items.length; i++) {
    const bytes = itemBytes(items[i], i);
    const key = keyOf(bytes);
    const kept = seen.get(key);
    if (kept !== undefined) {
      set.of.push(kept);
      continue;
    }
    seen.set(key, set.items.length);
    set.of.push(set.items.length);
    set.items.push(items[i]!);
    set.bytes.push(bytes);
    set.source.push(i);
    set.keys.push(key);
  }
  return set;
}

/** Packs elements `[from, to)` of `bytes` into one buffer with offsets. */
export function pack(bytes: readonly Uint8Array[], from = 0, to = bytes.length): Packed {
  let total = 0;
  for (let i = from; i < to; i++) total += bytes[i]!.length;
  const data = new Uint8Array(total);
  const offsets = new Uint32Array(to - from + 1);
  let at = 0;
  for (let i = from; i < to; i++) {
    offsets[i - from] = at;
    data.set(bytes[i]!, at);
    at += bytes[i]!.length;
  }
  offsets[to - from] = at;
  return { data, offsets };
}
