/**
 * The aggregator's coefficient sums in WebAssembly 128-bit SIMD (`sums.wat`): the same result as
 * {@link CoefficientSums} (tested against it and against SEAL's own addition), 5-8x faster.
 *
 * Adding contributions is adding every coefficient of every ciphertext modulo its prime, lazily:
 * each plane of the wire form (the low 32 bits, then 8-, 16- or 32-bit high planes) is added
 * lane-wise into wider accumulators in the module's memory — 32-bit words into 64-bit lanes,
 * 8- and 16-bit words into 32-bit lanes — four to sixteen coefficients per instruction, with no
 * carries between lanes. Every 65,537 additions (the most a 32-bit lane holds of 16-bit words)
 * and whenever the sum is read, the accumulators are flushed into float64 totals (exact below
 * 2^53: 2^20 contributions of 32-bit words), from which {@link reduceSums} computes each
 * coefficient modulo q.
 *
 * Validation first copies the body into the module's memory and finds, 16 bytes at a time, the
 * coefficients whose top plane reaches q's (`i8x16.ge_u` and its siblings); only those are
 * compared in full, so a contribution with any coefficient at or above its prime is refused
 * before anything is added.
 *
 * Where WebAssembly SIMD is missing (a browser before 2021-2023 or a runtime with WebAssembly
 * off), {@link createCoefficientSums} returns the plain JavaScript {@link CoefficientSums}.
 * @module
 */
import { base64UrlToBytes, UnseenError } from '@unseen/core';
import type { VectorParams } from './params.js';
import { SUMS_WASM } from './sums-wasm.js';
import { CoefficientSums, type PrimePlanes, planeLayout, reduceSums, views } from './wire.js';

/** What the aggregator needs of a coefficient sum. */
export interface Sums {
  /** Contributions counted so far. */
  readonly count: number;
  /**
   * Checks that every coefficient of `body` is below its prime, then adds it, counting `weight`
   * contributions; a refused body changes nothing.
   * @throws UnseenError `ERR_MALFORMED_MESSAGE` naming the first bad coefficient
   */
  accept(body: Uint8Array, weight: number): void;
  /** Writes the sums, reduced modulo each q_j, as planes into `body`. */
  write(body: Uint8Array): void;
}

interface Kernels {
  memory: WebAssembly.Memory;
  addU32(src: number, acc: number, n: number): void;
  addU16(src: number, acc: number, n: number): void;
  addU8(src: number, acc: number, n: number): void;
  firstAtLeastU8(src: number, from: number, n: number, t: number): number;
  firstAtLeastU16(src: number, from: number, n: number, t: number): number;
  firstAtLeastU32(src: number, from: number, n: number, t: number): number;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernels, or null where WebAssembly SIMD is not available. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const bytes = base64UrlToBytes(SUMS_WASM) as Uint8Array<ArrayBuffer>;
    if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
      compiled = new WebAssembly.Module(bytes); // under 1 KB: synchronous compilation is allowed
    }
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether this platform runs the SIMD kernels. */
export function simdSumsAvailable(): boolean {
  return kernelModule() !== null;
}

/**
 * The fastest coefficient sums this platform has: {@link SimdCoefficientSums}, else
 * {@link CoefficientSums}.
 */
export function createCoefficientSums(params: VectorParams): Sums {
  if (simdSumsAvailable()) {
    try {
      return new SimdCoefficientSums(params);
    } catch (e) {
      // Memory refused (a 32-bit runtime near its limit): the JavaScript sums need less.
      if (!(e instanceof UnseenError && e.code === 'ERR_UNSUPPORTED')) throw e;
    }
  }
  return new CoefficientSums(params);
}

/** A high plane's accumulator: where it is in the module's memory and how wide its lanes are. */
interface PlaneAccumulator {
  /** Offset of the plane in a body. */
  plane: number;
  /** Bits of the plane's words: 8, 16 or 32. */
  width: 8 | 16 | 32;
  /** Offset of the accumulator in the module's memory (u32 lanes, u64 for width 32). */
  acc: number;
  /** Float64 totals of flushed additions. */
  total: Float64Array;
}

interface PrimeAccumulators {
  p: PrimePlanes;
  lo: PlaneAccumulator;
  high: PlaneAccumulator[];
}

/** Adds that a 32-bit lane holds of 16-bit words; flushes happen at this count. */
const FLUSH_EVERY = Math.floor(0xffffffff / 0xffff);

/** Coefficient sums in WebAssembly SIMD; see the module note. */
export class SimdCoefficientSums implements Sums {
  readonly #layout: ReturnType<typeof planeLayout>;
  readonly #k: Kernels;
  readonly #bytes: Uint8Array;
  readonly #u32: Uint32Array;
  readonly #u16: Uint16Array;
  readonly #primes: PrimeAccumulators[];
  /** Accumulator region in the module's memory (zeroed on flush). */
  readonly #accFrom: number;
  readonly #accTo: number;
  /** Bytes of a body in the module's memory (at offset 0), 16-byte padded. */
  readonly #bodyBytes: number;
  #pending = 0;
  #count = 0;

