import { TokenVerifier } from 'livekit-server-sdk';
import { buildLiveKitAccessToken, buildLiveKitRoomListToken, liveKitApiOrigin } from './livekit-access-token';

const API_KEY = 'APIunit0123';
const API_SECRET = 'unit-secret-0123456789abcdefghij';
const now = () => Math.floor(Date.now() / 1000);

function decode(token: string): { header: unknown; claims: Record<string, unknown> } {
  const [header, claims] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, claims };
}

describe('buildLiveKitAccessToken', () => {
  const input = {
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    identity: '5b7a5a1c-0d6f-4b8e-9a47-3c1f2e4d5a6b',
    name: 'Ada',
    notBefore: now(),
    ttlSeconds: 600,
    grant: { room: 'room-1', canPublish: false, canSubscribe: true, canPublishData: true },
  };

  it('writes the claims livekit-server-sdk writes, and its TokenVerifier accepts them', async () => {
    const token = buildLiveKitAccessToken(input);
    const { header, claims } = decode(token);
    expect(header).toStrictEqual({ alg: 'HS256', typ: 'JWT' });
    expect(claims).toStrictEqual({
      video: { roomJoin: true, room: 'room-1', canPublish: false, canSubscribe: true, canPublishData: true },
      name: 'Ada',
      iss: API_KEY,
      exp: input.notBefore + 600,
      nbf: input.notBefore,
      sub: input.identity,
    });
    expect(await new TokenVerifier(API_KEY, API_SECRET).verify(token)).toStrictEqual(claims);
    await expect(new TokenVerifier(API_KEY, 'another-secret-0123456789abcdef').verify(token)).rejects.toThrow();
  });

  it('leaves the name out when the user has none, and lets nothing but the join rights into the grant', () => {
    const sneaky = { ...input, name: null, grant: { ...input.grant, roomAdmin: true, roomList: true, hidden: true } as typeof input.grant };
    const { claims } = decode(buildLiveKitAccessToken(sneaky));
    expect(claims).not.toHaveProperty('name');
    expect(Object.keys(claims.video as object).sort()).toEqual(['canPublish', 'canPublishData', 'canSubscribe', 'room', 'roomJoin']);
  });

  it('refuses an empty identity or secret', () => {
    expect(() => buildLiveKitAccessToken({ ...input, identity: '' })).toThrow(/identity/);
    expect(() => buildLiveKitAccessToken({ ...input, apiSecret: '' })).toThrow(/secret/);
  });
});

describe('the room-list token and the API origin of the credentials check', () => {
  it('grants roomList and nothing else, verifiable by the SDK', async () => {
    const token = buildLiveKitRoomListToken({ apiKey: API_KEY, apiSecret: API_SECRET, notBefore: now(), ttlSeconds: 60 });
    const claims = await new TokenVerifier(API_KEY, API_SECRET).verify(token);
    expect(claims.video).toStrictEqual({ roomList: true });
    expect(claims).not.toHaveProperty('sub');
  });

  it.each([
    ['wss://example.livekit.cloud', 'https://example.livekit.cloud'],
    ['https://example.livekit.cloud', 'https://example.livekit.cloud'],
    ['wss://rtc.example.com:7880/base', 'https://rtc.example.com:7880/base'],
    ['ws://127.0.0.1:7880', 'http://127.0.0.1:7880'],
  ])('%s → %s', (url, origin) => {
    expect(liveKitApiOrigin(url)).toBe(origin);
  });
});
