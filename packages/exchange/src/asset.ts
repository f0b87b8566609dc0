/**
 * Data assets. A provider describes an asset (schema, classification, the computations it
 * offers) and commits to its content with a Merkle root over its rows; only the description
 * and the commitment reach the exchange, the rows stay with the provider.
 *
 * Each leaf is `salt_i || encodeRow(row_i)` with `salt_i = HMAC-SHA256(commitKey,
 * "unseen/asset/row-salt/v1" || u64 i)[0..16]`. The salt keeps the commitment hiding: a party
 * holding a root or an inclusion proof cannot test guesses of low-entropy rows (a birth date,
 * a postcode) against it. The provider keeps `commitKey` and reveals a row's salt only with
 * the row when it proves inclusion.
 * @module
 */
import {
  abytes,
  aint,
  aoneOf,
  ByteWriter,
  bytesToHex,
  concatBytes,
  hexToBytes,
  hmacSha256,
  UnseenError,
} from '@unseen/core';
import { acomputations, type Computation } from './computations.js';
import { aname } from './identity.js';
import { type InclusionProof, MerkleRootBuilder, MerkleTree, verifyInclusion } from './merkle.js';
import { type Cell, encodeRow, parseSchema, type Schema, schemaHash } from './schema.js';

/**
 * Data classification in the sense of the PRC Data Security Law (art. 21): general data,
 * important data, core data; stricter policy floors apply to the higher classes.
 */
export const CLASSIFICATIONS = ['general', 'important', 'core'] as const;
export type Classification = (typeof CLASSIFICATIONS)[number];

/** What binds an asset's content. */
export interface AssetCommitment {
  /** Hex RFC 6962 Merkle root over the salted, encoded rows. */
  root: string;
  /** Number of rows (leaves). */
  rows: number;
  /** Hex SHA-256 of the schema's canonical JSON. */
  schemaHash: string;
}

/** What a provider registers. */
export interface AssetDefinition {
  /** Unique id chosen by the provider (letters, digits, `.`, `_`, `-`). */
  id: string;
  title: string;
  schema: Schema;
  classification: Classification;
  commitment: AssetCommitment;
  /** Computations the provider is willing to run on this asset. */
  computations: Computation[];
}

/** An asset as the exchange stores it. */
export interface Asset extends AssetDefinition {
  /** Key id of the provider that registered it and holds the data. */
  provider: string;
  registeredAt: number;
}

const HEX32 = /^[0-9a-f]{64}$/;

/** Checks an asset definition and returns a clean copy. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function parseAssetDefinition(value: unknown): AssetDefinition {
  if (typeof value !== 'object' || value === null) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'asset: expected an object');
  }
  const v = value as Record<string, unknown>;
  const title = v.title ?? v.id;
  if (typeof title !== 'string' || title.length > 200) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'asset.title: expected a string of at most 200 characters',
    );
  }
  const schema = parseSchema(v.schema);
  const c = v.commitment as Record<string, unknown> | null | undefined;
  if (typeof c !== 'object' || c === null) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'asset.commitment: expected { root, rows, schemaHash }',
    );
  }
  if (
    typeof c.root !== 'string' ||
    !HEX32.test(c.root) ||
    typeof c.schemaHash !== 'string' ||
    !HEX32.test(c.schemaHash)
  ) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      'asset.commitment: root and schemaHash must be 64 hex characters',
    );
  }
  if (c.schemaHash !== bytesToHex(schemaHash(schema))) {
    throw new UnseenError('ERR_INTEGRITY', 'asset.commitment.schemaHash does not match the schema');
  }
  return {
    id: aname(v.id, 'asset.id'),
    title,
    schema,
    classification: aoneOf(v.classification, CLASSIFICATIONS, 'asset.classification'),
    commitment: {
      root: c.root,
      rows: aint(c.rows, 'asset.commitment.rows', 0),
      schemaHash: c.schemaHash,
    },
    computations: acomputations(v.computations, 'asset.computations'),
  };
}

/** The 16-byte salt of row `index` under a provider's commit key. */
export function rowSalt(commitKey: Uint8Array, index: number): Uint8Array {
  abytes(commitKey, 'commitKey', 32);
  const msg = new ByteWriter(40)
    .bytes(new TextEncoder().encode('unseen/asset/row-salt/v1'))
    .u64(index)
    .finish();
  return hmacSha256(commitKey, msg).subarray(0, 16);
}

/** The Merkle leaf of row `index`: its salt, then its canonical encoding. */
export function rowLeaf(
  schema: Schema,
  row: readonly Cell[],
  index: number,
  commitKey: Uint8Array,
): Uint8Array {
  return concatBytes(rowSalt(commitKey, index), encodeRow(schema, row));
}

/**
 * Commits to an asset's rows in O(log n) memory.
 * @example
 * ```ts
 * const key = randomBytes(32); // kept by the provider
 * const commitment = commitRows(schema, rows, key);
 * ```
 */
export function commitRows(
  schema: Schema,
  rows: Iterable<readonly Cell[]>,
  commitKey: Uint8Array,
): AssetCommitment {
  const b = new MerkleRootBuilder();
  let i = 0;
  for (const row of rows) b.push(rowLeaf(schema, row, i++, commitKey));
  return { root: bytesToHex(b.root()), rows: b.size, schemaHash: bytesToHex(schemaHash(schema)) };
}

/** A row with everything needed to check it against a commitment. */
export interface RowProof {
  row: Cell[];
  /** Hex salt of the row. */
  salt: string;
  proof: InclusionProof;
}

/** Proves rows of an asset against its commitment (the provider's side). */
export function proveRows(
  schema: Schema,
  rows: readonly (readonly Cell[])[],
  commitKey: Uint8Array,
  indices: readonly number[],
): RowProof[] {
  const tree = MerkleTree.fromLeaves(rows.map((r, i) => rowLeaf(schema, r, i, commitKey)));
  return indices.map((i) => {
    const row = rows[aint(i, 'row index', 0, rows.length - 1)]!;
    return { row: [...row], salt: bytesToHex(rowSalt(commitKey, i)), proof: tree.prove(i) };
  });
}

/** Checks a row proof against a commitment (anyone's side). */
export function verifyRowProof(schema: Schema, commitment: AssetCommitment, p: RowProof): boolean {
  if (
    p.proof.treeSize !== commitment.rows ||
    typeof p.salt !== 'string' ||
    !/^[0-9a-f]{32}$/.test(p.salt)
  )
    return false;
  let leaf: Uint8Array;
  try {
    leaf = concatBytes(hexToBytes(p.salt), encodeRow(schema, p.row));
  } catch {
    return false;
  }
  return verifyInclusion(leaf, p.proof, hexToBytes(commitment.root));
}
