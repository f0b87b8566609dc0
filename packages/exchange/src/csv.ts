/**
 * A strict CSV reader (RFC 4180): comma-separated fields, optional double quotes with `""`
 * escapes, CRLF or LF line ends, no ragged rows. Providers read their assets with it; the data
 * never leaves the provider.
 * @module
 */
import { UnseenError } from '@unseen/core';

/** A parsed CSV file: the header row and the records. */
export interface CsvTable {
  header: string[];
  records: string[][];
}

/**
 * Parses CSV text with a header row.
 * @throws UnseenError `ERR_INVALID_ARGUMENT` with the line of the first problem
 * @example
 * ```ts
 * parseCsv('id,score\n1,"2"\n'); // { header: ['id', 'score'], records: [['1', '2']] }
 * ```
 */
export function parseCsv(text: string): CsvTable {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let wasQuoted = false;
  let line = 1;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a UTF-8 BOM is not data
  const endRow = () => {
    row.push(field);
    rows.push(row);
    row = [];
    field = '';
    wasQuoted = false;
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (field !== '' || wasQuoted) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `csv line ${line}: a quote inside an unquoted field`,
        );
      }
      quoted = true;
      wasQuoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      wasQuoted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
    } else {
      if (wasQuoted) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `csv line ${line}: characters after a closing quote`,
        );
      }
      field += c;
    }
  }
  if (quoted)
    throw new UnseenError('ERR_INVALID_ARGUMENT', `csv line ${line}: unterminated quoted field`);
  if (field !== '' || row.length > 0 || wasQuoted) endRow();
  const [header, ...records] = rows;
  if (header === undefined || header.length === 0 || (header.length === 1 && header[0] === '')) {
    throw new UnseenError('ERR_INVALID_ARGUMENT', 'csv: no header row');
  }
  records.forEach((r, k) => {
    if (r.length !== header.length) {
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `csv record ${k + 1}: expected ${header.length} fields, got ${r.length}`,
      );
    }
  });
  return { header, records };
}
