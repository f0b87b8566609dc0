/**
 * The compact wire form of CKKS/BFV contributions and sums, and the aggregator's arithmetic on it.
 *
 * ```
 * version u8 | type u8 (2 contribution, 3 sum) | params hash (32) | count u32 | id (16) | 0 u16 |
 * body: for each data prime q_j, the coefficients of every ciphertext (c0 then c1, N each) as
 *       planes: the low 32 bits (u32 little-endian), then the high bits (u16 and/or u8 planes,
 *       or a second u32 plane), so a coefficient of a b-bit prime costs ceil(b / 8) bytes.
 * ```
 *
 * SEAL's own serialization spends 8 bytes on every coefficient; general-purpose compression
 * (zstd, zlib) cannot find the unused high bits of uniformly random words well and grows 60-bit
 * words (measured: 131,185 -> 131,200 bytes). Byte planes keep the saving exact and let the
 * aggregator read coefficients with aligned typed-array loads.
 *
 * Ciphertext addition at one level is coefficient-wise addition modulo each q_j, so the
 * aggregator adds planes into float64 accumulators (exact below 2^53: the low words of 2^20
 * contributions sum below 2^52) and reduces modulo q_j once, when the sum is read.
 * @module
 */
import {
  ByteReader,
  ByteWriter,
  ensureWellFormed,
  equalBytes,
  randomBytes,
  UnseenError,
} from '@unseen/core';
import {
  CONTRIBUTION_HEADER_BYTES,
  TYPE_CONTRIBUTION,
  TYPE_SUM,
  VECTOR_VERSION,
  type VectorParams,
} from './params.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const TWO32 = 4294967296;

/** Plane offsets inside a body, for one data prime. */
export interface PrimePlanes {
  q: bigint;
  /** Bytes of the high part: 1..4. */
  highBytes: number;
  lo: number;
  /** Offsets of the u32 / u16 / u8 high planes, -1 when absent. */
  hi32: number;
  hi16: number;
  hi8: number;
}

/** Where each plane of each data prime starts in a body of `count` coefficients per prime. */
export function planeLayout(params: VectorParams): {
  count: number;
  primes: PrimePlanes[];
  bytes: number;
} {
  const count = params.ciphertexts * 2 * params.polyModulusDegree;
  let off = 0;
  const primes: PrimePlanes[] = [];
  for (let j = 0; j < params.levelPrimes; j++) {
    const highBytes = params.primeBytes[j]! - 4;
    const p: PrimePlanes = {
      q: params.coeffModulus[j]!,
      highBytes,
      lo: off,
      hi32: -1,
      hi16: -1,
      hi8: -1,
    };
    off += 4 * count;
    if (highBytes === 4) {
      p.hi32 = off;
      off += 4 * count;
    } else {
      if (highBytes >= 2) {
        p.hi16 = off;
        off += 2 * count;
      }
      if (highBytes % 2 === 1) {
        p.hi8 = off;
        off += count;
      }
    }
    primes.push(p);
  }
  return { count, primes, bytes: off };
}

/** Typed views of one prime's planes in a body (body must be 4-byte aligned). */
export function views(body: Uint8Array, p: PrimePlanes, count: number) {
  const base = body.byteOffset;
  return {
    lo: new Uint32Array(body.buffer, base + p.lo, count),
    hi32: p.hi32 >= 0 ? new Uint32Array(body.buffer, base + p.hi32, count) : undefined,
    hi16: p.hi16 >= 0 ? new Uint16Array(body.buffer, base + p.hi16, count) : undefined,
    hi8: p.hi8 >= 0 ? new Uint8Array(body.buffer, base + p.hi8, count) : undefined,
  };
}

/**
 * Writes SEAL ciphertext words (per ciphertext: 2 polys x levelPrimes x N coefficients as
 * (low, high) u32 pairs) into the planes of `body`.
 */
export function packWords(params: VectorParams, words: Uint32Array, body: Uint8Array): void {
  const { count, primes } = planeLayout(params);
  const n = params.polyModulusDegree;
  const levels = params.levelPrimes;
  const polys = count / n; // ciphertexts * 2
  for (let j = 0; j < levels; j++) {
    const v = views(body, primes[j]!, count);
    for (let poly = 0; poly < polys; poly++) {
      let src = 2 * (poly * levels + j) * n;
      const dst = poly * n;
      for (let i = 0; i < n; i++, src += 2) {
        const hi = words[src + 1]!;
        v.lo[dst + i] = words[src]!;
        if (v.hi32 !== undefined) v.hi32[dst + i] = hi;
        else {
          if (v.hi16 !== undefined) v.hi16[dst + i] = hi & 0xffff;
          if (v.hi8 !== undefined) v.hi8[dst + i] = v.hi16 !== undefined ? hi >>> 16 : hi;
        }
      }
    }
  }
}

