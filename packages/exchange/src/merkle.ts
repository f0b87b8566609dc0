/**
 * Merkle trees over rows, as in Certificate Transparency (RFC 6962 section 2.1, RFC 9162
 * section 2.1): a leaf hash is SHA-256(0x00 || data), an interior node SHA-256(0x01 || left ||
 * right), and a tree of n leaves splits at the largest power of two below n. The distinct
 * prefixes separate leaves from nodes (no second-preimage by passing a node off as a leaf).
 * Inclusion proofs follow RFC 9162 section 2.1.3: a provider that committed to an asset's
 * rows can later prove that a row was part of what a job ran on, without revealing the others.
 * @module
 */

import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { abytes, aint, bytesToHex, equalBytes, hexToBytes, UnseenError } from '@unseen/core';

const LEAF = 0x00;
const NODE = 0x01;

/** RFC 6962 leaf hash: SHA-256(0x00 || data). */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  abytes(data, 'leaf');
  const h = nobleSha256.create();
  h.update(Uint8Array.of(LEAF));
  h.update(data);
  return h.digest();
}

/** RFC 6962 interior node hash: SHA-256(0x01 || left || right). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const h = nobleSha256.create();
  h.update(Uint8Array.of(NODE));
  h.update(left);
  h.update(right);
  return h.digest();
}

/** The root of the empty tree: SHA-256 of nothing (RFC 6962 section 2.1). */
export const EMPTY_ROOT: Uint8Array = nobleSha256(new Uint8Array(0));

/**
 * Computes a Merkle root incrementally in O(log n) memory: push leaves in order, then read
 * `root()`. The stack holds perfect subtrees of decreasing size; folding it from the right at
 * the end gives exactly RFC 6962's tree, whose last subtree is the one left unbalanced.
 */
export class MerkleRootBuilder {
  readonly #hashes: Uint8Array[] = [];
  readonly #sizes: number[] = [];
  #count = 0;

  get size(): number {
    return this.#count;
  }

  /** Adds the next leaf's data (hashed here with the 0x00 prefix). */
  push(leafData: Uint8Array): this {
    return this.pushLeafHash(merkleLeafHash(leafData));
  }

  /** Adds the next leaf by its precomputed leaf hash. */
  pushLeafHash(leafHash: Uint8Array): this {
    let hash = abytes(leafHash, 'leafHash', 32);
    let size = 1;
    while (this.#sizes.length > 0 && this.#sizes[this.#sizes.length - 1] === size) {
      this.#sizes.pop();
      hash = merkleNodeHash(this.#hashes.pop()!, hash);
      size *= 2;
    }
    this.#hashes.push(hash);
    this.#sizes.push(size);
    this.#count++;
    return this;
  }

  /** The root over the leaves pushed so far. */
  root(): Uint8Array {
    if (this.#hashes.length === 0) return EMPTY_ROOT.slice();
    let r = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) r = merkleNodeHash(this.#hashes[i]!, r);
    return r;
  }
}

/** An inclusion proof (RFC 9162 section 2.1.3.1): sibling hashes from the leaf up. */
export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  /** Hex sibling hashes, bottom-up. */
  path: string[];
}

/**
 * A whole tree kept in memory (2n hashes) to answer inclusion proofs. Levels are built
 * bottom-up; an odd last node is carried up unhashed, which yields the same tree as RFC 6962's
 * recursive split.
 * @example
 * ```ts
 * const tree = MerkleTree.fromLeaves([utf8ToBytes('a'), utf8ToBytes('b'), utf8ToBytes('c')]);
 * const proof = tree.prove(2);
 * verifyInclusion(utf8ToBytes('c'), proof, tree.root); // true
 * ```
 */
export class MerkleTree {
  readonly #levels: Uint8Array[][];

  private constructor(leafHashes: Uint8Array[]) {
    const levels: Uint8Array[][] = [leafHashes];
    let level = leafHashes;
    while (level.length > 1) {
      const next: Uint8Array[] = [];
      for (let i = 0; i + 1 < level.length; i += 2)
        next.push(merkleNodeHash(level[i]!, level[i + 1]!));
      if (level.length % 2 === 1) next.push(level[level.length - 1]!);
      levels.push(next);
      level = next;
    }
    this.#levels = levels;
  }

  /** A tree over leaf data (each hashed with the 0x00 prefix). */
  static fromLeaves(leaves: Iterable<Uint8Array>): MerkleTree {
    return new MerkleTree(Array.from(leaves, merkleLeafHash));
  }

  /** A tree over precomputed leaf hashes. */
  static fromLeafHashes(hashes: Uint8Array[]): MerkleTree {
    return new MerkleTree(hashes.map((h) => abytes(h, 'leafHash', 32)));
  }

  get size(): number {
    return this.#levels[0]!.length;
  }

  get root(): Uint8Array {
    if (this.size === 0) return EMPTY_ROOT.slice();
    return this.#levels[this.#levels.length - 1]![0]!;
  }

  /** The inclusion proof of leaf `index`. @throws UnseenError `ERR_INVALID_ARGUMENT` */
  prove(index: number): InclusionProof {
    aint(index, 'leaf index', 0, this.size - 1);
    const path: string[] = [];
    let i = index;
    for (let l = 0; l < this.#levels.length - 1; l++) {
      const level = this.#levels[l]!;
      const sibling = i % 2 === 1 ? i - 1 : i + 1;
      if (sibling < level.length) path.push(bytesToHex(level[sibling]!));
      i = Math.floor(i / 2);
    }
    return { leafIndex: index, treeSize: this.size, path };
  }
}

/**
 * Verifies an inclusion proof (the algorithm of RFC 9162 section 2.1.3.2).
 * @returns true when `leafData` is leaf `proof.leafIndex` of the tree of `proof.treeSize`
 *   leaves whose root is `root`
 */
export function verifyInclusion(
  leafData: Uint8Array,
  proof: InclusionProof,
  root: Uint8Array,
): boolean {
  return verifyInclusionHash(merkleLeafHash(leafData), proof, root);
}

/** {@link verifyInclusion} from the leaf hash. Malformed proofs return false. */
export function verifyInclusionHash(
  leafHash: Uint8Array,
  proof: InclusionProof,
  root: Uint8Array,
): boolean {
  const { leafIndex, treeSize, path } = proof;
  if (!Number.isSafeInteger(leafIndex) || !Number.isSafeInteger(treeSize)) return false;
  if (leafIndex < 0 || leafIndex >= treeSize || !Array.isArray(path) || path.length > 64)
    return false;
  let siblings: Uint8Array[];
  try {
    siblings = path.map((h) => {
      if (typeof h !== 'string' || h.length !== 64)
        throw new UnseenError('ERR_MALFORMED_MESSAGE', 'hash');
      return hexToBytes(h);
    });
  } catch {
    return false;
  }
  // Indices up to 2^53 do not fit 32-bit shifts: halve with Math.floor.
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of siblings) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = merkleNodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = merkleNodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}
