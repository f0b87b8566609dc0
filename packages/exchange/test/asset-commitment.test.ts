import { randomBytes } from '@unseen/core';
import {
  commitRows,
  encodeRow,
  inferSchema,
  parseAssetDefinition,
  parseCsv,
  proveRows,
  type Schema,
  typeRecord,
  verifyRowProof,
} from '@unseen/exchange';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const schema: Schema = [
  { name: 'id', type: 'string' },
  { name: 'age', type: 'integer' },
  { name: 'score', type: 'number' },
  { name: 'vip', type: 'boolean' },
];

describe('CSV', () => {
  it('parses RFC 4180: quotes, escaped quotes, embedded commas and newlines, CRLF, BOM', () => {
    const t = parseCsv('\ufeffa,b,c\r\n1,"x, y","he said ""hi"""\r\n2,"multi\nline",\r\n');
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.records).toEqual([
      ['1', 'x, y', 'he said "hi"'],
      ['2', 'multi\nline', ''],
    ]);
  });

  it('refuses ragged rows, stray quotes and unterminated fields with the line', () => {
    for (const bad of ['a,b\n1\n', 'a\nx"y\n', 'a\n"abc\n', 'a\n"x"y\n', '']) {
      expect(() => parseCsv(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });

  it('types cells by schema and infers schemas', () => {
    expect(typeRecord(schema, ['a', '42', '-1.5e2', 'true'])).toEqual(['a', 42, -150, true]);
    for (const bad of [
      ['a', '4.2', '1', 'true'],
      ['a', '1', 'x', 'true'],
      ['a', '1', '1', 'yes'],
      ['a', '01', '1', 'true'],
      ['a'],
    ]) {
      expect(() => typeRecord(schema, bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    expect(
      inferSchema(
        ['a', 'b', 'c', 'd'],
        [
          ['x', '1', '1.5', 'true'],
          ['y', '2', '3', 'false'],
        ],
      ).map((f) => f.type),
    ).toEqual(['string', 'integer', 'number', 'boolean']);
  });
});

describe('asset commitments', () => {
  const row = fc.tuple(
    fc.string(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
  );

  it('row encodings are injective: different rows never encode alike', () => {
    fc.assert(
      fc.property(row, row, (a, b) => {
        const same =
          JSON.stringify(a) === JSON.stringify(b) ||
          (a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3]);
        expect(Buffer.from(encodeRow(schema, a)).equals(Buffer.from(encodeRow(schema, b)))).toBe(
          same,
        );
      }),
    );
    // Field boundaries cannot be shifted: ('ab','c') and ('a','bc') differ.
    const s2: Schema = [
      { name: 'x', type: 'string' },
      { name: 'y', type: 'string' },
    ];
    expect(encodeRow(s2, ['ab', 'c'])).not.toEqual(encodeRow(s2, ['a', 'bc']));
  });

  it('a provider proves any row against its commitment; altered rows, salts or commitments fail', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.nat(), (rows, k) => {
        const key = randomBytes(32);
        const c = commitRows(schema, rows, key);
        const i = k % rows.length;
        const [proof] = proveRows(schema, rows, key, [i]);
        expect(verifyRowProof(schema, c, proof!)).toBe(true);
        expect(
          verifyRowProof(schema, c, {
            ...proof!,
            row: [`${rows[i]![0]}!`, rows[i]![1], rows[i]![2], rows[i]![3]],
          }),
        ).toBe(false);
        expect(verifyRowProof(schema, c, { ...proof!, salt: '00'.repeat(16) })).toBe(false);
        expect(verifyRowProof(schema, { ...c, rows: c.rows + 1 }, proof!)).toBe(false);
        expect(verifyRowProof(schema, commitRows(schema, rows, randomBytes(32)), proof!)).toBe(
          false,
        );
      }),
      { numRuns: 60 },
    );
  });

  it('the same rows under another commit key give an unrelated root (hiding)', () => {
    const rows: [string, number, number, boolean][] = [['a', 1, 1, true]];
    expect(commitRows(schema, rows, randomBytes(32)).root).not.toBe(
      commitRows(schema, rows, randomBytes(32)).root,
    );
  });

  it('asset definitions are validated, and the schema hash must match the schema', () => {
    const c = commitRows(schema, [], randomBytes(32));
    const def = {
      id: 'a1',
      title: 't',
      schema,
      classification: 'core',
      commitment: c,
      computations: ['aggregate.sum'],
    };
    expect(parseAssetDefinition(def).id).toBe('a1');
    expect(() => parseAssetDefinition({ ...def, schema: schema.slice(1) })).toThrow(
      expect.objectContaining({ code: 'ERR_INTEGRITY' }),
    );
    for (const bad of [
      { ...def, id: '../x' },
      { ...def, classification: 'secret' },
      { ...def, computations: [] },
      { ...def, commitment: { ...c, root: 'x' } },
    ]) {
      expect(() => parseAssetDefinition(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});
