import { parseAgoraToken } from './support/agora-reference';
import { expectError, expectStatus, expectValidation, ISO_PATTERN } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { Client } from './support/http';
import { createApiKey, dumpDatabase, expectNoSecrets, fingerprintOf, mintEntryOf, randomHex } from './support/minting';
import { postMint, readWholeAudit, ResponseSink, tappedClient, tappedUser } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/tokens/agora end to end: the real service on its own database mints Agora AccessToken2
 * tokens locally, and Agora's own library (agora-token) parses each one and checks its signature with
 * the org's App Certificate; privileges, account, channel and expiry are read from the parsed token.
 */

const PATH = '/api/tokens/agora';
/** Every character Agora allows in a channel name (its RTC API reference), 31 of them. */
const EVERY_AGORA_CHARACTER = 'aZ09 !#$%&()+-:;<=.>?@[]^_{|}~,';

let app: TestApp;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; client: Client };
let auditor: { id: string; client: Client };
const agora = { appId: randomHex(16), appCertificate: randomHex(16) };
const responses: ResponseSink = [];

function tapped(token: string | undefined): Client {
  return tappedClient(app.url, token, responses);
}

const mint = (as: Client, body: unknown) => postMint(as, PATH, body, 'agora');

/** The token of a 200 answer, parsed and verified by agora-token with the org's certificate. */
function parsed(token: string) {
  const result = parseAgoraToken(token, agora.appCertificate);
  expect(result.verified).toBe(true);
  return result;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Agora Co');
  admin = tapped(org.adminToken);
  agent = await tappedUser(app, org, 'agent', responses);
  auditor = await tappedUser(app, org, 'auditor', responses);
  const put = await admin.put('/api/credentials/agora', agora);
  expectStatus(put, 200);
  expect(put.body.fields).toEqual({ appId: agora.appId, appCertificate: `••••${agora.appCertificate.slice(-4)}` });
});

afterAll(async () => {
  await app?.close();
});

describe('RTC tokens', () => {
  it('a publisher token for the user account: agora-token verifies it; join and publish audio, video and data for the asked lifetime', async () => {
    const before = nowSeconds();
    const { response, requestId } = await mint(agent.client, { channel: 'support desk 1' });
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({
      token: expect.stringMatching(/^007[A-Za-z0-9+/]+=*$/),
      appId: agora.appId,
      channel: 'support desk 1',
      account: agent.id,
      userId: agent.id,
      expiresIn: 3600,
    });
    const token = parsed(response.body.token);
    expect(token.appId).toBe(agora.appId);
    expect(token.issueTs).toBeGreaterThanOrEqual(before - 1);
    expect(token.issueTs).toBeLessThanOrEqual(nowSeconds() + 1);
    expect(token.expire).toBe(3600);
    expect(token.salt).toBeGreaterThanOrEqual(1);
    expect(token.salt).toBeLessThanOrEqual(99_999_999);
    expect(token.services).toEqual([{ type: 1, privileges: { 1: 3600, 2: 3600, 3: 3600, 4: 3600 }, channel: 'support desk 1', account: agent.id }]);
    // Signed with the org's certificate and no other.
    expect(parseAgoraToken(response.body.token, randomHex(16)).verified).toBe(false);

    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        orgId: org.orgId,
        provider: 'agora',
        actor: { kind: 'user', id: agent.id },
        subjectUserId: agent.id,
        target: 'agora:channel:support desk 1',
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(response.body.token),
        expiresAt: expect.stringMatching(ISO_PATTERN),
        requestId,
      }),
    );
    expect(Date.parse(entry.expiresAt)).toBe((token.issueTs + 3600) * 1000);
  });

  it('a subscriber joins only; the role asked explicitly as publisher is the publisher token', async () => {
    const subscriber = await mint(agent.client, { channel: 'town hall', role: 'subscriber', ttlSeconds: 600 });
    expectStatus(subscriber.response, 200);
    expect(subscriber.response.body.expiresIn).toBe(600);
    const token = parsed(subscriber.response.body.token);
    expect(token.expire).toBe(600);
    expect(token.services).toEqual([{ type: 1, privileges: { 1: 600 }, channel: 'town hall', account: agent.id }]);

    const publisher = await mint(agent.client, { channel: 'town hall', role: 'publisher', service: 'rtc' });
    expectStatus(publisher.response, 200);
    expect(parsed(publisher.response.body.token).services[0].privileges).toEqual({ 1: 3600, 2: 3600, 3: 3600, 4: 3600 });
  });

  it("takes every character of Agora's set, up to 64 of them", async () => {
    for (const channel of [EVERY_AGORA_CHARACTER, 'x'.repeat(64), 'a']) {
      const { response } = await mint(agent.client, { channel });
      expectStatus(response, 200);
      expect(parsed(response.body.token).services[0].channel).toBe(channel);
    }
  });

  it('refuses a missing, empty, too long or foreign-character channel (400 naming channel), and audits the refusal', async () => {
    for (const body of [{}, { channel: '' }, { channel: 'x'.repeat(65) }, { channel: 'a/b' }, { channel: 'café' }, { channel: 'quote"' }, { channel: 42 }]) {
      const { response } = await mint(agent.client, body);
      expectValidation(response, 'channel');
    }
    const { response, requestId } = await mint(agent.client, { channel: 'tab\there' });
    expectValidation(response, 'channel');
    expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'agora', outcome: 'denied', code: 'VALIDATION_FAILED', tokenFingerprint: null }));
  });

  it('refuses an unknown field, a bad role or service, naming each', async () => {
    expectValidation((await mint(agent.client, { channel: 'c', roomAdmin: true })).response, 'roomAdmin');
    expectValidation((await mint(agent.client, { channel: 'c', role: 'admin' })).response, 'role');
    expectValidation((await mint(agent.client, { channel: 'c', service: 'chat' })).response, 'service');
    expectValidation((await mint(agent.client, { channel: 'c', role: 'host', ttlSeconds: 0 })).response, 'role', 'ttlSeconds');
  });
});

