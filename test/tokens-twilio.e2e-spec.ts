import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import twilio from 'twilio';
import { decodeJwt, expectError, expectStatus, expectValidation } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { Client } from './support/http';
import {
  createApiKey,
  expectNoSecrets,
  fingerprintOf,
  mintEntryOf,
  putSinchVoice,
  randomSinchSecret,
  SINCH_EXAMPLE_KEY,
  twilioCredentials,
  verifySinchToken,
} from './support/minting';
import { postMint, readWholeAudit, ResponseSink, tappedClient, tappedUser } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/tokens/twilio and /api/tokens/sinch end to end, and what the route does whatever the provider:
 * each Twilio token compared with the twilio package's `jwt.AccessToken` built from the same inputs at the
 * same instant (byte for byte); the scope decided by what is asked; the lifetime bounds; the service SIDs a
 * grant needs; another org's user; unknown providers; the audit entry.
 */

const PATH = '/api/tokens/twilio';
const creds = twilioCredentials();
const services = { conversationsServiceSid: `IS${randomBytes(16).toString('hex')}`, syncServiceSid: `IS${randomBytes(16).toString('hex')}` };

let app: TestApp;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; client: Client };
const responses: ResponseSink = [];
const tapped = (token: string | undefined) => tappedClient(app.url, token, responses);
const identityOf = (userId: string) => userId.replace(/-/g, '_');

const mint = (as: Client, body: unknown, path = PATH) => postMint(as, path, body, 'tokens');

interface Asked {
  voice?: { outgoing: boolean };
  video?: { room?: string };
  chat?: boolean;
  sync?: boolean;
}

/**
 * The twilio package builds the token from the same inputs at the token's own instant; ours must be the
 * very same JWT. Returns the decoded payload.
 */
function expectTwilioToken(token: string, userId: string, ttl: number, asked: Asked) {
  const { header, payload } = decodeJwt(token);
  expect(header).toStrictEqual({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });
  const iat = payload.iat as number;
  expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(120);
  expect(jwt.verify(token, creds.apiKeySecret, { algorithms: ['HS256'] })).toMatchObject({ iss: creds.apiKeySid, sub: creds.accountSid });

  const now = jest.spyOn(Date, 'now').mockReturnValue(iat * 1000);
  try {
    const reference = new twilio.jwt.AccessToken(creds.accountSid, creds.apiKeySid, creds.apiKeySecret, { identity: identityOf(userId), ttl });
    if (asked.voice) {
      reference.addGrant(new twilio.jwt.AccessToken.VoiceGrant({ incomingAllow: true, ...(asked.voice.outgoing ? { outgoingApplicationSid: creds.twimlAppSid } : {}) }));
    }
    if (asked.video) reference.addGrant(new twilio.jwt.AccessToken.VideoGrant(asked.video.room ? { room: asked.video.room } : {}));
    if (asked.chat) reference.addGrant(new twilio.jwt.AccessToken.ChatGrant({ serviceSid: services.conversationsServiceSid }));
    if (asked.sync) reference.addGrant(new twilio.jwt.AccessToken.SyncGrant({ serviceSid: services.syncServiceSid }));
    const expected = reference.toJwt();
    expect(decodeJwt(token)).toStrictEqual(decodeJwt(expected));
    expect(token).toBe(expected);
  } finally {
    now.mockRestore();
  }
  expect(payload.exp).toBe(iat + ttl);
  return payload as { iat: number; exp: number; grants: Record<string, unknown> };
}

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Tokens Co');
  admin = tapped(org.adminToken);
  agent = await tappedUser(app, org, 'agent', responses);
});

afterAll(async () => {
  await app?.close();
});

describe('POST /api/tokens/{provider}, whatever the provider', () => {
  it('answers 404 in the envelope for a provider that mints nothing here, without auditing anyone', async () => {
    for (const provider of ['sinch-voice', 'signalwire', 'zoom', '..', 'TWILIO']) {
      const { response, requestId } = await mint(agent.client, {}, `/api/tokens/${encodeURIComponent(provider)}`);
      expectError(response, 404, 'NOT_FOUND');
      expect(await mintEntryOf(admin, requestId)).toBeUndefined();
    }
  });

  it('refuses a body that is not a JSON object, audited as denied', async () => {
    const { response, requestId } = await mint(agent.client, 'voice');
    expect(expectValidation(response, 'body').details).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'twilio', outcome: 'denied', code: 'VALIDATION_FAILED' }));
  });
});