/** The inverse of {@link packWords}. */
export function unpackWords(params: VectorParams, body: Uint8Array): Uint32Array {
  const { count, primes } = planeLayout(params);
  const n = params.polyModulusDegree;
  const levels = params.levelPrimes;
  const polys = count / n;
  const words = new Uint32Array(2 * count * levels);
  for (let j = 0; j < levels; j++) {
    const v = views(body, primes[j]!, count);
    for (let poly = 0; poly < polys; poly++) {
      let dst = 2 * (poly * levels + j) * n;
      const src = poly * n;
      for (let i = 0; i < n; i++, dst += 2) {
        words[dst] = v.lo[src + i]!;
        let hi = 0;
        if (v.hi32 !== undefined) hi = v.hi32[src + i]!;
        else {
          if (v.hi16 !== undefined) hi = v.hi16[src + i]!;
          if (v.hi8 !== undefined)
            hi += v.hi16 !== undefined ? v.hi8[src + i]! * 65536 : v.hi8[src + i]!;
        }
        words[dst + 1] = hi;
      }
    }
  }
  return words;
}

/** A decoded contribution or sum header with its (aligned) body. */
export interface ContributionMessage {
  type: typeof TYPE_CONTRIBUTION | typeof TYPE_SUM;
  count: number;
  id: Uint8Array;
  body: Uint8Array;
}

/** Frames a body as a contribution (count 1) or a sum. */
export function encodeContributionHeader(
  params: VectorParams,
  type: typeof TYPE_CONTRIBUTION | typeof TYPE_SUM,
  count: number,
  out: Uint8Array,
): void {
  const header = new ByteWriter(CONTRIBUTION_HEADER_BYTES)
    .u8(VECTOR_VERSION)
    .u8(type)
    .bytes(params.hash)
    .u32(count)
    .bytes(randomBytes(16))
    .u16(0)
    .finish();
  out.set(header, 0);
}

/**
 * Checks a contribution or sum against `params`: version, type, parameter hash, count, exact
 * size; returns the body as a 4-byte-aligned view (copied only when the input is misaligned).
 * @throws UnseenError `ERR_MALFORMED_MESSAGE` (truncated, extended, bad fields),
 * `ERR_UNSUPPORTED_VERSION`, `ERR_PARAMETER_MISMATCH` (other parameters or key),
 * `ERR_UNEXPECTED_MESSAGE` (a sum where a contribution was expected, or the reverse)
 */
export function decodeContribution(
  params: VectorParams,
  bytes: Uint8Array,
  expect: typeof TYPE_CONTRIBUTION | typeof TYPE_SUM,
): ContributionMessage {
  if (!(bytes instanceof Uint8Array)) {
    throw new UnseenError('ERR_MALFORMED_MESSAGE', 'contribution must be a Uint8Array');
  }
  const r = new ByteReader(bytes, 'contribution');
  const version = r.u8('version');
  if (version !== VECTOR_VERSION) {
    throw new UnseenError('ERR_UNSUPPORTED_VERSION', `contribution version ${version}`);
  }
  const type = r.u8('type');
  ensureWellFormed(type === TYPE_CONTRIBUTION || type === TYPE_SUM, `unknown message type ${type}`);
  const hash = r.bytes(32, 'parameter hash');
  if (!equalBytes(hash, params.hash)) {
    throw new UnseenError(
      'ERR_PARAMETER_MISMATCH',
      'contribution was made under other parameters or another public key',
    );
  }
  if (type !== expect) {
    throw new UnseenError(
      'ERR_UNEXPECTED_MESSAGE',
      type === TYPE_SUM
        ? 'expected a contribution, got an aggregate sum'
        : 'expected an aggregate sum, got a contribution',
    );
  }
  const count = r.u32('count');
  ensureWellFormed(
    type === TYPE_CONTRIBUTION ? count === 1 : count >= 1 && count <= params.maxContributions,
    type === TYPE_CONTRIBUTION ? 'a contribution counts 1' : `sum count ${count} out of range`,
  );
  const id = r.bytes(16, 'id');
  ensureWellFormed(r.u16('padding') === 0, 'contribution: non-zero padding');
  const expected = params.contributionBytes - CONTRIBUTION_HEADER_BYTES;
  if (r.remaining !== expected) {
    throw new UnseenError(
      'ERR_MALFORMED_MESSAGE',
      `contribution body is ${r.remaining} bytes; these parameters need ${expected}`,
      { details: { length: r.remaining, expected } },
    );
  }
  let body = r.bytes(expected, 'body');
  if (body.byteOffset % 4 !== 0 || !LITTLE_ENDIAN) {
    if (!LITTLE_ENDIAN) {
      throw new UnseenError('ERR_UNSUPPORTED', 'big-endian platforms are not supported');
    }
    body = new Uint8Array(body); // a copy (Buffer.slice would be a view)
  }
  return { type, count, id, body };
}

