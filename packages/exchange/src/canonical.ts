/**
 * Canonical JSON: one byte string for one value, so that signatures and hashes over JSON
 * objects are reproducible by any party. Follows the JSON Canonicalization Scheme (RFC 8785):
 * object members sorted by their UTF-16 code units, no whitespace, ECMAScript number and string
 * serialization. Only plain JSON values are accepted: finite numbers, strings, booleans, null,
 * arrays and plain objects; `undefined` members are omitted (as `JSON.stringify` does).
 * @module
 */
import { sha256, UnseenError, utf8ToBytes } from '@unseen/core';

/** A JSON value as canonical JSON understands it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` has no lone surrogate (so that it has a UTF-8 encoding). */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function serialize(value: unknown, path: string, depth: number): string {
  if (depth > 64)
    throw new UnseenError('ERR_INVALID_ARGUMENT', `canonical JSON: ${path} nests too deep`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `canonical JSON: ${path} is not a finite number`,
        );
      }
      // RFC 8785 section 3.2.2.3: the ECMAScript Number.prototype.toString serialization; -0 is 0.
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'string':
      // RFC 8785 section 3.2.2.2 is ECMAScript's JSON.stringify for strings. Lone surrogates
      // cannot be encoded as UTF-8, so they are refused.
      if (!isWellFormed(value)) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `canonical JSON: ${path} has a lone surrogate`,
        );
      }
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v, i) => serialize(v, `${path}[${i}]`, depth + 1)).join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new UnseenError(
          'ERR_INVALID_ARGUMENT',
          `canonical JSON: ${path} is not a plain object`,
        );
      }
      // Default sort compares UTF-16 code units, as RFC 8785 section 3.2.3 requires.
      const keys = Object.keys(value).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v === undefined) continue;
        if (!isWellFormed(k)) {
          throw new UnseenError(
            'ERR_INVALID_ARGUMENT',
            `canonical JSON: a key of ${path} has a lone surrogate`,
          );
        }
        parts.push(`${JSON.stringify(k)}:${serialize(v, `${path}.${k}`, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new UnseenError(
        'ERR_INVALID_ARGUMENT',
        `canonical JSON: ${path} has type ${typeof value}`,
      );
  }
}

/**
 * The canonical JSON text of `value` (RFC 8785).
 * @throws UnseenError `ERR_INVALID_ARGUMENT` for non-JSON values (NaN, bigint, class instances, ...)
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, '$', 0);
}

/** The UTF-8 bytes of {@link canonicalJson}. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8ToBytes(canonicalJson(value));
}

/** SHA-256 over a domain label, a zero byte and the canonical JSON of `value`. */
export function canonicalHash(domain: string, value: unknown): Uint8Array {
  const label = utf8ToBytes(domain);
  const body = canonicalBytes(value);
  const buf = new Uint8Array(label.length + 1 + body.length);
  buf.set(label, 0);
  buf.set(body, label.length + 1);
  return sha256(buf);
}
