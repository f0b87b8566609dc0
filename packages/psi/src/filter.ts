/**
 * The compressed sets a server publishes in its setup: a Golomb-compressed set (GCS) by default,
 * or a Bloom filter, both built from the PRF tags of the server's items and sized from the false
 * positive rate.
 *
 * GCS (Putze, Sanders, Singler, "Cache-, hash- and space-efficient Bloom filters", 2007; as in
 * BIP 158): each tag becomes a value `v = b * M + l` with a bucket `b = u1 mod n` and a remainder
 * `l = u2 mod M`, where u1 and u2 are two independent 53-bit words of the tag; the sorted values
 * are delta-coded with a Golomb code of divisor g = 2M/3 (unary quotient, truncated-binary
 * remainder). The gaps are close to geometric with mean M, for which the best divisor is about
 * M ln 2 = 0.69 M; 2/3 keeps the arithmetic exact and costs about log2(M) + 1.47 bits per element
 * (g = M/2 would cost 1.54). Reduction modulo n and M is exact on doubles, so a remainder value
 * has at most ceil(2^53 / M) preimages among the 2^53 words and a bucket at most ceil(2^53 / n):
 * a query that is not in the set matches some stored value with probability at most
 * (1 + n / 2^53) ceil(2^53 / M) / 2^53, the bound `gcsRange` (setup.ts) sizes M by. Values are
 * kept as (bucket, remainder) pairs so that every quantity stays an exact double (M <= 2^51, a
 * multiple of 3: sums stay below 3M < 2^53).
 *
 * Bloom filter (Bloom 1970): m bits and k probes. The k probe positions of a tag are independent
 * and uniform: 48-bit words of SHA-512("unseen-psi-v1-bloom" || tag || counter), each reduced
 * modulo m by rejection (a word at or above the largest multiple of m below 2^48 is skipped), so
 * a query that is not in the set hits only with probability (X/m)^k for a filter with X bits set.
 * (Double hashing, Kirsch and Mitzenmacher 2006, is not used: a query that shares a stored
 * element's first position and step hits every probe, a floor of about n/m^2 per query.) The
 * geometry starts from m = -n ln p / (ln 2)^2, k = round(m/n ln 2), with a margin for the spread
 * of X, and the server checks the built filter: it grows m until (X/m)^k <= p, so the stated
 * rate is a bound for the filter it publishes, not only on average.
 * @module
 */
import { UnseenError, utf8ToBytes } from '@unseen/core';
import { TAG_BYTES } from './group.js';
import { sha512 } from './sha.js';

/** Largest per-query range M of a GCS: keeps every value of the code an exact double. */
export const MAX_GCS_RANGE = 2 ** 51;

/** 53 bits of a tag starting at byte `at`, as an integer in [0, 2^53). */
function u53(tags: Uint8Array, at: number): number {
  const hi = ((tags[at]! & 0x1f) << 16) | (tags[at + 1]! << 8) | tags[at + 2]!; // 21 bits
  const lo =
    ((tags[at + 3]! << 24) | (tags[at + 4]! << 16) | (tags[at + 5]! << 8) | tags[at + 6]!) >>> 0;
  return hi * 2 ** 32 + lo;
}

/**
 * The (bucket, remainder) of tag `i` for a GCS with `n` buckets and range `m`: two independent
 * 53-bit words of the tag reduced modulo n and m (exact: `%` on doubles below 2^53 is exact).
 */