/**
 * Lazy sums of contributions, per data prime and coefficient. A coefficient x < q < 2^(8w) (w
 * bytes on the wire) is split as x = a * 2^s + b with s = min(30, 4w), so a, b < 2^s; a and b are
 * added into 32-bit partial sums, which hold `batch` = floor((2^32 - 1) / (2^s - 1)) additions
 * without wrapping (16 for 56-bit primes), and are then flushed into float64 totals (exact below
 * 2^53, so up to 2^20 contributions). The loops use int32 arithmetic only: V8 compiles them to
 * plain integer instructions, and the add is bound by memory.
 *
 * Every coefficient is checked against q in a first pass that reads only the top plane (and the
 * rest when the top equals q's), so a rejected contribution changes nothing.
 */
export class CoefficientSums {
  readonly #layout: ReturnType<typeof planeLayout>;
  readonly #split: number[];
  readonly #batch: number;
  readonly #partA: Int32Array[];
  readonly #partB: Int32Array[];
  readonly #totalA: Float64Array[];
  readonly #totalB: Float64Array[];
  /** Adds in the partial sums since the last flush. */
  #pending = 0;
  #count = 0;

  constructor(params: VectorParams) {
    this.#layout = planeLayout(params);
    const count = this.#layout.count;
    this.#split = this.#layout.primes.map((p) => Math.min(30, 4 * (4 + p.highBytes)));
    this.#batch = Math.min(...this.#split.map((s) => Math.floor(4294967295 / (2 ** s - 1))));
    this.#partA = this.#layout.primes.map(() => new Int32Array(count));
    this.#partB = this.#layout.primes.map(() => new Int32Array(count));
    this.#totalA = this.#layout.primes.map(() => new Float64Array(count));
    this.#totalB = this.#layout.primes.map(() => new Float64Array(count));
  }

  get count(): number {
    return this.#count;
  }

