/**
 * Asset schemas and the canonical byte encoding of rows. A schema is an ordered list of typed
 * fields; a row is encoded field by field with a type tag, so that two rows that differ in any
 * cell (or in a cell's type) never encode alike. The encoding is what an asset commitment
 * hashes: the same CSV gives the same commitment on every machine.
 * @module
 */
import { aoneOf, ByteWriter, sha256, UnseenError } from '@unseen/core';
import { canonicalBytes } from './canonical.js';

/** Cell types a schema can declare. */
export const FIELD_TYPES = ['string', 'integer', 'number', 'boolean'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** One column. */
export interface SchemaField {
  name: string;
  type: FieldType;
}

/** An ordered list of columns (1 to 1024, unique names). */
export type Schema = SchemaField[];

/** A typed cell. */
export type Cell = string | number | boolean;

const FIELD_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const TAG: Record<FieldType, number> = { string: 1, integer: 2, number: 3, boolean: 4 };

/** Checks a schema and returns a clean copy. @throws UnseenError `ERR_INVALID_ARGUMENT` */
export function parseSchema(value: unknown): Schema {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1024) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'schema: expected 1 to 1024 fields');
  }
  const names = new Set<string>();
  return value.map((f, i) => {
    if (typeof f !== 'object' || f === null) {
      throw new UnseenError('ERR_INVALID_ARGUMENT', `schema[${i}]: expected { name, type }`);
    }
    const { name, type } = f as Record<string, unknown>;
    if (typeof name !== 'string' || !FIELD_NAME_RE.test(name)) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `schema[${i}].name: expected an identifier of at most 64 characters`,
      );
    }
    if (names.has(name))
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `schema: duplicate field ${JSON.stringify(name)}`,
      );
    names.add(name);
    return { name, type: aoneOf(type, FIELD_TYPES, `schema[${i}].type`) };
  });
}

/** SHA-256 of the schema's canonical JSON, as hex is stored in commitments. */
export function schemaHash(schema: Schema): Uint8Array {
  return sha256(canonicalBytes(schema));
}

/**
 * Converts one CSV record (strings) to typed cells. Integers are decimal safe integers, numbers
 * finite decimals, booleans `true`/`false`.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` naming the row and column
 */
export function typeRecord(schema: Schema, record: readonly string[], rowNumber = 0): Cell[] {
  if (record.length !== schema.length) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `row ${rowNumber}: expected ${schema.length} cells, got ${record.length}`,
    );
  }
  return schema.map((field, i) => {
    const raw = record[i]!;
    const bad = (what: string) =>
      new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `row ${rowNumber}, column ${field.name}: expected ${what}`,
      );
    switch (field.type) {
      case 'string':
        return raw;
      case 'integer': {
        if (!/^-?(0|[1-9][0-9]*)$/.test(raw)) throw bad('an integer');
        const n = Number(raw);
        if (!Number.isSafeInteger(n)) throw bad('an integer within 2^53');
        return n;
      }
      case 'number': {
        if (!/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(raw))
          throw bad('a decimal number');
        const n = Number(raw);
        if (!Number.isFinite(n)) throw bad('a finite number');
        return n;
      }
      case 'boolean':
        if (raw === 'true') return true;
        if (raw === 'false') return false;
        throw bad('true or false');
      default:
        throw bad('a known type');
    }
  });
}

/** Guesses column types from the values present: integer, number, boolean, else string. */
export function inferSchema(
  header: readonly string[],
  records: readonly (readonly string[])[],
): Schema {
  return parseSchema(
    header.map((name, i) => {
      const col = records.map((r) => r[i] ?? '');
      const all = (re: RegExp) => col.length > 0 && col.every((v) => re.test(v));
      let type: FieldType = 'string';
      if (all(/^-?(0|[1-9][0-9]{0,14})$/)) type = 'integer';
      else if (all(/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/)) type = 'number';
      else if (all(/^(true|false)$/)) type = 'boolean';
      return { name, type };
    }),
  );
}

/**
 * The canonical bytes of a typed row: u32 cell count, then per cell a type tag and the value
 * (strings as u32-length UTF-8, integers as their decimal string, numbers as IEEE-754 binary64
 * with -0 folded to 0, booleans as one byte).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` when a cell does not match its field's type
 */
export function encodeRow(schema: Schema, row: readonly Cell[]): Uint8Array {
  if (row.length !== schema.length) {
    throw new UnseenError(
      'ERR_INVALID_ARGUMENT',
      `row: expected ${schema.length} cells, got ${row.length}`,
    );
  }
  const w = new ByteWriter(64).u32(row.length);
  for (let i = 0; i < row.length; i++) {
    const field = schema[i]!;
    const cell = row[i];
    w.u8(TAG[field.type]);
    const bad = () =>
      new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `row: cell ${field.name} is not of type ${field.type}`,
      );
    switch (field.type) {
      case 'string':
        if (typeof cell !== 'string') throw bad();
        w.string(cell);
        break;
      case 'integer':
        if (typeof cell !== 'number' || !Number.isSafeInteger(cell)) throw bad();
        w.string(String(cell === 0 ? 0 : cell));
        break;
      case 'number':
        if (typeof cell !== 'number' || !Number.isFinite(cell)) throw bad();
        w.f64(cell === 0 ? 0 : cell);
        break;
      case 'boolean':
        if (typeof cell !== 'boolean') throw bad();
        w.u8(cell ? 1 : 0);
        break;
    }
  }
  return w.finish();
}
