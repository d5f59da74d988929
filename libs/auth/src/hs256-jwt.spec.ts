import { createHmac, randomBytes } from 'node:crypto';
import * as jsonwebtoken from 'jsonwebtoken';
import { Hs256Jwt } from './hs256-jwt';

const SECRET = randomBytes(32).toString('base64url');
const NOW = 1_800_000_000;
const CHECK = { nowSeconds: NOW, issuer: 'mintline', audience: 'mintline-api' };
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
const mac = (input: string, secret = SECRET) => createHmac('sha256', secret).update(input).digest('base64url');

/** A token signed with SECRET over exactly this header and payload. */
function forge(header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${mac(input, secret)}`;
}

const valid = { sub: 'u', org: 'o', typ: 'access', iat: NOW - 10, exp: NOW + 890, aud: 'mintline-api', iss: 'mintline' };

describe('Hs256Jwt', () => {
  const jwt = new Hs256Jwt(SECRET);

  it('verifies what jsonwebtoken (under @nestjs/jwt) signs, and jsonwebtoken agrees with what it accepts', () => {
    const token = jsonwebtoken.sign({ sub: 'u', org: 'o', typ: 'access', iat: NOW }, SECRET, {
      algorithm: 'HS256',
      expiresIn: 900,
      issuer: 'mintline',
      audience: 'mintline-api',
    });
    expect(jwt.verify(token, CHECK)).toEqual({ sub: 'u', org: 'o', typ: 'access', iat: NOW, exp: NOW + 900, aud: 'mintline-api', iss: 'mintline' });
    expect(jsonwebtoken.verify(token, SECRET, { algorithms: ['HS256'], issuer: 'mintline', audience: 'mintline-api', clockTimestamp: NOW })).toMatchObject({ sub: 'u' });
    const theirs = jsonwebtoken.sign({ sub: 'u' }, SECRET, { algorithm: 'HS256', issuer: 'mintline', audience: 'mintline-api', expiresIn: 60 });
    expect(jwt.verify(theirs, { ...CHECK, nowSeconds: Math.floor(Date.now() / 1000) })).toMatchObject({ sub: 'u' });
  });

  it('accepts the pinned header in another spelling (field order, no typ)', () => {
    expect(jwt.verify(forge({ typ: 'JWT', alg: 'HS256' }, valid), CHECK)).toMatchObject({ sub: 'u' });
    expect(jwt.verify(forge({ alg: 'HS256' }, valid), CHECK)).toMatchObject({ sub: 'u' });
  });

  it.each([
    ['alg none, unsigned', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(valid)}.`],
    ['alg none, with a MAC', () => forge({ alg: 'none', typ: 'JWT' }, valid)],
    ['alg HS512', () => jsonwebtoken.sign(valid, SECRET, { algorithm: 'HS512' })],
    ['alg hs256 (case)', () => forge({ alg: 'hs256', typ: 'JWT' }, valid)],
    ['alg RS256 with the secret as MAC key', () => forge({ alg: 'RS256', typ: 'JWT' }, valid)],
    ['a kid', () => forge({ alg: 'HS256', typ: 'JWT', kid: 'k1' }, valid)],
    ['crit', () => forge({ alg: 'HS256', typ: 'JWT', crit: ['exp'] }, valid)],
    ['another typ', () => forge({ alg: 'HS256', typ: 'at+jwt' }, valid)],
    ['a header that is not an object', () => forge(['HS256'], valid)],
    ['no exp', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, exp: undefined })],
    ['exp as a string', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, exp: String(NOW + 100) })],
    ['expired', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, exp: NOW - 1 })],
    ['expiring this second', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, exp: NOW })],
    ['not yet valid (nbf)', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, nbf: NOW + 60 })],
    ['iat not a number', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, iat: 'yesterday' })],
    ['another issuer', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, iss: 'someone' })],
    ['no issuer', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, iss: undefined })],
    ['another audience', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, aud: 'other' })],
    ['an audience list', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, aud: ['mintline-api'] })],
    ['a payload that is not an object', () => forge({ alg: 'HS256', typ: 'JWT' }, [valid])],
    ['a payload that is not JSON', () => forge({ alg: 'HS256', typ: 'JWT' }, 'sub=u')],
    ['signed with another secret', () => forge({ alg: 'HS256', typ: 'JWT' }, valid, 'another secret')],
    ['garbage', () => 'not-a-jwt'],
    ['empty', () => ''],
    ['four parts', () => `${forge({ alg: 'HS256', typ: 'JWT' }, valid)}.x`],
    ['padded signature', () => `${forge({ alg: 'HS256', typ: 'JWT' }, valid)}=`],
    ['oversized', () => forge({ alg: 'HS256', typ: 'JWT' }, { ...valid, pad: 'x'.repeat(5000) })],
  ])('refuses %s', (_name, make) => {
    expect(jwt.verify(make(), CHECK)).toBeUndefined();
  });

  it('refuses a tampered payload, header or signature', () => {
    const token = forge({ alg: 'HS256', typ: 'JWT' }, valid);
    const [header, payload, signature] = token.split('.');
    expect(jwt.verify(`${header}.${b64({ ...valid, sub: 'someone else' })}.${signature}`, CHECK)).toBeUndefined();
    expect(jwt.verify(`${b64({ alg: 'HS256' })}.${payload}.${signature}`, CHECK)).toBeUndefined();
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    expect(jwt.verify(`${header}.${payload}.${flipped}`, CHECK)).toBeUndefined();
  });

  it('refuses another spelling of the same signature (the unused low bits of its last character)', () => {
    const token = forge({ alg: 'HS256', typ: 'JWT' }, valid);
    const last = token[token.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // 43 characters carry 258 bits for 256: the last character's two low bits are not part of the MAC.
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    const respelled = token.slice(0, -1) + sibling;
    expect(Buffer.from(respelled.split('.')[2], 'base64url')).toEqual(Buffer.from(token.split('.')[2], 'base64url'));
    expect(jwt.verify(token, CHECK)).toBeDefined();
    expect(jwt.verify(respelled, CHECK)).toBeUndefined();
  });
});
