import { canonicalJson } from '@unseen/exchange';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('canonical JSON (RFC 8785)', () => {
  it('sorts members by UTF-16 code units (RFC 8785 section 3.2.3 example)', () => {
    // The property names of the RFC's sorting example, in its expected order.
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // Read the member order from the text: Object.keys would move the integer-like key first.
    const text = canonicalJson(value);
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) =>
      text.indexOf(`${JSON.stringify(k)}:`),
    );
    expect(order.every((pos) => pos > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('serializes numbers as ECMAScript does (RFC 8785 appendix B samples)', () => {
    expect(
      canonicalJson([0, -0, 1e21, 1e-7, 333333333.3333333, 9007199254740991, 5e-324, 0.000001]),
    ).toBe('[0,0,1e+21,1e-7,333333333.3333333,9007199254740991,5e-324,0.000001]');
    expect(canonicalJson({ b: [true, null, 'x\n"'], a: { d: 1, c: 2 } })).toBe(
      '{"a":{"c":2,"d":1},"b":[true,null,"x\\n\\""]}',
    );
  });

  it('is stable: parse then re-serialize gives the same text; key order never matters', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        expect(canonicalJson(JSON.parse(c))).toBe(c);
      }),
      { numRuns: 300 },
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('refuses what JSON cannot carry faithfully', () => {
    for (const bad of [
      NaN,
      Infinity,
      1n,
      () => 1,
      new Date(0),
      new Uint8Array(1),
      '\ud800',
      { '\udc00': 1 },
    ]) {
      expect(() => canonicalJson(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});
