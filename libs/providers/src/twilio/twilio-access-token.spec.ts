import twilio from 'twilio';
import { buildTwilioAccessToken } from './twilio-access-token';

const hex = '0123456789abcdef0123456789abcdef';
const base = { accountSid: `AC${hex}`, apiKeySid: `SK${hex}`, apiKeySecret: 'twilio-unit-secret-0123456789ab', identity: 'user_1', ttlSeconds: 900 };
const CHAT = `IS${hex.replace('0', 'c')}`;
const SYNC = `IS${hex.replace('0', 'd')}`;

/** The twilio package's token for the same inputs, at the same instant. */
function reference(
  issuedAt: number,
  grants: InstanceType<
    typeof twilio.jwt.AccessToken.VoiceGrant | typeof twilio.jwt.AccessToken.VideoGrant | typeof twilio.jwt.AccessToken.ChatGrant | typeof twilio.jwt.AccessToken.SyncGrant
  >[],
): string {
  const now = jest.spyOn(Date, 'now').mockReturnValue(issuedAt * 1000);
  try {
    const token = new twilio.jwt.AccessToken(base.accountSid, base.apiKeySid, base.apiKeySecret, { identity: base.identity, ttl: base.ttlSeconds });
    for (const grant of grants) token.addGrant(grant);
    return token.toJwt();
  } finally {
    now.mockRestore();
  }
}

describe('buildTwilioAccessToken', () => {
  const issuedAt = 1_764_000_000;
  const { AccessToken } = twilio.jwt;

  it.each([
    ['voice with outgoing', { voice: { outgoingApplicationSid: `AP${hex}` } }, [new AccessToken.VoiceGrant({ incomingAllow: true, outgoingApplicationSid: `AP${hex}` })]],
    ['voice without outgoing (no publish rights)', { voice: {} }, [new AccessToken.VoiceGrant({ incomingAllow: true })]],
    ['video for a room', { video: { room: 'standup' } }, [new AccessToken.VideoGrant({ room: 'standup' })]],
    ['video for any room', { video: {} }, [new AccessToken.VideoGrant()]],
    ['chat', { chat: { serviceSid: CHAT } }, [new AccessToken.ChatGrant({ serviceSid: CHAT })]],
    ['data_sync', { dataSync: { serviceSid: SYNC } }, [new AccessToken.SyncGrant({ serviceSid: SYNC })]],
    [
      'all four, in the package order',
      { voice: { outgoingApplicationSid: `AP${hex}` }, video: { room: 'r' }, chat: { serviceSid: CHAT }, dataSync: { serviceSid: SYNC } },
      [
        new AccessToken.VoiceGrant({ incomingAllow: true, outgoingApplicationSid: `AP${hex}` }),
        new AccessToken.VideoGrant({ room: 'r' }),
        new AccessToken.ChatGrant({ serviceSid: CHAT }),
        new AccessToken.SyncGrant({ serviceSid: SYNC }),
      ],
    ],
  ])('%s: the very JWT the twilio package makes', (_name, grants, referenceGrants) => {
    expect(buildTwilioAccessToken({ ...base, issuedAt, grants })).toBe(reference(issuedAt, referenceGrants));
  });

  it('refuses an empty secret or identity', () => {
    expect(() => buildTwilioAccessToken({ ...base, apiKeySecret: '', issuedAt, grants: {} })).toThrow(/apiKeySecret/);
    expect(() => buildTwilioAccessToken({ ...base, identity: '', issuedAt, grants: {} })).toThrow(/identity/);
  });
});
