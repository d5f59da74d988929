import { ApiError, ErrorDetail } from '@mintline/common/errors/api-error';
import { parseChatTokenRequest } from './chat-token-request';

const valid = { ttl: 60, channels: { lobby: { read: true, write: false } } };

function channelsOf(count: number): Record<string, { read: boolean; write: boolean }> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`c${i}`, { read: true, write: true }]));
}

function violations(body: unknown): ErrorDetail[] {
  try {
    parseChatTokenRequest(body);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 422, code: 'VALIDATION_FAILED' });
    return (error as ApiError).details ?? [];
  }
  throw new Error('expected a validation error');
}

function fields(body: unknown): string[] {
  return violations(body).map((d) => d.field);
}

describe('parseChatTokenRequest', () => {
  it('accepts a minimal request and fills member_id with a random UUID', () => {
    const parsed = parseChatTokenRequest(valid);
    expect(parsed).toEqual({ ...valid, member_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(parsed.state).toBeUndefined();
    expect(parseChatTokenRequest(valid).member_id).not.toBe(parsed.member_id);
  });

  it('keeps a given member_id and state', () => {
    const parsed = parseChatTokenRequest({ ...valid, member_id: 'agent-7', state: { room: 1 } });
    expect(parsed).toEqual({ ...valid, member_id: 'agent-7', state: { room: 1 } });
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'x', 5, undefined]) expect(fields(body)).toEqual(['body']);
  });

  it('rejects unknown top-level fields', () => {
    expect(violations({ ...valid, extra: 1, admin: true })).toEqual([
      { field: 'extra', message: 'is not an allowed field' },
      { field: 'admin', message: 'is not an allowed field' },
    ]);
  });

  describe('ttl', () => {
    it.each([1, 43_200])('accepts %d', (ttl) => {
      expect(parseChatTokenRequest({ ...valid, ttl }).ttl).toBe(ttl);
    });
    it.each([0, 43_201, -5])('rejects %d', (ttl) => {
      expect(fields({ ...valid, ttl })).toEqual(['ttl']);
    });
    it.each([1.5, '60', null, true, Number.NaN, Number.POSITIVE_INFINITY])('rejects a non-integer (%p)', (ttl) => {
      expect(fields({ ...valid, ttl })).toEqual(['ttl']);
    });
    it('is required', () => {
      expect(violations({ channels: valid.channels })).toEqual([{ field: 'ttl', message: 'is required' }]);
    });
  });

  describe('channels', () => {
    it('is required and must be an object', () => {
      expect(violations({ ttl: 1 })).toEqual([{ field: 'channels', message: 'is required' }]);
      for (const channels of [null, [], 'lobby', 3]) expect(fields({ ttl: 1, channels })).toEqual(['channels']);
    });
    it('accepts 1 and 500 channels', () => {
      expect(Object.keys(parseChatTokenRequest({ ttl: 1, channels: channelsOf(1) }).channels)).toHaveLength(1);
      expect(Object.keys(parseChatTokenRequest({ ttl: 1, channels: channelsOf(500) }).channels)).toHaveLength(500);
    });
    it('rejects 0 and 501 channels', () => {
      expect(fields({ ttl: 1, channels: {} })).toEqual(['channels']);
      expect(fields({ ttl: 1, channels: channelsOf(501) })).toEqual(['channels']);
    });
    it('accepts names of 1 and 250 characters, counting characters not UTF-16 units', () => {
      const names = ['a', 'n'.repeat(250), '😀'.repeat(250)];
      for (const name of names) {
        expect(Object.keys(parseChatTokenRequest({ ttl: 1, channels: { [name]: { read: true, write: true } } }).channels)).toEqual([name]);
      }
    });
    it('rejects empty names and names of 251 characters', () => {
      expect(fields({ ttl: 1, channels: { '': { read: true, write: true } } })).toEqual(['channels.']);
      const long = 'n'.repeat(251);
      expect(fields({ ttl: 1, channels: { [long]: { read: true, write: true } } })).toEqual([`channels.${long}`]);
    });
    it('rejects the reserved sw_ prefix, and only as a prefix', () => {
      expect(violations({ ttl: 1, channels: { sw_room: { read: true, write: true } } })).toEqual([
        { field: 'channels.sw_room', message: 'channel name must not start with the reserved prefix "sw_"' },
      ]);
      expect(parseChatTokenRequest({ ttl: 1, channels: { my_sw_room: { read: true, write: true }, sw: { read: true, write: true } } }).channels).toEqual({
        my_sw_room: { read: true, write: true },
        sw: { read: true, write: true },
      });
    });
    it('requires read and write, both booleans, and nothing else', () => {
      expect(violations({ ttl: 1, channels: { a: { read: true } } })).toEqual([{ field: 'channels.a.write', message: 'is required' }]);
      expect(violations({ ttl: 1, channels: { a: {} } })).toEqual([
        { field: 'channels.a.read', message: 'is required' },
        { field: 'channels.a.write', message: 'is required' },
      ]);
      expect(fields({ ttl: 1, channels: { a: { read: 'yes', write: 1 } } })).toEqual(['channels.a.read', 'channels.a.write']);
      expect(fields({ ttl: 1, channels: { a: { read: true, write: true, admin: true } } })).toEqual(['channels.a.admin']);
      expect(fields({ ttl: 1, channels: { a: true, b: null, c: [] } })).toEqual(['channels.a', 'channels.b', 'channels.c']);
    });
    it('keeps only read and write, and a channel named __proto__ stays a channel', () => {
      const channels = JSON.parse('{"__proto__": {"read": true, "write": false}}') as unknown;
      const parsed = parseChatTokenRequest({ ttl: 1, channels });
      expect(Object.keys(parsed.channels)).toEqual(['__proto__']);
      expect(JSON.stringify(parsed.channels)).toBe('{"__proto__":{"read":true,"write":false}}');
    });
  });

  describe('member_id', () => {
    it('accepts 1 and 250 characters', () => {
      expect(parseChatTokenRequest({ ...valid, member_id: 'm' }).member_id).toBe('m');
      expect(parseChatTokenRequest({ ...valid, member_id: 'm'.repeat(250) }).member_id).toHaveLength(250);
    });
    it('rejects 251 characters, the empty string and non-strings', () => {
      for (const member_id of ['m'.repeat(251), '', 42, null, {}]) expect(fields({ ...valid, member_id })).toEqual(['member_id']);
    });
  });

  describe('state', () => {
    // {"k":"…"} is 8 characters around the value.
    const stateOf = (jsonLength: number): Record<string, string> => ({ k: 'v'.repeat(jsonLength - 8) });

    it('accepts an object whose JSON is exactly 2000 characters', () => {
      const state = stateOf(2000);
      expect(JSON.stringify(state)).toHaveLength(2000);
      expect(parseChatTokenRequest({ ...valid, state }).state).toEqual(state);
    });
    it('rejects 2001 characters of JSON', () => {
      expect(fields({ ...valid, state: stateOf(2001) })).toEqual(['state']);
    });
    it('counts characters, not UTF-16 units', () => {
      const state = { k: '😀'.repeat(1992) };
      expect(parseChatTokenRequest({ ...valid, state }).state).toEqual(state);
    });
    it('must be a JSON object, not an array, null or a scalar', () => {
      for (const state of [[], null, 'x', 1, true]) expect(fields({ ...valid, state })).toEqual(['state']);
    });
  });

  it('reports every violation at once', () => {
    expect(fields({ ttl: 0, channels: { sw_x: { read: 1, write: true } }, member_id: 'm'.repeat(251), state: [], extra: 1 })).toEqual([
      'extra',
      'ttl',
      'channels.sw_x',
      'channels.sw_x.read',
      'member_id',
      'state',
    ]);
  });
});
