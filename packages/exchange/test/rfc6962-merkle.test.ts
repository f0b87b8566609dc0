import { bytesToHex, hexToBytes, randomBytes } from '@unseen/core';
import {
  EMPTY_ROOT,
  MerkleRootBuilder,
  MerkleTree,
  merkleLeafHash,
  merkleNodeHash,
  verifyInclusion,
} from '@unseen/exchange';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from './vectors/rfc6962-merkle.json' with { type: 'json' };

const leaves = vectors.leaves.map(hexToBytes);

/** RFC 6962 section 2.1 MTH, written recursively as the RFC states it, for cross-checking. */
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return EMPTY_ROOT;
  if (d.length === 1) return merkleLeafHash(d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return merkleNodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}

describe('RFC 6962 Merkle tree', () => {
  it('matches the published roots of the first 1..8 leaves and the empty tree', () => {
    expect(bytesToHex(new MerkleRootBuilder().root())).toBe(vectors.emptyRoot);
    expect(bytesToHex(MerkleTree.fromLeaves([]).root)).toBe(vectors.emptyRoot);
    for (let n = 1; n <= leaves.length; n++) {
      const b = new MerkleRootBuilder();
      for (const l of leaves.slice(0, n)) b.push(l);
      expect(bytesToHex(b.root())).toBe(vectors.roots[n - 1]);
      expect(bytesToHex(MerkleTree.fromLeaves(leaves.slice(0, n)).root)).toBe(vectors.roots[n - 1]);
    }
  });

  it('streaming root, in-memory tree and the recursive definition agree for any size', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 70 }), (ls) => {
        const b = new MerkleRootBuilder();
        for (const l of ls) b.push(l);
        const want = bytesToHex(mth(ls));
        expect(bytesToHex(b.root())).toBe(want);
        expect(bytesToHex(MerkleTree.fromLeaves(ls).root)).toBe(want);
      }),
      { numRuns: 150 },
    );
  });

  it('inclusion proofs verify for every leaf and fail for any other leaf, index, size or root', () => {
    for (let n = 1; n <= 33; n++) {
      const ls = Array.from({ length: n }, () => randomBytes(5));
      const tree = MerkleTree.fromLeaves(ls);
      for (let i = 0; i < n; i++) {
        const proof = tree.prove(i);
        expect(verifyInclusion(ls[i]!, proof, tree.root)).toBe(true);
        if (n > 1) expect(verifyInclusion(ls[(i + 1) % n]!, proof, tree.root)).toBe(false);
        if (n > 1)
          expect(verifyInclusion(ls[i]!, { ...proof, leafIndex: (i + 1) % n }, tree.root)).toBe(
            false,
          );
        // A root is bound to its tree size only by whoever publishes it (RFC 9162 signs the size
        // in the tree head; asset commitments carry `rows`): a proof may also fit another size.
        expect(verifyInclusion(ls[i]!, { ...proof, treeSize: i }, tree.root)).toBe(false);
        expect(verifyInclusion(ls[i]!, proof, randomBytes(32))).toBe(false);
        if (proof.path.length > 0) {
          const bad = [...proof.path];
          bad[0] = bytesToHex(randomBytes(32));
          expect(verifyInclusion(ls[i]!, { ...proof, path: bad }, tree.root)).toBe(false);
          expect(verifyInclusion(ls[i]!, { ...proof, path: proof.path.slice(1) }, tree.root)).toBe(
            false,
          );
          expect(
            verifyInclusion(ls[i]!, { ...proof, path: [...proof.path, proof.path[0]!] }, tree.root),
          ).toBe(false);
        }
      }
    }
  });

  it('rejects malformed proofs without throwing', () => {
    const tree = MerkleTree.fromLeaves(leaves);
    const proof = tree.prove(3);
    const root = tree.root;
    for (const bad of [
      { ...proof, leafIndex: -1 },
      { ...proof, leafIndex: 8 },
      { ...proof, leafIndex: 1.5 },
      { ...proof, path: ['zz'] },
      { ...proof, path: [42 as unknown as string] },
      { ...proof, path: 'x' as unknown as string[] },
    ]) {
      expect(verifyInclusion(leaves[3]!, bad, root)).toBe(false);
    }
  });

  it('separates leaves from nodes: an interior node is not a leaf', () => {
    const tree = MerkleTree.fromLeaves(leaves.slice(0, 4));
    // The concatenation of two child hashes, passed off as leaf data, does not hash to the node.
    const left = merkleNodeHash(merkleLeafHash(leaves[0]!), merkleLeafHash(leaves[1]!));
    const right = merkleNodeHash(merkleLeafHash(leaves[2]!), merkleLeafHash(leaves[3]!));
    const fake = new Uint8Array([...left, ...right]);
    expect(bytesToHex(MerkleTree.fromLeaves([fake]).root)).not.toBe(bytesToHex(tree.root));
  });
});