describe('POST /api/tokens/sinch', () => {
  it('answers 400 SINCH_NOT_CONFIGURED, then what GET /api/calls/token/sinch answers', async () => {
    expectError((await mint(agent.client, {}, '/api/tokens/sinch')).response, 400, 'SINCH_NOT_CONFIGURED');
    const secret = randomSinchSecret();
    await putSinchVoice(admin, SINCH_EXAMPLE_KEY, secret);
    expectStatus(await admin.post(`/api/users/${agent.id}/phone-numbers`, { provider: 'sinch', phoneNumber: '+14165550100' }), 201);

    const { response, requestId } = await mint(agent.client, {}, '/api/tokens/sinch');
    expectStatus(response, 200);
    const old = await agent.client.get('/api/calls/token/sinch');
    expectStatus(old, 200);
    const shape = { token: expect.any(String), applicationKey: SINCH_EXAMPLE_KEY, userId: agent.id, callerIdentifier: '+14165550100', expiresIn: 600 };
    expect(response.body).toStrictEqual(shape);
    expect(old.body).toStrictEqual(shape);
    verifySinchToken(response.body.token, SINCH_EXAMPLE_KEY, secret, agent.id);
    expect(await mintEntryOf(admin, requestId)).toEqual(
      expect.objectContaining({ provider: 'sinch', target: `sinch:${SINCH_EXAMPLE_KEY}`, outcome: 'issued', tokenFingerprint: fingerprintOf(response.body.token) }),
    );

    // Its lifetime is Sinch's own: nothing to ask for.
    expectValidation((await mint(agent.client, { ttlSeconds: 600 }, '/api/tokens/sinch')).response, 'ttlSeconds');
    const key = await createApiKey(admin, ['CREATE_CALL_TOKEN']);
    const byKey = await mint(tapped(key.token), { userId: agent.id }, '/api/tokens/sinch');
    expectStatus(byKey.response, 200);
    verifySinchToken(byKey.response.body.token, SINCH_EXAMPLE_KEY, secret, agent.id);
  });
});

