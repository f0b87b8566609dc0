/**
 * Loading a provider's asset from a CSV file (Node only): parse, type, commit. The commit key
 * of an asset is derived from the provider's commit secret and the asset id with HKDF, so the
 * provider can rebuild the same commitment and proofs after a restart.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { hkdf } from '@unseen/core';
import { type AssetCommitment, commitRows } from './asset.js';
import { parseCsv } from './csv.js';
import type { LocalAsset } from './runner.js';
import { type Cell, inferSchema, parseSchema, type Schema, typeRecord } from './schema.js';

/** An asset loaded on its provider, with its commitment. */
export interface LoadedAsset extends LocalAsset {
  commitment: AssetCommitment;
  /** The Merkle root (hex), as tickets pin it. */
  root: string;
  commitKey: Uint8Array;
}

/** The per-asset commit key: HKDF-SHA256(commitSecret, salt = asset id, info = label). */
export function assetCommitKey(commitSecret: Uint8Array, assetId: string): Uint8Array {
  return hkdf(commitSecret, assetId, 'unseen/asset/commit-key/v1', 32);
}

/** Parses `name:type,name:type` into a schema. */
export function parseSchemaSpec(spec: string): Schema {
  return parseSchema(
    spec.split(',').map((part) => {
      const [name, type] = part.split(':');
      return { name: name?.trim(), type: type?.trim() };
    }),
  );
}

/**
 * Reads a CSV asset. Without a schema the column types are inferred; with one, the header
 * must name the same columns in the same order.
 */
export async function loadCsvAsset(
  path: string,
  options: { id: string; commitSecret: Uint8Array; schema?: Schema },
): Promise<LoadedAsset> {
  const table = parseCsv(await readFile(path, 'utf8'));
  const schema = options.schema ?? inferSchema(table.header, table.records);
  if (schema.map((f) => f.name).join(',') !== table.header.join(',')) {
    throw new Error(`${path}: the header ${table.header.join(',')} does not match the schema`);
  }
  const rows: Cell[][] = table.records.map((r, i) => typeRecord(schema, r, i + 1));
  const commitKey = assetCommitKey(options.commitSecret, options.id);
  const commitment = commitRows(schema, rows, commitKey);
  return { id: options.id, schema, rows, commitment, root: commitment.root, commitKey };
}
