/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values Mintline signs: objects, arrays, strings,
 * finite numbers, booleans and null. Object members are sorted by their names' UTF-16 code units (what
 * JavaScript's default sort compares), nothing is indented, strings and numbers are written as
 * ECMAScript's JSON.stringify writes them, which is what RFC 8785 prescribes (its section 3.2.2).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('canonical JSON has no form for NaN or an infinite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (typeof value === 'object') {
    const names = Object.keys(value).filter((name) => (value as Record<string, unknown>)[name] !== undefined);
    names.sort();
    return `{${names.map((name) => `${JSON.stringify(name)}:${canonicalJson((value as Record<string, unknown>)[name])}`).join(',')}}`;
  }
  throw new Error(`canonical JSON has no form for a ${typeof value}`);
}