describe('POST /api/tokens/twilio', () => {
  it('answers 400 TWILIO_NOT_CONFIGURED without credentials, audited as denied', async () => {
    const { response, requestId } = await mint(agent.client, {});
    expectError(response, 400, 'TWILIO_NOT_CONFIGURED');
    expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'twilio', outcome: 'denied', code: 'TWILIO_NOT_CONFIGURED' }));
    expectStatus(await admin.put('/api/credentials/twilio', creds), 200);
  });

  it('mints a voice AccessToken by default (1 hour), the same JWT the twilio package makes, audited as twilio:voice', async () => {
    const { response, requestId } = await mint(agent.client, {});
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({ token: expect.any(String), identity: identityOf(agent.id), userId: agent.id, expiresIn: 3600 });
    const payload = expectTwilioToken(response.body.token, agent.id, 3600, { voice: { outgoing: true } });
    expect(payload.grants).toStrictEqual({ identity: identityOf(agent.id), voice: { incoming: { allow: true }, outgoing: { application_sid: creds.twimlAppSid } } });
    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        provider: 'twilio',
        target: 'twilio:voice',
        outcome: 'issued',
        subjectUserId: agent.id,
        tokenFingerprint: fingerprintOf(response.body.token),
      }),
    );
    expect(Date.parse(entry.expiresAt)).toBe(payload.exp * 1000);
  });

  it('a grant whose service SID is not stored is 400 TWILIO_NOT_CONFIGURED', async () => {
    expectError((await mint(agent.client, { voice: false, conversations: true })).response, 400, 'TWILIO_NOT_CONFIGURED');
    expectError((await mint(agent.client, { sync: true })).response, 400, 'TWILIO_NOT_CONFIGURED');
    expectStatus(await admin.put('/api/credentials/twilio', { ...creds, ...services }), 200);
  });

  it('mints video (with and without a room), chat (Conversations) and data_sync (Sync) grants as asked, each as the twilio package writes it', async () => {
    const all = await mint(agent.client, { voice: true, video: { room: 'standup' }, conversations: true, sync: true, ttlSeconds: 900 });
    expectStatus(all.response, 200);
    expect(all.response.body.expiresIn).toBe(900);
    const payload = expectTwilioToken(all.response.body.token, agent.id, 900, { voice: { outgoing: true }, video: { room: 'standup' }, chat: true, sync: true });
    expect(payload.grants).toStrictEqual({
      identity: identityOf(agent.id),
      voice: { incoming: { allow: true }, outgoing: { application_sid: creds.twimlAppSid } },
      video: { room: 'standup' },
      chat: { service_sid: services.conversationsServiceSid },
      data_sync: { service_sid: services.syncServiceSid },
    });
    expect(await mintEntryOf(admin, all.requestId)).toEqual(expect.objectContaining({ target: 'twilio:voice,video:standup,conversations,sync' }));

    const videoOnly = await mint(agent.client, { voice: false, video: {} });
    expectStatus(videoOnly.response, 200);
    expect(expectTwilioToken(videoOnly.response.body.token, agent.id, 3600, { video: {} }).grants).toStrictEqual({ identity: identityOf(agent.id), video: {} });

    const chatOnly = await mint(agent.client, { voice: false, conversations: true });
    expectStatus(chatOnly.response, 200);
    expect(expectTwilioToken(chatOnly.response.body.token, agent.id, 3600, { chat: true }).grants).toStrictEqual({
      identity: identityOf(agent.id),
      chat: { service_sid: services.conversationsServiceSid },
    });
  });

  it.each([
    [60, 200],
    [86_400, 200],
    [59, 400],
    [86_401, 400],
  ])('ttlSeconds %p → %p', async (ttlSeconds, status) => {
    const { response } = await mint(agent.client, { ttlSeconds });
    if (status === 400) {
      expect(expectValidation(response, 'ttlSeconds').details).toEqual([{ field: 'ttlSeconds', message: 'must be an integer from 60 to 86400' }]);
      return;
    }
    expectStatus(response, 200);
    expect(response.body.expiresIn).toBe(ttlSeconds);
    expectTwilioToken(response.body.token, agent.id, ttlSeconds, { voice: { outgoing: true } });
  });

  it('refuses a token that grants nothing, bad grant values and unknown fields, naming each', async () => {
    expectValidation((await mint(agent.client, { voice: false })).response, 'voice');
    const bad = expectValidation((await mint(agent.client, { voice: 'yes', video: { room: '', screen: true }, conversations: 1, chat: true })).response);
    expect(bad.details).toEqual(
      expect.arrayContaining([
        { field: 'voice', message: 'must be true or false' },
        { field: 'video.room', message: 'must be 1 to 128 characters' },
        { field: 'video.screen', message: 'is not a field of a twilio token request' },
        { field: 'conversations', message: 'must be true or false' },
        { field: 'chat', message: 'is not a field of a twilio token request' },
      ]),
    );
    expectValidation((await mint(agent.client, { video: 'standup' })).response, 'video');
  });

  describe('scopes follow what is asked', () => {
    let callOnly: Client;
    let chatOnly: Client;
    beforeAll(async () => {
      callOnly = tapped((await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'call only')).token);
      chatOnly = tapped((await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'chat only')).token);
    });

    it('CREATE_CHAT_TOKEN alone mints a token of only Conversations and/or Sync', async () => {
      for (const body of [
        { voice: false, conversations: true },
        { voice: false, sync: true },
        { voice: false, conversations: true, sync: true },
      ]) {
        const { response } = await mint(chatOnly, { userId: agent.id, ...body });
        expectStatus(response, 200);
        expect(Object.keys(decodeJwt(response.body.token).payload.grants as object).sort()).toEqual(
          ['identity', ...(body.conversations ? ['chat'] : []), ...(body.sync ? ['data_sync'] : [])].sort(),
        );
      }
    });

    it('CREATE_CHAT_TOKEN alone cannot mint voice or video: 403 MISSING_SCOPE, audited as a denied twilio mint', async () => {
      for (const body of [{}, { voice: true }, { voice: false, video: {} }, { conversations: true }, { voice: false, video: {}, sync: true }]) {
        const { response, requestId } = await mint(chatOnly, { userId: agent.id, ...body });
        expectError(response, 403, 'MISSING_SCOPE');
        expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'twilio', outcome: 'denied', code: 'MISSING_SCOPE' }));
      }
    });

    it('CREATE_CALL_TOKEN alone mints voice and video, but no Conversations or Sync grant', async () => {
      expectStatus((await mint(callOnly, { userId: agent.id, video: { room: 'a' } })).response, 200);
      for (const body of [{ voice: false, conversations: true }, { sync: true }, { video: {}, conversations: true }]) {
        expectError((await mint(callOnly, { userId: agent.id, ...body })).response, 403, 'MISSING_SCOPE');
      }
    });

    it('an auditor (neither scope) is refused whatever it asks', async () => {
      const auditor = await createUser(app, org, 'auditor');
      for (const body of [{}, { voice: false, sync: true }]) expectError((await mint(tapped(auditor.token), body)).response, 403, 'MISSING_SCOPE');
    });
  });

  it("an API key names the user in the body; another org's user is 404", async () => {
    const key = tapped((await createApiKey(admin, ['CREATE_CALL_TOKEN'])).token);
    const { response } = await mint(key, { userId: org.adminId });
    expectStatus(response, 200);
    expectTwilioToken(response.body.token, org.adminId, 3600, { voice: { outgoing: true } });
    const other = await createOrgWithAdmin(app, 'Other Tokens Co');
    const foreign = await mint(key, { userId: other.adminId });
    expectError(foreign.response, 404, 'NOT_FOUND');
    expect(await mintEntryOf(admin, foreign.requestId)).toEqual(expect.objectContaining({ provider: 'twilio', outcome: 'denied', code: 'NOT_FOUND' }));
  });

  it('the existing GET /api/calls/token/twilio is unchanged by the new service SIDs', async () => {
    const response = await agent.client.get('/api/calls/token/twilio');
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({ token: expect.any(String), identity: identityOf(agent.id), userId: agent.id, callerIdentifier: '', expiresIn: 3600 });
    expectTwilioToken(response.body.token, agent.id, 3600, { voice: { outgoing: true } });
  });

  it('never shows the API key secret anywhere', async () => {
    await readWholeAudit(admin);
    expectNoSecrets('responses', responses.join('\n'), [creds.apiKeySecret]);
    expectNoSecrets('logs', app.logs.join(''), [creds.apiKeySecret]);
  });
});
