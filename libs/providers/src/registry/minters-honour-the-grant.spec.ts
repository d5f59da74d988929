import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { ManualClock } from '@mintline/common/clock';
import { ApiError } from '@mintline/common/errors/api-error';
import { LiveKitTokens } from '../livekit/livekit.tokens';
import { TwilioTokens } from '../twilio/twilio.tokens';
import { VonageTokens } from '../vonage/vonage.tokens';
import type { MintGrant } from './mint-grant';
import type { MintSubject } from './provider-entry';

/**
 * Each minter makes its token from the grant in force (what the org's token policy left of the declared
 * one), not from the request: a shortened lifetime shortens `exp` and `expiresIn`, and publish 'none'
 * takes the publish rights the provider has.
 */

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const clock = new ManualClock(NOW);
const subject: MintSubject = { orgId: randomUUID(), userId: randomUUID(), name: async () => 'Ada', callerId: async () => '' };
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, any>;
const narrowed = (grant: Partial<MintGrant>): MintGrant => ({ room: 'r', ttlSeconds: 120, fixedTtl: false, publish: 'none', ...grant });

describe('LiveKitTokens', () => {
  const fields = { url: 'wss://example.livekit.cloud', apiKey: 'APIx', apiSecret: 'livekit-unit-secret-0123456789' };
  const request = { room: 'r', ttlSeconds: 3600, canPublish: true, canSubscribe: true, canPublishData: true, publishAsked: true, publishRefused: false };

  it('takes the lifetime of the grant in force, and with publish none neither media nor data', async () => {
    const minted = await new LiveKitTokens(clock).mint({ fields, request, subject, grant: narrowed({}) });
    expect(minted.expiresIn).toBe(120);
    expect(minted.expiresAt.getTime()).toBe(NOW + 120_000);
    const claims = claimsOf(minted.token);
    expect(claims.exp - claims.nbf).toBe(120);
    expect(claims.video).toEqual({ roomJoin: true, room: 'r', canPublish: false, canSubscribe: true, canPublishData: false });
  });

  it('keeps what was asked when the grant keeps publish rights', async () => {
    const minted = await new LiveKitTokens(clock).mint({
      fields,
      request: { ...request, canPublishData: false },
      subject,
      grant: narrowed({ publish: 'asked', ttlSeconds: 3600 }),
    });
    expect(claimsOf(minted.token).video).toEqual({ roomJoin: true, room: 'r', canPublish: true, canSubscribe: true, canPublishData: false });
    expect(minted.answer).toEqual({ url: fields.url, identity: subject.userId, room: 'r' });
  });
});

describe('TwilioTokens', () => {
  const hex = '0123456789abcdef0123456789abcdef';
  const fields = { accountSid: `AC${hex}`, apiKeySid: `SK${hex}`, apiKeySecret: 'twilio-unit-secret', twimlAppSid: `AP${hex}`, conversationsServiceSid: `IS${hex}` };
  const request = { ttlSeconds: 3600, voice: true, voiceAsked: true, conversations: false, sync: false };

  it('with publish none, a voice grant that only receives calls; the lifetime of the grant', async () => {
    const minted = await new TwilioTokens(clock).mint({ fields, request, subject, grant: narrowed({ room: null }) });
    const claims = claimsOf(minted.token);
    expect(claims.grants.voice).toEqual({ incoming: { allow: true } });
    expect(claims.exp - claims.iat).toBe(120);
    expect(minted.expiresIn).toBe(120);
  });

  it('a grant whose service SID is missing is 400 TWILIO_NOT_CONFIGURED', async () => {
    const minting = new TwilioTokens(clock).mint({ fields, request: { ...request, sync: true }, subject, grant: narrowed({ publish: 'default' }) });
    await expect(minting).rejects.toThrow(ApiError);
    await expect(minting).rejects.toMatchObject({ status: 400, code: 'TWILIO_NOT_CONFIGURED' });
  });
});

describe('VonageTokens', () => {
  it('takes the lifetime of the grant in force', async () => {
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const minted = await new VonageTokens(clock).mint({
      fields: { applicationId: randomUUID(), privateKey },
      request: { ttlSeconds: 900 },
      subject,
      grant: narrowed({ room: null, publish: 'default' }),
    });
    const claims = claimsOf(minted.token);
    expect(claims.exp - claims.iat).toBe(120);
    expect(claims.iat).toBe(NOW / 1000);
    expect(minted.answer.sub).toBe(subject.userId);
  });
});