export function gcsValue(tags: Uint8Array, i: number, n: number, m: number): [number, number] {
  const at = i * TAG_BYTES;
  return [u53(tags, at) % n, u53(tags, at + 8) % m];
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

/** Largest number of Bloom probes (the setup stores k in a byte and refuses more). */
export const MAX_BLOOM_PROBES = 64;

/**
 * Bloom filter geometry for `n` elements at per-query false-positive rate `p`: the smallest m
 * (in steps of 0.05 %) whose expected fill plus four standard deviations still gives
 * (fill)^k <= p, with k = round(m/n ln 2) capped at 64. The build then checks the actual fill.
 */
export function bloomGeometry(n: number, p: number): { bits: number; probes: number } {
  if (n === 0) return { bits: 8, probes: 1 };
  let bits = Math.max(8, Math.ceil((-n * Math.log(p)) / Math.LN2 ** 2));
  for (;;) {
    const probes = Math.min(MAX_BLOOM_PROBES, Math.max(1, Math.round((bits / n) * Math.LN2)));
    // occupancy of `bits` bins after probes * n uniform throws: mean and standard deviation
    const balls = probes * n;
    const empty = Math.exp(balls * Math.log1p(-1 / bits)); // (1 - 1/m)^(kn)
    const variance = bits * empty * (1 - (1 + balls / bits) * empty);
    const fill = 1 - empty + (4 * Math.sqrt(Math.max(variance, 0))) / bits;
    if (fill < 1 && probes * Math.log(fill) <= Math.log(p)) return { bits, probes };
    bits = Math.ceil(bits * 1.0005) + 1;
  }
}

const BLOOM_DST = utf8ToBytes('unseen-psi-v1-bloom');
/** Bytes of one probe word, and words per SHA-512 block. */
const WORD_BYTES = 6;
const WORDS_PER_BLOCK = 10;
/** SHA-512 input: DST | tag | u32 block counter (one buffer, reused: JavaScript is single-threaded). */
const probeInput = new Uint8Array(BLOOM_DST.length + TAG_BYTES + 4);
probeInput.set(BLOOM_DST);
const probeView = new DataView(probeInput.buffer);

/**
 * Visits the `probes` positions of tag `i` in a filter of `bits` bits, in order, until `visit`
 * returns false: independent uniform positions from SHA-512(DST || tag || counter), 48-bit words
 * reduced modulo `bits` by rejection.
 */
function bloomPositions(
  tags: Uint8Array,
  i: number,
  bits: number,
  probes: number,
  visit: (pos: number) => boolean,
): boolean {
  const at = BLOOM_DST.length;
  probeInput.set(tags.subarray(i * TAG_BYTES, (i + 1) * TAG_BYTES), at);
  const limit = bits * Math.floor(2 ** 48 / bits); // words at or above it are skipped
  let done = 0;
  for (let block = 0; done < probes; block++) {
    probeView.setUint32(at + TAG_BYTES, block);
    const h = sha512(probeInput);
    for (let w = 0; w < WORDS_PER_BLOCK && done < probes; w++) {
      const o = w * WORD_BYTES;
      const word =
        ((h[o]! << 8) | h[o + 1]!) * 2 ** 32 +
        (((h[o + 2]! << 24) | (h[o + 3]! << 16) | (h[o + 4]! << 8) | h[o + 5]!) >>> 0);
      if (word >= limit) continue;
      if (!visit(word % bits)) return false;
      done++;
    }
  }
  return true;
}

/** Builds a Bloom filter of the given geometry over the tags. */
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

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let v = b; v > 0; v >>= 1) c += v & 1;
  return c;
});

/**
 * The false-positive rate of a built filter for a query that is not in it: (X/m)^k with X the
 * number of set bits (exact for independent uniform probes).
 */
export function bloomRate(filter: Uint8Array, bits: number, probes: number): number {
  let set = 0;
  for (const b of filter) set += POPCOUNT[b]!;
  return (set / bits) ** probes;
}

/**
 * Sizes and builds a Bloom filter whose actual false-positive rate is at most `p`: starts from
 * {@link bloomGeometry} and grows the filter by 1 % until the built filter meets `p` (its fill
 * concentrates, so a second build is rare).
 */
export function bloomFilter(
  tags: Uint8Array,
  p: number,
): { bits: number; probes: number; filter: Uint8Array } {
  const n = tags.length / TAG_BYTES;
  let { bits, probes } = bloomGeometry(n, p);
  for (;;) {
    const filter = buildBloom(tags, bits, probes);
    if (n === 0 || bloomRate(filter, bits, probes) <= p) return { bits, probes, filter };
    bits = Math.ceil(bits * 1.01) + 1;
    probes = Math.min(MAX_BLOOM_PROBES, Math.max(1, Math.round((bits / n) * Math.LN2)));
  }
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
