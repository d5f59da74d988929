import { verify } from 'jsonwebtoken';
import AccessToken from 'twilio/lib/jwt/AccessToken';
import { ManualClock } from '@mintline/common/clock';
import { twilioIdentityFor, TwilioVoiceProvider } from '@mintline/providers/twilio/twilio-voice.provider';

const credentials = {
  accountSid: 'AC0123456789abcdef0123456789abcdef',
  apiKeySid: 'SK0123456789abcdef0123456789abcdef',
  apiKeySecret: 'kJ8c2pW5tYq1zR7vN3mX9bL4hF6dS0aG',
  twimlAppSid: 'AP0123456789abcdef0123456789abcdef',
};
const userId = '3f2b8c1e-9d4a-4e6b-8f7c-1a2b3c4d5e6f';
const instant = Date.UTC(2026, 4, 20, 8, 30, 15, 640);
const iat = Math.floor(instant / 1000);

function decode(token: string): { header: unknown; payload: unknown } {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown);
  return { header, payload };
}

/** What the official twilio package mints for the same inputs at the same instant. */
function officialToken(identity: string, at: number): string {
  const spy = jest.spyOn(Date, 'now').mockReturnValue(at);
  try {
    const accessToken = new AccessToken(credentials.accountSid, credentials.apiKeySid, credentials.apiKeySecret, {
      identity,
    });
    accessToken.addGrant(new AccessToken.VoiceGrant({ outgoingApplicationSid: credentials.twimlAppSid, incomingAllow: true }));
    return accessToken.toJwt();
  } finally {
    spy.mockRestore();
  }
}

describe('twilioIdentityFor', () => {
  it('turns a UUID into an identity of [A-Za-z0-9_] only', () => {
    expect(twilioIdentityFor(userId)).toBe('3f2b8c1e_9d4a_4e6b_8f7c_1a2b3c4d5e6f');
    expect(twilioIdentityFor(userId)).toMatch(/^[A-Za-z0-9_]+$/);
  });

  it.each(['', 'user@example.com', 'a b', 'ü-1', 'x.y'])('refuses %p rather than producing other characters', (id) => {
    expect(() => twilioIdentityFor(id)).toThrow();
  });
});

describe('TwilioVoiceProvider', () => {
  let clock: ManualClock;
  let provider: TwilioVoiceProvider;

  beforeEach(() => {
    clock = new ManualClock(instant);
    provider = new TwilioVoiceProvider(clock);
  });

  it('is named twilio', () => {
    expect(provider.name).toBe('twilio');
  });

  it('mints the same token string as the twilio package for the same inputs and iat', async () => {
    const result = await provider.mint(credentials, { userId });
    const expected = officialToken(twilioIdentityFor(userId), instant);

    expect(decode(result.token)).toEqual(decode(expected));
    expect(result.token).toBe(expected);
  });

  it('carries the documented header and claims', async () => {
    const { token, identity, expiresAt } = await provider.mint(credentials, { userId });

    expect(identity).toBe('3f2b8c1e_9d4a_4e6b_8f7c_1a2b3c4d5e6f');
    expect(expiresAt).toEqual(new Date((iat + 3600) * 1000));
    expect(decode(token)).toEqual({
      header: { alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' },
      payload: {
        jti: `${credentials.apiKeySid}-${iat}`,
        grants: {
          identity,
          voice: { incoming: { allow: true }, outgoing: { application_sid: credentials.twimlAppSid } },
        },
        iat,
        exp: iat + 3600,
        iss: credentials.apiKeySid,
        sub: credentials.accountSid,
      },
    });
  });

  it('signs with the API key secret', async () => {
    const { token } = await provider.mint(credentials, { userId });

    expect(verify(token, credentials.apiKeySecret, { algorithms: ['HS256'], clockTimestamp: iat })).toMatchObject({
      iss: credentials.apiKeySid,
    });
    expect(() => verify(token, 'another secret', { algorithms: ['HS256'], clockTimestamp: iat })).toThrow('invalid signature');
    expect(() => verify(token, credentials.apiKeySecret, { algorithms: ['HS256'], clockTimestamp: iat + 3600 })).toThrow('jwt expired');
  });

  it('follows the clock', async () => {
    clock.advance(90_000);
    const { token, expiresAt } = await provider.mint(credentials, { userId });

    expect(token).toBe(officialToken(twilioIdentityFor(userId), instant + 90_000));
    expect(expiresAt).toEqual(new Date((iat + 90 + 3600) * 1000));
  });

  it.each(['accountSid', 'apiKeySid', 'apiKeySecret', 'twimlAppSid'] as const)('refuses credentials with an empty %s', async (field) => {
    await expect(provider.mint({ ...credentials, [field]: '' }, { userId })).rejects.toThrow(field);
  });
});
