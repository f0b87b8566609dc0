import {
  abigint,
  abool,
  abytes,
  aint,
  anumber,
  aoneOf,
  ERROR_CODES,
  isErrorCode,
  isUnseenError,
  UnseenError,
} from '@unseen/core';
import { describe, expect, it } from 'vitest';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isUnseenError(e) ? e.code : 'foreign';
  }
  return undefined;
}

describe('UnseenError', () => {
  it('carries a stable code, details and cause, and serialises without the stack', () => {
    const cause = new Error('inner');
    const e = new UnseenError('ERR_TIMEOUT', 'late', { cause, details: { ms: 5 } });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('UnseenError');
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'ERR_TIMEOUT',
      message: 'late',
      details: { ms: 5 },
    });
  });

  it('is recognised by shape across copies of the package', () => {
    const foreign = Object.assign(new Error('x'), { name: 'UnseenError', code: 'ERR_TIMEOUT' });
    expect(isUnseenError(foreign, 'ERR_TIMEOUT')).toBe(true);
    expect(isUnseenError(foreign, 'ERR_ABORTED')).toBe(false);
    expect(isUnseenError({ name: 'UnseenError', code: 'NOPE' })).toBe(false);
    expect(isUnseenError(new Error('x'))).toBe(false);
  });

  it('has unique codes', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(ERROR_CODES.every(isErrorCode)).toBe(true);
    expect(isErrorCode('ERR_SOMETHING_ELSE')).toBe(false);
  });
});

describe('validators return what they checked and raise ERR_INVALID_ARGUMENT', () => {
  it('abytes', () => {
    const b = new Uint8Array(4);
    expect(abytes(b, 'b', 4)).toBe(b);
    expect(abytes(b, 'b', [2, 4])).toBe(b);
    expect(codeOf(() => abytes(b, 'b', 5))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => abytes([1, 2], 'b'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => abytes(new Uint16Array(2), 'b'))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('aint / anumber / abool / aoneOf / abigint', () => {
    expect(aint(3, 'n', 1, 5)).toBe(3);
    for (const bad of [0, 6, 2.5, Number.NaN, '3', 2 ** 60]) {
      expect(codeOf(() => aint(bad, 'n', 1, 5))).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(anumber(0.5, 'x', 0, 1)).toBe(0.5);
    expect(codeOf(() => anumber(Number.POSITIVE_INFINITY))).toBe('ERR_INVALID_ARGUMENT');
    expect(abool(false)).toBe(false);
    expect(codeOf(() => abool(0))).toBe('ERR_INVALID_ARGUMENT');
    expect(aoneOf('a', ['a', 'b'] as const)).toBe('a');
    expect(codeOf(() => aoneOf('c', ['a', 'b'] as const))).toBe('ERR_INVALID_ARGUMENT');
    expect(abigint(5n, 'v', 0n, 10n)).toBe(5n);
    expect(codeOf(() => abigint(10n, 'v', 0n, 10n))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('says what was expected and what arrived', () => {
    try {
      aint(7, 'shares', 2, 5);
    } catch (e) {
      expect((e as Error).message).toBe('shares: expected integer in [2, 5], got number 7');
    }
  });
});
