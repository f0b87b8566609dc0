/**
 * Packing many small integers into one Paillier plaintext, with headroom so that the sum of up
 * to `maxContributions` packed vectors never carries from one slot into the next.
 *
 * A value v in [-B, B] is stored as v + B in a slot of w bits, w = bitLength(2 * B * k) for k =
 * `maxContributions`: the sum of k slots lies in [0, 2Bk] < 2^w, so slots add independently. The
 * plaintext is sum_i slot_i * 2^(w*i) < 2^(w*s) <= n, with s = floor((bits(n) - 1) / w) slots per
 * ciphertext. After summing k contributions, slot - k*B is the sum of the k values.
 * @module
 */
import { aint, UnseenError } from '@unseen/core';
import { bitLength } from './bigint.js';

/** Options of {@link PaillierPacking}. */
export interface PaillierPackingOptions {
  /** Modulus bits of the key (plaintexts must stay below n). */
  modulusBits: number;
  /** Every value lies in [-bound, bound]. */
  bound: bigint;
  /** The most contributions that will ever be summed (1 to 2^30). */
  maxContributions: number;
}

/**
 * Slot layout for packed Paillier vectors.
 * @example
 * ```ts
 * const packing = new PaillierPacking({ modulusBits: 2048, bound: 1n << 32n, maxContributions: 1000 });
 * packing.slotsPerPlaintext; // 47 slots of 43 bits
 * ```
 */
export class PaillierPacking {
  readonly bound: bigint;
  readonly maxContributions: number;
  /** Bits per slot. */
  readonly slotBits: number;
  /** Slots in one plaintext. */
  readonly slotsPerPlaintext: number;
  readonly #mask: bigint;
  readonly #shift: bigint;

  constructor(options: PaillierPackingOptions) {
    const bits = aint(options.modulusBits, 'modulusBits', 64);
    this.maxContributions = aint(options.maxContributions, 'maxContributions', 1, 2 ** 30);
    if (typeof options.bound !== 'bigint' || options.bound < 1n) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'packing bound must be a bigint >= 1');
    }
    this.bound = options.bound;
    this.slotBits = bitLength(2n * options.bound * BigInt(this.maxContributions));
    this.slotsPerPlaintext = Math.floor((bits - 1) / this.slotBits);
    if (this.slotsPerPlaintext < 1) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `a slot of ${this.slotBits} bits does not fit a ${bits}-bit plaintext`,
      );
    }
    this.#shift = BigInt(this.slotBits);
    this.#mask = (1n << this.#shift) - 1n;
  }

  /** Plaintexts needed for `length` values. */
  plaintextCount(length: number): number {
    return Math.ceil(aint(length, 'length', 0) / this.slotsPerPlaintext);
  }

  /**
   * Packs `values` (each in [-bound, bound]) into plaintexts.
   * @throws UnseenError `ERR_OVERFLOW` naming the first value out of range
   */
  pack(values: ArrayLike<bigint>): bigint[] {
    const n = values.length;
    const s = this.slotsPerPlaintext;
    const out: bigint[] = [];
    for (let start = 0; start < n; start += s) {
      let acc = 0n;
      // Slot 0 holds the lowest bits: fill from the last slot down.
      for (let i = Math.min(n, start + s) - 1; i >= start; i--) {
        const v = values[i]!;
        if (typeof v !== 'bigint' || v > this.bound || v < -this.bound) {
          throw new UnseenError(
            'ERR_OVERFLOW',
            `value at index ${i} is outside [-${this.bound}, ${this.bound}]`,
            { details: { index: i } },
          );
        }
        acc = (acc << this.#shift) | (v + this.bound);
      }
      out.push(acc);
    }
    return out;
  }

  /**
   * Unpacks the sum of `count` packed vectors back to `length` signed sums.
   * @throws UnseenError `ERR_OVERFLOW` when `count` exceeds `maxContributions`;
   * `ERR_INTEGRITY` when a slot holds a value no honest sum of `count` vectors can produce
   */
  unpack(plaintexts: readonly bigint[], length: number, count: number): bigint[] {
    aint(count, 'count', 1);
    if (count > this.maxContributions) {
      throw new UnseenError(
        'ERR_OVERFLOW',
        `${count} contributions exceed the packing headroom of ${this.maxContributions}`,
      );
    }
    if (plaintexts.length !== this.plaintextCount(length)) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', 'packed plaintext count does not match length');
    }
    const offset = BigInt(count) * this.bound;
    const out: bigint[] = new Array(length);
    for (let j = 0; j < plaintexts.length; j++) {
      let acc = plaintexts[j]!;
      const end = Math.min(length, (j + 1) * this.slotsPerPlaintext);
      for (let i = j * this.slotsPerPlaintext; i < end; i++) {
        const slot = acc & this.#mask;
        acc >>= this.#shift;
        if (slot > 2n * offset) {
          throw new UnseenError('ERR_INTEGRITY', `slot ${i} exceeds the range of ${count} sums`);
        }
        out[i] = slot - offset;
      }
      if (acc !== 0n) throw new UnseenError('ERR_INTEGRITY', 'packed plaintext has extra bits');
    }
    return out;
  }
}