  #flush(): void {
    for (let j = 0; j < this.#partA.length; j++) {
      flushInto(this.#partA[j]!, this.#totalA[j]!);
      flushInto(this.#partB[j]!, this.#totalB[j]!);
    }
    this.#pending = 0;
  }

  /**
   * Checks that every coefficient of `body` is below its prime.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` naming the first bad coefficient
   */
  validate(body: Uint8Array): void {
    const { count, primes } = this.#layout;
    for (let j = 0; j < primes.length; j++) {
      const p = primes[j]!;
      const v = views(body, p, count);
      const qhi = Number(p.q >> 32n);
      const qlo = Number(p.q & 0xffffffffn);
      const bad =
        v.hi32 !== undefined
          ? firstUnreduced(v.lo, v.hi32, undefined, qhi, qlo, count)
          : v.hi16 !== undefined
            ? firstUnreduced(v.lo, v.hi16, v.hi8, qhi, qlo, count)
            : firstUnreduced(v.lo, v.hi8!, undefined, qhi, qlo, count);
      if (bad >= 0) {
        throw new UnseenError(
          'ERR_MALFORMED_MESSAGE',
          `contribution coefficient ${bad} of prime ${j} is not reduced modulo q`,
          { details: { prime: j, index: bad } },
        );
      }
    }
  }

  /** {@link validate}, then {@link add}: a refused body changes nothing. */
  accept(body: Uint8Array, weight: number): void {
    this.validate(body);
    this.add(body, weight);
  }

  /** Adds a body that {@link validate} accepted, counting `weight` contributions. */
  add(body: Uint8Array, weight: number): void {
    const { count, primes } = this.#layout;
    if (this.#pending >= this.#batch) this.#flush();
    for (let j = 0; j < primes.length; j++) {
      const p = primes[j]!;
      const base = body.byteOffset;
      const lo = new Int32Array(body.buffer, base + p.lo, count);
      const s = this.#split[j]!;
      const pa = this.#partA[j]!;
      const pb = this.#partB[j]!;
      if (p.hi32 >= 0)
        addSplit(lo, new Int32Array(body.buffer, base + p.hi32, count), pa, pb, s, count);
      else if (p.hi16 >= 0 && p.hi8 >= 0) {
        addSplit24(
          lo,
          new Uint16Array(body.buffer, base + p.hi16, count),
          new Uint8Array(body.buffer, base + p.hi8, count),
          pa,
          pb,
          s,
          count,
        );
      } else if (p.hi16 >= 0)
        addSplit(lo, new Uint16Array(body.buffer, base + p.hi16, count), pa, pb, s, count);
      else addSplit(lo, new Uint8Array(body.buffer, base + p.hi8, count), pa, pb, s, count);
    }
    this.#pending++;
    this.#count += weight;
  }

  /** Writes the sums, reduced modulo each q_j, as planes into `body`. */
  write(body: Uint8Array): void {
    this.#flush();
    const { count, primes } = this.#layout;
    for (let j = 0; j < primes.length; j++) {
      const p = primes[j]!;
      const v = views(body, p, count);
      const s = this.#split[j]!;
      // a * 2^s + b as H * 2^32 + L: a = aH * 2^(32-s) + aL, so L = aL * 2^s + b, H = aH.
      const ta = this.#totalA[j]!;
      const tb = this.#totalB[j]!;
      const hiSums = new Float64Array(count);
      const loSums = new Float64Array(count);
      const m = 2 ** (32 - s);
      const ps = 2 ** s;
      for (let i = 0; i < count; i++) {
        const a = ta[i]!;
        const aH = Math.floor(a / m);
        hiSums[i] = aH;
        loSums[i] = (a - aH * m) * ps + tb[i]!;
      }
      reduceSums(hiSums, loSums, p.q, (i, lo, hi) => {
        v.lo[i] = lo;
        if (v.hi32 !== undefined) v.hi32[i] = hi;
        else {
          if (v.hi16 !== undefined) v.hi16[i] = hi & 0xffff;
          if (v.hi8 !== undefined) v.hi8[i] = v.hi16 !== undefined ? hi >>> 16 : hi;
        }
      });
    }
  }
}

function flushInto(part: Int32Array, total: Float64Array): void {
  for (let i = 0; i < part.length; i++) total[i]! += part[i]! >>> 0;
  part.fill(0);
}

/**
 * Index of the first coefficient hi * 2^32 + lo >= q, or -1. `hi` is the high plane, `top` the
 * byte above a u16 plane (7-byte coefficients); only coefficients whose top part reaches q's are
 * looked at closely.
 */
function firstUnreduced(
  lo: Uint32Array,
  hi: Uint32Array | Uint16Array | Uint8Array,
  top: Uint8Array | undefined,
  qhi: number,
  qlo: number,
  n: number,
): number {
  const plane = top ?? hi;
  const width = plane instanceof Uint8Array ? 8 : plane instanceof Uint16Array ? 16 : 32;
  const planeQ = top !== undefined ? qhi >>> 16 : qhi;
  const full = width === 32 ? -1 : 2 ** width - 1;
  const at = (i: number) => (top !== undefined ? hi[i]! + top[i]! * 65536 : hi[i]!);
  const check = (i: number) => {
    const h = at(i);
    return h > qhi || (h === qhi && lo[i]! >= qlo);
  };
  if (planeQ === full && width < 32 && plane.byteOffset % 4 === 0 && (n * width) % 32 === 0) {
    // SEAL's primes of b bits lie just below 2^b, so q's top byte (or 16 bits) is all ones: a
    // coefficient can reach q only where the top plane is all ones. Find those 4 bytes (or 2
    // halves) at a time: ((w & 0x7f..) + 0x01..) & w & 0x80.. is non-zero iff a lane is all ones.
    const words = new Uint32Array(plane.buffer, plane.byteOffset, (n * width) / 32);
    const low = width === 8 ? 0x7f7f7f7f : 0x7fff7fff;
    const one = width === 8 ? 0x01010101 : 0x00010001;
    const high = width === 8 ? 0x80808080 | 0 : 0x80008000 | 0;
    const lanes = 32 / width;
    for (let k = 0; k < words.length; k++) {
      const w = words[k]! | 0;
      if ((((w & low) + one) & w & high) !== 0) {
        for (let i = k * lanes; i < (k + 1) * lanes; i++) if (check(i)) return i;
      }
    }
    return -1;
  }
  for (let i = 0; i < n; i++) {
    const t = plane[i]!;
    if (t >= planeQ && check(i)) return i;
  }
  return -1;
}

// One loop per plane layout, so that each compiles to straight int32 code. x = h * 2^32 + l;
// a = x >> s (the low 32 - s bits of h... shifted in above l's top bits), b = x mod 2^s.
function addSplit24(
  lo: Int32Array,
  h16: Uint16Array,
  h8: Uint8Array,
  pa: Int32Array,
  pb: Int32Array,
  s: number,
  n: number,
): void {
  const mb = (1 << s) - 1;
  const ma = (1 << (32 - s)) - 1;
  const sh = 32 - s;
  for (let i = 0; i < n; i++) {
    const l = lo[i]!;
    pa[i] = (pa[i]! + (((l >> s) & ma) | ((h16[i]! | (h8[i]! << 16)) << sh))) | 0;
    pb[i] = (pb[i]! + (l & mb)) | 0;
  }
}

/** As {@link addSplit24} for a single high plane (5, 6 or 8-byte coefficients). */
function addSplit(
  lo: Int32Array,
  hi: Uint8Array | Uint16Array | Int32Array,
  pa: Int32Array,
  pb: Int32Array,
  s: number,
  n: number,
): void {
  const mb = (1 << s) - 1;
  const ma = (1 << (32 - s)) - 1;
  const sh = 32 - s;
  for (let i = 0; i < n; i++) {
    const l = lo[i]!;
    pa[i] = (pa[i]! + (((l >> s) & ma) | (hi[i]! << sh))) | 0;
    pb[i] = (pb[i]! + (l & mb)) | 0;
  }
}

/**
 * For each i, (hi[i] * 2^32 + lo[i]) mod q as (low u32, high), for hi < 2^48, lo < 2^53 and
 * 2^32 < q < 2^61; all in float64 arithmetic, every product exact (below 2^53).
 *
 * x = H * 2^32 + L after carrying L below 2^32; t = floor(x / q) estimated in floating point is
 * off by at most one, so R = x - t*q lies in [-q, 2q). t*q is computed modulo 2^64 from 24-bit
 * pieces of t and 16-bit pieces of q's low word; R then fits a signed (high, low) pair and one
 * conditional addition or subtraction of q makes it canonical.
 * @internal
 */
export function reduceSums(
  hiSums: Float64Array,
  loSums: Float64Array,
  q: bigint,
  put: (i: number, lo: number, hi: number) => void,
): void {
  const qh = Number(q >> 32n);
  const ql = Number(q & 0xffffffffn);
  const qm = Math.floor(ql / 65536);
  const qn = ql % 65536;
  const qf = Number(q);
  const T24 = 16777216;
  for (let i = 0; i < hiSums.length; i++) {
    let L = loSums[i]!;
    let H = hiSums[i]!;
    const carry = Math.floor(L / TWO32);
    L -= carry * TWO32;
    H += carry;
    const t = Math.floor((H * TWO32 + L) / qf);
    const t1 = Math.floor(t / T24);
    const t0 = t - t1 * T24;
    // t*q = t0*qn + t1*qn*2^24 + t0*qm*2^16 + t1*qm*2^40 + t0*qh*2^32 + t1*qh*2^56 (mod 2^64)
    const a = t0 * qn;
    const b = t1 * qn;
    const c = t0 * qm;
    const d = t1 * qm;
    const e = t0 * qh;
    const f = t1 * qh;
    let sLo = (a % TWO32) + (b % 256) * T24 + (c % 65536) * 65536;
    let sHi =
      Math.floor(a / TWO32) +
      Math.floor(b / 256) +
      Math.floor(c / 65536) +
      (d % T24) * 256 +
      (e % TWO32) +
      (f % 256) * T24;
    const sc = Math.floor(sLo / TWO32);
    sLo -= sc * TWO32;
    sHi = (sHi + sc) % TWO32;
    let rLo = L - sLo;
    let borrow = 0;
    if (rLo < 0) {
      rLo += TWO32;
      borrow = 1;
    }
    let rHi = ((H % TWO32) - sHi - borrow) % TWO32;
    if (rHi < 0) rHi += TWO32;
    if (rHi >= 2147483648) rHi -= TWO32; // signed: |R| < 2^62
    // Into [0, q).
    if (rHi < 0) {
      rLo += ql;
      rHi += qh;
      if (rLo >= TWO32) {
        rLo -= TWO32;
        rHi += 1;
      }
    } else if (rHi > qh || (rHi === qh && rLo >= ql)) {
      rLo -= ql;
      rHi -= qh;
      if (rLo < 0) {
        rLo += TWO32;
        rHi -= 1;
      }
    }
    put(i, rLo, rHi);
  }
}