  /**
   * @throws UnseenError `ERR_UNSUPPORTED` where WebAssembly SIMD is not available or its memory
   * cannot grow to the sums' size
   */
  constructor(params: VectorParams) {
    const module = kernelModule();
    if (module === null) {
      throw new UnseenError('ERR_UNSUPPORTED', 'WebAssembly SIMD is not available here');
    }
    const layout = planeLayout(params);
    this.#layout = layout;
    const count = layout.count;
    if (count % 16 !== 0) {
      throw new UnseenError('ERR_INTERNAL', `plane of ${count} coefficients is not 16-aligned`);
    }
    this.#bodyBytes = Math.ceil(layout.bytes / 16) * 16;
    let at = this.#bodyBytes;
    const accumulator = (plane: number, width: 8 | 16 | 32): PlaneAccumulator => {
      const acc = at;
      at += (width === 32 ? 8 : 4) * count;
      return { plane, width, acc, total: new Float64Array(count) };
    };
    this.#accFrom = at;
    this.#primes = layout.primes.map((p) => ({
      p,
      lo: accumulator(p.lo, 32),
      high: [
        ...(p.hi32 >= 0 ? [accumulator(p.hi32, 32)] : []),
        ...(p.hi16 >= 0 ? [accumulator(p.hi16, 16)] : []),
        ...(p.hi8 >= 0 ? [accumulator(p.hi8, 8)] : []),
      ],
    }));
    this.#accTo = at;
    const instance = new WebAssembly.Instance(module, {});
    const k = instance.exports as unknown as Kernels;
    const pages = Math.ceil(at / 65536);
    const have = k.memory.buffer.byteLength / 65536;
    try {
      if (pages > have) k.memory.grow(pages - have);
    } catch (e) {
      throw new UnseenError('ERR_UNSUPPORTED', 'WebAssembly memory for the sums is refused', {
        cause: e,
      });
    }
    this.#k = k;
    this.#bytes = new Uint8Array(k.memory.buffer);
    this.#u32 = new Uint32Array(k.memory.buffer);
    this.#u16 = new Uint16Array(k.memory.buffer);
  }

  get count(): number {
    return this.#count;
  }

  accept(body: Uint8Array, weight: number): void {
    const { count, bytes } = this.#layout;
    if (body.length !== bytes) {
      throw new UnseenError('ERR_INTERNAL', `body of ${body.length} bytes, expected ${bytes}`);
    }
    this.#bytes.set(body, 0);
    this.#validate(count);
    const k = this.#k;
    for (const { lo, high } of this.#primes) {
      k.addU32(lo.plane, lo.acc, count);
      for (const h of high) {
        if (h.width === 32) k.addU32(h.plane, h.acc, count);
        else if (h.width === 16) k.addU16(h.plane, h.acc, count);
        else k.addU8(h.plane, h.acc, count);
      }
    }
    this.#count += weight;
    if (++this.#pending >= FLUSH_EVERY) this.#flush();
  }

  /** Checks the body at offset 0 of the module's memory. */
  #validate(count: number): void {
    const k = this.#k;
    for (let j = 0; j < this.#primes.length; j++) {
      const { p } = this.#primes[j]!;
      const qhi = Number(p.q >> 32n);
      const qlo = Number(p.q & 0xffffffffn);
      const lo = p.lo / 4;
      // The full high part of coefficient i, and where q's top plane is compared first.
      let high: (i: number) => number;
      let first: (from: number) => number;
      if (p.hi32 >= 0) {
        high = (i) => this.#u32[p.hi32 / 4 + i]!;
        first = (from) => k.firstAtLeastU32(p.hi32, from, count, qhi | 0);
      } else if (p.hi16 >= 0 && p.hi8 >= 0) {
        high = (i) => this.#u16[p.hi16 / 2 + i]! + this.#bytes[p.hi8 + i]! * 65536;
        first = (from) => k.firstAtLeastU8(p.hi8, from, count, qhi >>> 16);
      } else if (p.hi16 >= 0) {
        high = (i) => this.#u16[p.hi16 / 2 + i]!;
        first = (from) => k.firstAtLeastU16(p.hi16, from, count, qhi);
      } else {
        high = (i) => this.#bytes[p.hi8 + i]!;
        first = (from) => k.firstAtLeastU8(p.hi8, from, count, qhi);
      }
      for (let i = first(0); i >= 0; i = first(i + 1)) {
        const h = high(i);
        if (h > qhi || (h === qhi && this.#u32[lo + i]! >= qlo)) {
          throw new UnseenError(
            'ERR_MALFORMED_MESSAGE',
            `contribution coefficient ${i} of prime ${j} is not reduced modulo q`,
            { details: { prime: j, index: i } },
          );
        }
      }
    }
  }

  /** Moves the accumulators into the float64 totals and zeroes them. */
  #flush(): void {
    const u32 = this.#u32;
    for (const { lo, high } of this.#primes) {
      for (const a of [lo, ...high]) {
        const t = a.total;
        const base = a.acc / 4;
        if (a.width === 32) {
          for (let i = 0; i < t.length; i++) {
            t[i]! += u32[base + 2 * i]! + u32[base + 2 * i + 1]! * 4294967296;
          }
        } else {
          for (let i = 0; i < t.length; i++) t[i]! += u32[base + i]!;
        }
      }
    }
    this.#bytes.fill(0, this.#accFrom, this.#accTo);
    this.#pending = 0;
  }

  write(body: Uint8Array): void {
    this.#flush();
    const count = this.#layout.count;
    for (const { p, lo, high } of this.#primes) {
      const v = views(body, p, count);
      // hi * 2^32 + lo: the high planes' totals, each at its place above bit 32.
      const hiSums = new Float64Array(count);
      for (const h of high) {
        const shift = h.plane === p.hi8 && p.hi16 >= 0 ? 65536 : 1;
        const t = h.total;
        for (let i = 0; i < count; i++) hiSums[i]! += t[i]! * shift;
      }
      reduceSums(hiSums, lo.total, p.q, (i, l, h) => {
        v.lo[i] = l;
        if (v.hi32 !== undefined) v.hi32[i] = h;
        else {
          if (v.hi16 !== undefined) v.hi16[i] = h & 0xffff;
          if (v.hi8 !== undefined) v.hi8[i] = v.hi16 !== undefined ? h >>> 16 : h;
        }
      });
    }
  }
}
