/**
 * The compressed sets a server publishes in its setup: a Golomb-compressed set (GCS) by default,
 * or a Bloom filter, both built from the PRF tags of the server's items and sized from the false
 * positive rate.
 *
 * GCS (Putze, Sanders, Singler, "Cache-, hash- and space-efficient Bloom filters", 2007; as in
 * BIP 158): each tag becomes a value `v = b * M + l` with a bucket `b` uniform in [0, n) and a
 * remainder `l` uniform in [0, M); the sorted values are delta-coded with a Golomb code of divisor
 * g = 2M/3 (unary quotient, truncated-binary remainder). The gaps are close to geometric with
 * mean M, for which the best divisor is about M ln 2 = 0.69 M; 2/3 keeps the arithmetic exact and
 * costs about log2(M) + 1.47 bits per element (g = M/2 would cost 1.54). A query matches a stored
 * value with probability about 1/M. Values are kept as (bucket, remainder) pairs so that every
 * quantity stays an exact double (M <= 2^51, a multiple of 3: sums stay below 3M < 2^53).
 *
 * Bloom filter (Bloom 1970; Kirsch and Mitzenmacher 2006 double hashing): m bits and k probes
 * for a per-query false-positive rate p: m = -n ln p / (ln 2)^2, k = round(m/n ln 2).
 * @module
 */
import { UnseenError } from '@unseen/core';
import { TAG_BYTES } from './group.js';

/** Largest per-query range M of a GCS: keeps every value of the code an exact double. */
export const MAX_GCS_RANGE = 2 ** 51;

/** 53 bits of a tag starting at byte `at`, as an integer in [0, 2^53). */
function u53(tags: Uint8Array, at: number): number {
  const hi = ((tags[at]! & 0x1f) << 16) | (tags[at + 1]! << 8) | tags[at + 2]!; // 21 bits
  const lo =
    ((tags[at + 3]! << 24) | (tags[at + 4]! << 16) | (tags[at + 5]! << 8) | tags[at + 6]!) >>> 0;
  return hi * 2 ** 32 + lo;
}

/** floor(u / 2^53 * range), clamped below `range` (exact enough, and deterministic). */
function scale(u: number, range: number): number {
  const v = Math.floor((u / 2 ** 53) * range);
  return v < range ? v : range - 1;
}

/** The (bucket, remainder) of tag `i` for a GCS with `n` buckets and range `m`. */
export function gcsValue(tags: Uint8Array, i: number, n: number, m: number): [number, number] {
  const at = i * TAG_BYTES;
  return [scale(u53(tags, at), n), scale(u53(tags, at + 8), m)];
}

class BitWriter {
  #buf = new Uint8Array(1024);
  #len = 0;
  #acc = 0; // pending bits, fewer than 8 after each write
  #accBits = 0;

  #push(byte: number): void {
    if (this.#len === this.#buf.length) {
      const next = new Uint8Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#len++] = byte;
  }

