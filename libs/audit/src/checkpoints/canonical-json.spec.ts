import { canonicalJson } from './canonical-json';

/** RFC 8785 (JSON Canonicalization Scheme), with the examples of its sections 3.2.2 and 3.2.3. */
describe('canonicalJson', () => {
  it('sorts members by the UTF-16 code units of their names (RFC 8785 section 3.2.3)', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const text = canonicalJson(value);
    const order = ['\\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((name) => text.indexOf(`"${name}"`));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect(text).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes numbers as ECMAScript does (RFC 8785 section 3.2.2.3)', () => {
    // RFC 8785's sample 333333333.33333329 has more digits than a double holds; read at run time (as a JSON
    // parser would) so the source holds it verbatim without a literal that loses precision.
    expect(canonicalJson([Number('333333333.33333329'), 1e30, 4.5, 2e-3, 0.000000000000000000000000001, -0, 0, 42, 9007199254740991])).toBe(
      '[333333333.3333333,1e+30,4.5,0.002,1e-27,0,0,42,9007199254740991]',
    );
    expect(() => canonicalJson(Number.NaN)).toThrow(/NaN/);
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow();
  });

  it('escapes strings minimally: quote, backslash and control characters only; other text as is', () => {
    expect(canonicalJson({ string: '\u20ac$\u000f\u000aA\'\u0042\u0022\u005c\\"/' })).toBe('{"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  });

  it('has no whitespace and nests', () => {
    expect(canonicalJson({ b: [true, null, { d: 1, c: 'x' }], a: false })).toBe('{"a":false,"b":[true,null,{"c":"x","d":1}]}');
  });

  it('refuses values JSON has no form for', () => {
    expect(() => canonicalJson(() => 1)).toThrow(/function/);
    expect(() => canonicalJson(BigInt(1))).toThrow(/bigint/);
  });
});
