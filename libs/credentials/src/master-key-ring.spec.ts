import { randomBytes } from 'node:crypto';
import { parseMasterKeys } from './master-key-ring';

const key = (bytes = 32) => randomBytes(bytes).toString('base64');

describe('parseMasterKeys', () => {
  it('parses one key as the primary', () => {
    const k1 = key();
    const ring = parseMasterKeys(`k1:${k1}`);
    expect(ring.primaryId).toBe('k1');
    expect(ring.keys.size).toBe(1);
    expect(ring.keys.get('k1')).toEqual(Buffer.from(k1, 'base64'));
  });

  it('makes the first entry the primary and keeps the others', () => {
    const ring = parseMasterKeys(`new_2:${key()}, old-1:${key()}`);
    expect(ring.primaryId).toBe('new_2');
    expect([...ring.keys.keys()]).toEqual(['new_2', 'old-1']);
  });

  it('accepts ids of 1 and 32 characters', () => {
    const longId = 'A'.repeat(32);
    const ring = parseMasterKeys(`a:${key()},${longId}:${key()}`);
    expect([...ring.keys.keys()]).toEqual(['a', longId]);
  });

  it.each([
    ['an empty value', '', /MASTER_KEYS is empty/],
    ['whitespace only', '   ', /MASTER_KEYS is empty/],
    ['an empty entry', `k1:${key()},`, /entry 2 is empty/],
    ['an entry without id', key(), /entry 1 has no "id:" prefix/],
    ['an empty id', `:${key()}`, /entry 1 has an invalid key id/],
    ['an id of 33 characters', `${'a'.repeat(33)}:${key()}`, /entry 1 has an invalid key id/],
    ['an id with a dot', `k.1:${key()}`, /entry 1 has an invalid key id/],
    ['a duplicate id', `k1:${key()},k1:${key()}`, /entry 2: key id "k1" appears more than once/],
    ['a missing key', 'k1:', /not valid base64/],
    ['a key with foreign characters', `k1:${key().replace(/.$/, '!')}`, /not valid base64/],
    ['a key without padding', `k1:${key().replace(/=+$/, '')}`, /not valid base64/],
    ['a base64url key', `k1:${Buffer.alloc(32, 0xfb).toString('base64url')}=`, /not valid base64/],
    ['a 31-byte key', `k1:${key(31)}`, /decodes to 31 bytes, expected 32/],
    ['a 33-byte key', `k1:${key(33)}`, /decodes to 33 bytes, expected 32/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseMasterKeys(value)).toThrow(message);
  });

  it('refuses non-canonical base64 (non-zero padding bits)', () => {
    const canonical = Buffer.alloc(32, 1).toString('base64'); // ends in "E="
    const altered = `${canonical.slice(0, -2)}F=`;
    expect(Buffer.from(altered, 'base64')).toEqual(Buffer.alloc(32, 1));
    expect(() => parseMasterKeys(`k1:${altered}`)).toThrow(/not valid base64/);
  });

  it('never puts key material in its messages', () => {
    const secret = key(31);
    const bare = key();
    for (const value of [`k1:${secret}`, bare, `k1:${key()},k1:${bare}`, `bad id:${bare}`]) {
      let message = '';
      try {
        parseMasterKeys(value);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(secret);
      expect(message).not.toContain(bare);
      expect(message).not.toContain(bare.slice(0, 8));
    }
  });
});
