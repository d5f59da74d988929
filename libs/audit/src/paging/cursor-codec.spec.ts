import { createHmac } from 'node:crypto';
import type { AppConfig } from '@mintline/common/config';
import { ApiError } from '@mintline/common/errors/api-error';
import { CursorCodec } from './cursor-codec';

const ORG = '6f3c1d2e-8b7a-4e59-a1c2-3d4e5f607182';
const OTHER_ORG = '0b8f6a6e-3a4e-4c55-9a55-0d6c0b1f7a01';
const codecWith = (jwtSecret: string) => new CursorCodec({ jwtSecret } as AppConfig);

/** Calls decode and returns the ApiError it threw (fails the test when it did not throw one). */
function refusal(codec: CursorCodec, purpose: string, orgId: string, cursor: string): ApiError {
  try {
    codec.decode(purpose, orgId, cursor);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error(`cursor ${JSON.stringify(cursor)} was accepted`);
}

function expectRefused(codec: CursorCodec, purpose: string, orgId: string, cursor: string): void {
  const error = refusal(codec, purpose, orgId, cursor);
  expect(error.status).toBe(400);
  expect(error.code).toBe('VALIDATION_FAILED');
  expect(error.details).toEqual([{ field: 'cursor', message: expect.any(String) }]);
}

/** The signature the codec would write, made here from the documented construction. */
function signFor(jwtSecret: string, purpose: string, orgId: string, payload: string): string {
  const key = createHmac('sha256', jwtSecret).update('mintline.cursor.v1').digest();
  return createHmac('sha256', key).update(`${purpose}\n${orgId}\n${payload}`).digest('base64url');
}

describe('CursorCodec', () => {
  const codec = codecWith('test-secret');
  const position = { at: '2026-01-01T00:00:00.000Z', seq: 42 };

  it('round-trips a position for the same purpose and org', () => {
    const cursor = codec.encode('mints', ORG, position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(codec.decode('mints', ORG, cursor)).toEqual(position);
  });

  it('is opaque only in name: the payload is the position, bound by an HMAC', () => {
    const cursor = codec.encode('events', ORG, { at: position.at, id: OTHER_ORG });
    const [payload, signature] = cursor.split('.');
    expect(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).toEqual({ at: position.at, id: OTHER_ORG });
    expect(signature).toBe(signFor('test-secret', 'events', ORG, payload));
  });

  it("refuses another org's cursor", () => {
    expectRefused(codec, 'mints', OTHER_ORG, codec.encode('mints', ORG, position));
  });

  it("refuses another list's cursor", () => {
    expectRefused(codec, 'mints', ORG, codec.encode('events', ORG, { at: position.at, id: OTHER_ORG }));
    expectRefused(codec, 'events', ORG, codec.encode('mints', ORG, position));
  });

  it('refuses a cursor signed with another key', () => {
    expectRefused(codec, 'mints', ORG, codecWith('another-secret').encode('mints', ORG, position));
  });

  it('refuses an edited payload', () => {
    const [, signature] = codec.encode('mints', ORG, position).split('.');
    const forged = Buffer.from(JSON.stringify({ ...position, seq: 41 }), 'utf8').toString('base64url');
    expectRefused(codec, 'mints', ORG, `${forged}.${signature}`);
  });

  it('refuses every single-character edit of a cursor', () => {
    const cursor = codec.encode('mints', ORG, position);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < cursor.length; i += 1) {
      if (cursor[i] === '.') continue;
      const replacement = alphabet[(alphabet.indexOf(cursor[i]) + 1) % alphabet.length];
      expectRefused(codec, 'mints', ORG, cursor.slice(0, i) + replacement + cursor.slice(i + 1));
    }
  });

  it('refuses another spelling of the same signature bytes (unused low bits of the last character)', () => {
    const cursor = codec.encode('mints', ORG, position);
    // 32 bytes are 43 base64url characters; the last one carries 2 unused bits.
    const last = cursor[cursor.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1];
    const respelled = cursor.slice(0, -1) + sibling;
    expect(Buffer.from(respelled.split('.')[1], 'base64url')).toEqual(Buffer.from(cursor.split('.')[1], 'base64url'));
    expectRefused(codec, 'mints', ORG, respelled);
    expectRefused(codec, 'mints', ORG, `${cursor}=`);
    expectRefused(codec, 'mints', ORG, `${cursor}!`);
  });

  it.each([
    ['empty', ''],
    ['no dot', 'abc'],
    ['no signature', 'abc.'],
    ['no payload', '.abc'],
    ['three parts', 'a.b.c'],
    ['a JSON text', '{"at":"2026-01-01T00:00:00.000Z","seq":1}'],
    ['garbage', '%%%.%%%'],
  ])('refuses a made-up cursor: %s', (_label, cursor) => {
    expectRefused(codec, 'mints', ORG, cursor);
  });

  it('refuses a cursor longer than 512 characters, even when it is validly signed', () => {
    const cursor = codec.encode('mints', ORG, { at: position.at, seq: 1, pad: 'x'.repeat(400) });
    expect(cursor.length).toBeGreaterThan(512);
    expectRefused(codec, 'mints', ORG, cursor);
  });

  it('refuses a validly signed payload that is not a JSON object', () => {
    for (const text of ['not json', '[1,2]', 'null', '42', '"text"']) {
      const payload = Buffer.from(text, 'utf8').toString('base64url');
      expectRefused(codec, 'mints', ORG, `${payload}.${signFor('test-secret', 'mints', ORG, payload)}`);
    }
  });

  it('never throws anything but a 400 for random input', () => {
    for (let i = 0; i < 500; i += 1) {
      const length = Math.floor(Math.random() * 80);
      const cursor = Array.from({ length }, () => String.fromCharCode(32 + Math.floor(Math.random() * 95))).join('');
      expectRefused(codec, 'mints', ORG, cursor);
    }
  });
});
