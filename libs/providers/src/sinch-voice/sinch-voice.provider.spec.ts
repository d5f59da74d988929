import { runInThisContext } from 'node:vm';
import { verify } from 'jsonwebtoken';
import { ManualClock } from '@mintline/common/clock';
import { deriveSinchSigningKey } from '@mintline/providers/sinch-voice/sinch-registration-token';
import { SinchVoiceProvider } from '@mintline/providers/sinch-voice/sinch-voice.provider';

const credentials = {
  applicationKey: 'a32e5a8d-f7d8-411c-9645-9038e8dd051d',
  applicationSecret: 'ax8hTTQJF0OPXL32r1LHMA==',
};
const userId = '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f';

// Jest's process.env is a copy, so TZ is set on the real process (see sinch-registration-token.spec.ts).
const realProcess = runInThisContext('process') as NodeJS.Process;
const originalTimezone = realProcess.env.TZ;
// UTC+14, so the clock's 23:59:59Z below is already the next day locally.
realProcess.env.TZ = 'Pacific/Kiritimati';
afterAll(() => {
  if (originalTimezone === undefined) delete realProcess.env.TZ;
  else realProcess.env.TZ = originalTimezone;
});

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('SinchVoiceProvider', () => {
  const instant = Date.UTC(2026, 2, 14, 23, 59, 59, 250);
  const iat = Math.floor(instant / 1000);
  let clock: ManualClock;
  let provider: SinchVoiceProvider;

  beforeEach(() => {
    clock = new ManualClock(instant);
    provider = new SinchVoiceProvider(clock);
  });

  it('is named sinch', () => {
    expect(provider.name).toBe('sinch');
  });

  it('mints a token with iat from the clock and exp = iat + 600', async () => {
    const { token, expiresAt } = await provider.mint(credentials, { userId });

    expect(claimsOf(token)).toMatchObject({
      iat,
      exp: iat + 600,
      iss: `//rtc.sinch.com/applications/${credentials.applicationKey}`,
      sub: `//rtc.sinch.com/applications/${credentials.applicationKey}/users/${userId}`,
    });
    expect(expiresAt).toEqual(new Date((iat + 600) * 1000));
  });

  it('runs where the local date is not the UTC date', () => {
    expect(new Date(instant).getDate()).not.toBe(new Date(instant).getUTCDate());
  });

  it('signs with the key derived for the UTC date of iat', async () => {
    const { token } = await provider.mint(credentials, { userId });

    const key = deriveSinchSigningKey(credentials.applicationSecret, '20260314');
    expect(verify(token, key, { algorithms: ['HS256'], clockTimestamp: iat })).toMatchObject({ iat });
  });

  it('produces a token Sinch would accept until exp', async () => {
    const { token } = await provider.mint(credentials, { userId });
    const key = deriveSinchSigningKey(credentials.applicationSecret, '20260314');

    expect(() => verify(token, key, { algorithms: ['HS256'], clockTimestamp: iat + 599 })).not.toThrow();
    expect(() => verify(token, key, { algorithms: ['HS256'], clockTimestamp: iat + 600 })).toThrow('jwt expired');
  });

  it('uses a fresh random nonce for every mint', async () => {
    const nonces = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      nonces.add(claimsOf((await provider.mint(credentials, { userId })).token).nonce);
    }
    expect(nonces.size).toBe(5);
    for (const nonce of nonces) {
      expect(nonce).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('follows the clock when it moves', async () => {
    clock.advance(1000);
    const { token, expiresAt } = await provider.mint(credentials, { userId });

    expect(claimsOf(token)).toMatchObject({ iat: iat + 1, exp: iat + 601 });
    expect(expiresAt).toEqual(new Date((iat + 601) * 1000));
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'))).toEqual({
      alg: 'HS256',
      kid: 'hkdfv1-20260315',
    });
  });
});