describe('RTM tokens', () => {
  it('log the user id in; the channel is not needed and, when sent, ignored', async () => {
    for (const body of [{ service: 'rtm' }, { service: 'rtm', channel: 'not/a/channel', ttlSeconds: 120 }]) {
      const { response, requestId } = await mint(agent.client, body);
      expectStatus(response, 200);
      const ttl = body.ttlSeconds ?? 3600;
      expect(response.body).toStrictEqual({ token: expect.stringMatching(/^007/), appId: agora.appId, channel: null, account: agent.id, userId: agent.id, expiresIn: ttl });
      const token = parsed(response.body.token);
      expect(token.expire).toBe(ttl);
      expect(token.services).toEqual([{ type: 2, privileges: { 1: ttl }, userId: agent.id }]);
      expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'agora', target: 'agora:rtm', outcome: 'issued', subjectUserId: agent.id }));
    }
  });
});

describe('lifetime', () => {
  it('ttlSeconds is 60..86400: at each limit the token says so, past it 400', async () => {
    for (const ttlSeconds of [60, 86_400]) {
      const { response } = await mint(agent.client, { channel: 'c', ttlSeconds });
      expectStatus(response, 200);
      expect(response.body.expiresIn).toBe(ttlSeconds);
      expect(parsed(response.body.token).expire).toBe(ttlSeconds);
    }
    for (const ttlSeconds of [59, 86_401, 0, -60, 600.5, '600', null]) {
      expectValidation((await mint(agent.client, { channel: 'c', ttlSeconds })).response, 'ttlSeconds');
    }
  });
});

describe('who may mint', () => {
  it('rtc needs CREATE_CALL_TOKEN and rtm CREATE_CHAT_TOKEN (403 MISSING_SCOPE, audited as denied)', async () => {
    const callKey = await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'agora call');
    const chatKey = await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'agora chat');
    const call = tapped(callKey.token);
    const chat = tapped(chatKey.token);

    const rtc = await mint(call, { userId: agent.id, channel: 'c' });
    expectStatus(rtc.response, 200);
    expect(parsed(rtc.response.body.token).services[0].account).toBe(agent.id);
    expect(await mintEntryOf(admin, rtc.requestId)).toEqual(
      expect.objectContaining({ actor: { kind: 'api_key', id: callKey.id }, subjectUserId: agent.id, outcome: 'issued' }),
    );
    expectError((await mint(call, { userId: agent.id, service: 'rtm' })).response, 403, 'MISSING_SCOPE');

    const rtm = await mint(chat, { userId: agent.id, service: 'rtm' });
    expectStatus(rtm.response, 200);
    expect(parsed(rtm.response.body.token).services[0]).toEqual({ type: 2, privileges: { 1: 3600 }, userId: agent.id });
    const refused = await mint(chat, { userId: agent.id, channel: 'c' });
    expectError(refused.response, 403, 'MISSING_SCOPE');
    expect(await mintEntryOf(admin, refused.requestId)).toEqual(expect.objectContaining({ provider: 'agora', outcome: 'denied', code: 'MISSING_SCOPE' }));

    expectError((await mint(auditor.client, { channel: 'c' })).response, 403, 'MISSING_SCOPE');
  });

  it('an API key must name a user of its org: none → 400, another org → 404', async () => {
    const key = await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'agora backend');
    const backend = tapped(key.token);
    expectValidation((await mint(backend, { channel: 'c' })).response, 'userId');
    const other = await createOrgWithAdmin(app, 'Other Agora Co');
    expectError((await mint(backend, { userId: other.adminId, channel: 'c' })).response, 404, 'NOT_FOUND');
    // A user mints only for itself.
    expectValidation((await mint(agent.client, { userId: auditor.id, channel: 'c' })).response, 'userId');
  });

  it('an org without agora credentials: 400 AGORA_NOT_CONFIGURED, audited', async () => {
    const bare = await createOrgWithAdmin(app, 'No Agora Co');
    const { response, requestId } = await mint(bare.admin, { channel: 'c' });
    expectError(response, 400, 'AGORA_NOT_CONFIGURED');
    expect(await mintEntryOf(bare.admin, requestId)).toEqual(expect.objectContaining({ provider: 'agora', outcome: 'denied', code: 'AGORA_NOT_CONFIGURED' }));
  });
});

describe('credentials', () => {
  it('are 32 hexadecimal characters each (400 naming the field)', async () => {
    const body = expectValidation(await admin.put('/api/credentials/agora', { appId: 'not-hex', appCertificate: randomHex(15) }), 'appId', 'appCertificate');
    expect(JSON.stringify(body)).not.toContain('not-hex');
  });

  it('verify checks their form', async () => {
    const verified = await admin.post('/api/credentials/agora/verify');
    expectStatus(verified, 200);
    expect(verified.body).toStrictEqual({ ok: true, detail: expect.any(String) });
  });

  it('the certificate appears in no answer, log line, audit entry or database row', async () => {
    await readWholeAudit(admin);
    expectNoSecrets('responses', responses.join('\n'), [agora.appCertificate]);
    expectNoSecrets('app.logs', app.logs.join(''), [agora.appCertificate]);
    expectNoSecrets('database', await dumpDatabase(app), [agora.appCertificate]);
    expect(responses.length).toBeGreaterThan(20);
  });
});