  /** Appends the low `bits` (<= 45) bits of `value`, most significant first. */
  write(value: number, bits: number): void {
    if (bits > 24) {
      const low = bits - 24;
      this.write(Math.floor(value / 2 ** low), 24);
      this.write(value % 2 ** low, low);
      return;
    }
    this.#acc = this.#acc * 2 ** bits + value;
    this.#accBits += bits;
    while (this.#accBits >= 8) {
      this.#accBits -= 8;
      const byte = Math.floor(this.#acc / 2 ** this.#accBits);
      this.#push(byte);
      this.#acc -= byte * 2 ** this.#accBits;
    }
  }

  /** q ones then a zero. */
  unary(q: number): void {
    let left = q;
    while (left >= 24) {
      this.write(0xffffff, 24);
      left -= 24;
    }
    this.write((2 ** left - 1) * 2, left + 1);
  }

  finish(): Uint8Array {
    if (this.#accBits > 0) this.write(0, 8 - this.#accBits);
    return this.#buf.slice(0, this.#len);
  }
}

class BitReader {
  readonly #buf: Uint8Array;
  #pos = 0; // bit position

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  get bitsLeft(): number {
    return this.#buf.length * 8 - this.#pos;
  }

  #bit(): number {
    const p = this.#pos++;
    return (this.#buf[p >>> 3]! >>> (7 - (p & 7))) & 1;
  }

  read(bits: number): number {
    if (bits > this.bitsLeft) throw truncated();
    let v = 0;
    let left = bits;
    // Leading partial byte, whole bytes, trailing partial byte.
    while (left > 0 && (this.#pos & 7) !== 0) {
      v = v * 2 + this.#bit();
      left--;
    }
    while (left >= 8) {
      v = v * 256 + this.#buf[this.#pos >>> 3]!;
      this.#pos += 8;
      left -= 8;
    }
    while (left > 0) {
      v = v * 2 + this.#bit();
      left--;
    }
    return v;
  }

  unary(limit: number): number {
    let q = 0;
    for (;;) {
      if (this.#pos >= this.#buf.length * 8) throw truncated();
      if (this.#bit() === 0) return q;
      if (++q > limit) {
        throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: Golomb quotient out of range');
      }
    }
  }
}

function truncated(): UnseenError {
  return new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: compressed set is truncated');
}

/** Truncated-binary parameters of a divisor g: k = floor(log2 g), u = 2^(k+1) - g. */
function truncatedBinary(g: number): { k: number; u: number } {
  let k = 0;
  while (2 ** (k + 1) <= g) k++;
  return { k, u: 2 ** (k + 1) - g };
}

/** A decoded (or freshly built) GCS: sorted values grouped by bucket. */
export interface Gcs {
  /** Buckets n (the number of elements it was built for). */
  n: number;
  /** Range of the remainders. */
  m: number;
  /** start[b] .. start[b+1]: positions of bucket b in `remainders` (length n + 1). */
  start: Uint32Array;
  /** Remainders in sorted order. */
  remainders: Float64Array;
}

/**
 * Sorts the tags into GCS order.
 * @returns the GCS and `order`: order[j] = index of the tag at sorted position j
 */
export function buildGcs(tags: Uint8Array, n: number, m: number): { gcs: Gcs; order: Uint32Array } {
  const count = tags.length / TAG_BYTES;
  const buckets = new Uint32Array(count);
  const rems = new Float64Array(count);
  const start = new Uint32Array(n + 1);
  for (let i = 0; i < count; i++) {
    const [b, l] = gcsValue(tags, i, n, m);
    buckets[i] = b;
    rems[i] = l;
    start[b + 1]!++;
  }
  for (let b = 0; b < n; b++) start[b + 1]! += start[b]!;
  const fill = start.slice(0, n);
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[fill[buckets[i]!]!++] = i;
  const remainders = new Float64Array(count);
  for (let b = 0; b < n; b++) {
    // Insertion sort inside a bucket: buckets hold about one element.
    for (let j = start[b]!; j < start[b + 1]!; j++) {
      const idx = order[j]!;
      const l = rems[idx]!;
      let k = j;
      while (k > start[b]! && remainders[k - 1]! > l) {
        remainders[k] = remainders[k - 1]!;
        order[k] = order[k - 1]!;
        k--;
      }
      remainders[k] = l;
      order[k] = idx;
    }
  }
  return { gcs: { n, m, start, remainders }, order };
}

/** Golomb-codes a GCS (divisor g = 2m/3; m must be a multiple of 3). */
export function encodeGcs(gcs: Gcs): Uint8Array {
  const { n, m, start, remainders } = gcs;
  const h = m / 3;
  const g = 2 * h;
  const { k, u } = truncatedBinary(g);
  const w = new BitWriter();
  let pb = 0;
  let pl = 0;
  for (let b = 0; b < n; b++) {
    for (let j = start[b]!; j < start[b + 1]!; j++) {
      const l = remainders[j]!;
      // delta = (b - pb) m + (l - pl) = q g + r. With b - pb = 2a + c (c in {0, 1}) and m = 3h,
      // g = 2h: (2a + c) 3h = 3a g + 3h c, so q = 3a + floor((3h c + dl) / g).
      const db = b - pb;
      const a = Math.floor(db / 2);
      const t = (db - 2 * a) * 3 * h + (l - pl); // in (-3h, 6h)
      const f = Math.floor(t / g); // in [-2, 2]
      const q = 3 * a + f;
      const r = t - f * g;
      w.unary(q);
      if (r < u) w.write(r, k);
      else w.write(r + u, k + 1);
      pb = b;
      pl = l;
    }
  }
  return w.finish();
}

/**
 * Decodes `count` Golomb-coded values for a GCS with `n` buckets and range `m`.
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (truncated, out of range, trailing bits set)
 */
export function decodeGcs(bytes: Uint8Array, count: number, n: number, m: number): Gcs {
  const g = (2 * m) / 3;
  const { k, u } = truncatedBinary(g);
  const r = new BitReader(bytes);
  const start = new Uint32Array(n + 1);
  const remainders = new Float64Array(count);
  let b = 0;
  let l = 0;
  const maxQ = 2 * n + 3;
  for (let j = 0; j < count; j++) {
    const q = r.unary(maxQ);
    let rem = k === 0 ? 0 : r.read(k);
    if (rem >= u) rem = rem * 2 + r.read(1) - u;
    if (rem >= g)
      throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: Golomb remainder out of range');
    // value += q g + rem, with q = 3a + c: 3a g = 2a m, so add 2a buckets, then c g + rem (< 2m)
    const a = Math.floor(q / 3);
    b += 2 * a;
    l += (q - 3 * a) * g + rem;
    while (l >= m) {
      l -= m;
      b++;
    }
    if (b >= n) throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: GCS value out of range');
    remainders[j] = l;
    start[b + 1]!++;
  }
  if (r.bitsLeft >= 8 || (r.bitsLeft > 0 && r.read(r.bitsLeft) !== 0)) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'setup: trailing bits after the compressed set');
  }
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  return { n, m, start, remainders };
}

/** Positions in sorted order of the values equal to tag `i`'s (usually none, or one). */
export function gcsLookup(gcs: Gcs, tags: Uint8Array, i: number): number[] {
  if (gcs.n === 0) return [];
  const [b, l] = gcsValue(tags, i, gcs.n, gcs.m);
  const found: number[] = [];
  for (let j = gcs.start[b]!; j < gcs.start[b + 1]!; j++)
    if (gcs.remainders[j] === l) found.push(j);
  return found;
}

/** Bloom filter geometry for `n` elements at per-query false-positive rate `p`. */
export function bloomGeometry(n: number, p: number): { bits: number; probes: number } {
  if (n === 0) return { bits: 8, probes: 1 };
  const bits = Math.max(8, Math.ceil((-n * Math.log(p)) / Math.LN2 ** 2));
  const probes = Math.min(64, Math.max(1, Math.round((bits / n) * Math.LN2)));
  return { bits, probes };
}

function bloomPositions(
  tags: Uint8Array,
  i: number,
  bits: number,
  probes: number,
  visit: (pos: number) => boolean,
): boolean {
  const at = i * TAG_BYTES;
  let pos = u53(tags, at) % bits;
  const step = (u53(tags, at + 8) % bits) | 1;
  for (let j = 0; j < probes; j++) {
    if (!visit(pos)) return false;
    pos += step % bits;
    if (pos >= bits) pos -= bits;
  }
  return true;
}

/** Builds a Bloom filter over the tags. */
export function buildBloom(tags: Uint8Array, bits: number, probes: number): Uint8Array {
  const filter = new Uint8Array(Math.ceil(bits / 8));
  const count = tags.length / TAG_BYTES;
  for (let i = 0; i < count; i++) {
    bloomPositions(tags, i, bits, probes, (pos) => {
      filter[pos >>> 3]! |= 1 << (pos & 7);
      return true;
    });
  }
  return filter;
}

/** True when every probe of tag `i` hits a set bit. */
export function bloomHas(
  filter: Uint8Array,
  bits: number,
  probes: number,
  tags: Uint8Array,
  i: number,
): boolean {
  return bloomPositions(
    tags,
    i,
    bits,
    probes,
    (pos) => ((filter[pos >>> 3]! >>> (pos & 7)) & 1) === 1,
  );
}
