import { randomUUID } from 'node:crypto';
import { TokenVerifier } from 'livekit-server-sdk';
import { LiveKitFake, startLiveKitFake } from './fakes/livekit.fake';
import { decodeJwt, expectError, expectStatus, expectValidation } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { Client } from './support/http';
import { createApiKey, expectNoSecrets, fingerprintOf, mintEntryOf } from './support/minting';
import { postMint, readWholeAudit, ResponseSink, tappedClient, tappedUser } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/tokens/livekit end to end: each token verified with livekit-server-sdk's TokenVerifier and
 * checked grant by grant; lifetimes at and past the bounds; who may mint for whom; the audit entry; and
 * the credentials check (RoomService/ListRooms) against a loopback fake of LiveKit's Twirp API.
 */

const PATH = '/api/tokens/livekit';
const ADMIN_GRANTS = ['roomCreate', 'roomAdmin', 'roomList', 'roomRecord', 'ingressAdmin', 'hidden', 'recorder'];

let app: TestApp;
let livekit: LiveKitFake;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; client: Client };
const responses: ResponseSink = [];
const tapped = (token: string | undefined) => tappedClient(app.url, token, responses);

const mint = (as: Client, body: Record<string, unknown>) => postMint(as, PATH, body, 'livekit');

/** Verifies with LiveKit's own library and checks every claim; returns the verified claims. */
async function verifyLiveKitToken(
  token: string,
  expected: { identity: string; name?: string; room: string; ttl: number; canPublish: boolean; canSubscribe: boolean; canPublishData: boolean },
) {
  const claims = (await new TokenVerifier(livekit.apiKey, livekit.apiSecret).verify(token)) as Record<string, unknown>;
  await expect(new TokenVerifier(livekit.apiKey, `${livekit.apiSecret}x`).verify(token)).rejects.toThrow();
  await expect(new TokenVerifier('APIother', livekit.apiSecret).verify(token)).rejects.toThrow();
  expect(decodeJwt(token).header).toStrictEqual({ alg: 'HS256', typ: 'JWT' });
  const nbf = claims.nbf as number;
  expect(Math.abs(nbf - Date.now() / 1000)).toBeLessThan(120);
  expect(claims).toStrictEqual({
    video: { roomJoin: true, room: expected.room, canPublish: expected.canPublish, canSubscribe: expected.canSubscribe, canPublishData: expected.canPublishData },
    ...(expected.name !== undefined ? { name: expected.name } : {}),
    iss: livekit.apiKey,
    exp: nbf + expected.ttl,
    nbf,
    sub: expected.identity,
  });
  for (const grant of ADMIN_GRANTS) expect(claims.video).not.toHaveProperty(grant);
  return claims as { nbf: number; exp: number };
}

beforeAll(async () => {
  livekit = await startLiveKitFake();
  app = await startTestApp({ config: { allowInsecureProviderUrls: true } });
  org = await createOrgWithAdmin(app, 'LiveKit Co');
  admin = tapped(org.adminToken);
  agent = await tappedUser(app, org, 'agent', responses);
  expectStatus(await admin.patch(`/api/users/${agent.id}`, { name: 'Ada Lovelace' }), 200);
});

afterAll(async () => {
  await app?.close();
  await livekit?.close();
});

describe('POST /api/tokens/livekit', () => {
  it('answers 400 LIVEKIT_NOT_CONFIGURED before credentials are stored, audited as denied', async () => {
    const { response, requestId } = await mint(agent.client, { room: 'support-1' });
    expectError(response, 400, 'LIVEKIT_NOT_CONFIGURED');
    expect(await mintEntryOf(admin, requestId)).toEqual(
      expect.objectContaining({ provider: 'livekit', outcome: 'denied', code: 'LIVEKIT_NOT_CONFIGURED', tokenFingerprint: null }),
    );
  });

  it('stores the credentials with the secret masked', async () => {
    const put = await admin.put('/api/credentials/livekit', { url: livekit.wsUrl, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret });
    expectStatus(put, 200);
    expect(put.body.fields).toStrictEqual({ url: livekit.wsUrl, apiKey: livekit.apiKey, apiSecret: `••••${livekit.apiSecret.slice(-4)}` });
  });

  it("mints a room-join token for the user (identity its id, name its name) that LiveKit's TokenVerifier accepts, audited with livekit:<room>", async () => {
    const { response, requestId } = await mint(agent.client, { room: 'support-1' });
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({ token: expect.any(String), url: livekit.wsUrl, identity: agent.id, room: 'support-1', userId: agent.id, expiresIn: 3600 });
    const claims = await verifyLiveKitToken(response.body.token, {
      identity: agent.id,
      name: 'Ada Lovelace',
      room: 'support-1',
      ttl: 3600,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
    });
    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        provider: 'livekit',
        action: 'mint',
        actor: { kind: 'user', id: agent.id },
        subjectUserId: agent.id,
        target: 'livekit:support-1',
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(response.body.token),
      }),
    );
    expect(Date.parse(entry.expiresAt)).toBe(claims.exp * 1000);
  });

  it('takes the publish and subscribe rights as asked, and leaves out a name the user does not have', async () => {
    const { response } = await mint(admin, { room: 'town hall', canPublish: false, canSubscribe: true, canPublishData: false, ttlSeconds: 600 });
    expectStatus(response, 200);
    expect(response.body.expiresIn).toBe(600);
    await verifyLiveKitToken(response.body.token, { identity: org.adminId, room: 'town hall', ttl: 600, canPublish: false, canSubscribe: true, canPublishData: false });
    const listener = await mint(admin, { room: 'town hall', canSubscribe: false });
    await verifyLiveKitToken(listener.response.body.token, {
      identity: org.adminId,
      room: 'town hall',
      ttl: 3600,
      canPublish: true,
      canSubscribe: false,
      canPublishData: true,
    });
  });

  it.each([
    [60, 200],
    [86_400, 200],
    [59, 400],
    [86_401, 400],
    [0, 400],
    [3600.5, 400],
    ['3600', 400],
  ])('ttlSeconds %p → %p', async (ttlSeconds, status) => {
    const { response, requestId } = await mint(agent.client, { room: 'r', ttlSeconds });
    if (status === 200) {
      expectStatus(response, 200);
      expect(response.body.expiresIn).toBe(ttlSeconds);
      const claims = await verifyLiveKitToken(response.body.token, {
        identity: agent.id,
        name: 'Ada Lovelace',
        room: 'r',
        ttl: ttlSeconds as number,
        canPublish: true,
        canSubscribe: true,
        canPublishData: true,
      });
      expect(claims.exp - claims.nbf).toBe(ttlSeconds);
    } else {
      const body = expectValidation(response, 'ttlSeconds');
      expect(body.details).toEqual([{ field: 'ttlSeconds', message: 'must be an integer from 60 to 86400' }]);
      expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'livekit', outcome: 'denied', code: 'VALIDATION_FAILED' }));
    }
  });

  it('refuses a body without a room, with a room too long or carrying control characters, unknown fields, and admin grants asked for', async () => {
    expect(expectValidation((await mint(agent.client, {})).response, 'room').details).toEqual([{ field: 'room', message: 'is required' }]);
    expectValidation((await mint(agent.client, { room: '' })).response, 'room');
    expectValidation((await mint(agent.client, { room: 'x'.repeat(257) })).response, 'room');
    expectStatus((await mint(agent.client, { room: 'x'.repeat(256) })).response, 200);
    expectValidation((await mint(agent.client, { room: 'a\nb' })).response, 'room');
    expectValidation((await mint(agent.client, { room: 7 })).response, 'room');
    const admins = expectValidation(
      (await mint(agent.client, { room: 'r', roomAdmin: true, roomList: true, canPublish: 'yes' })).response,
      'roomAdmin',
      'roomList',
      'canPublish',
    );
    expect(admins.details).toHaveLength(3);
    expect(expectValidation(await agent.client.post(PATH, [{ room: 'r' }]), 'body').details).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
  });

  it("an API key names the user in the body; another org's user is 404, a disabled one 422", async () => {
    const key = await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'livekit backend');
    const keyClient = tapped(key.token);
    const { response, requestId } = await mint(keyClient, { userId: agent.id, room: 'queue-7' });
    expectStatus(response, 200);
    expect(response.body.userId).toBe(agent.id);
    await verifyLiveKitToken(response.body.token, {
      identity: agent.id,
      name: 'Ada Lovelace',
      room: 'queue-7',
      ttl: 3600,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
    });
    expect(await mintEntryOf(admin, requestId)).toEqual(
      expect.objectContaining({ actor: { kind: 'api_key', id: key.id }, subjectUserId: agent.id, target: 'livekit:queue-7' }),
    );

    expectValidation((await mint(keyClient, { room: 'queue-7' })).response, 'userId');
    expectValidation((await mint(keyClient, { room: 'queue-7', userId: 42 })).response, 'userId');
    const other = await createOrgWithAdmin(app, 'Other LiveKit Co');
    const foreign = await mint(keyClient, { userId: other.adminId, room: 'queue-7' });
    expectError(foreign.response, 404, 'NOT_FOUND');
    expect(await mintEntryOf(admin, foreign.requestId)).toEqual(expect.objectContaining({ provider: 'livekit', outcome: 'denied', code: 'NOT_FOUND' }));
    expectError((await mint(keyClient, { userId: randomUUID(), room: 'queue-7' })).response, 404, 'NOT_FOUND');

    const disabled = await createUser(app, org, 'agent');
    expectStatus(await admin.patch(`/api/users/${disabled.id}`, { disabled: true }), 200);
    expectError((await mint(keyClient, { userId: disabled.id, room: 'queue-7' })).response, 422, 'USER_DISABLED');

    // A user mints only for itself.
    expectValidation((await mint(agent.client, { userId: org.adminId, room: 'queue-7' })).response, 'userId');
  });

  it('needs CREATE_CALL_TOKEN: a chat-only key gets 403 MISSING_SCOPE, audited as a denied livekit mint', async () => {
    const key = await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'chat only');
    const { response, requestId } = await mint(tapped(key.token), { userId: agent.id, room: 'r' });
    expectError(response, 403, 'MISSING_SCOPE');
    expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'livekit', outcome: 'denied', code: 'MISSING_SCOPE', tokenFingerprint: null }));
  });
});

describe('POST /api/credentials/livekit/verify (RoomService/ListRooms)', () => {
  it('asks ListRooms with a short roomList token, at the http(s) form of a ws(s) url: ok', async () => {
    livekit.reset();
    const response = await admin.post('/api/credentials/livekit/verify');
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({ ok: true, detail: expect.stringMatching(/accepted/) });
    expect(livekit.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/twirp/livekit.RoomService/ListRooms', auth: 'bearer', authorized: true, body: {} })]);
    expect(livekit.requests[0].contentType).toMatch(/^application\/json/);
    const claims = livekit.tokens[0] as Record<string, unknown>;
    expect(claims.video).toStrictEqual({ roomList: true });
    expect(claims.iss).toBe(livekit.apiKey);
    expect((claims.exp as number) - (claims.nbf as number)).toBeLessThanOrEqual(60);
  });

  it('reports a wrong secret as not ok, without passing the upstream body on', async () => {
    expectStatus(await admin.put('/api/credentials/livekit', { url: livekit.url, apiKey: livekit.apiKey, apiSecret: 'not-the-secret-0000' }), 200);
    const response = await admin.post('/api/credentials/livekit/verify');
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({ ok: false, detail: 'LiveKit rejected the API key or secret (HTTP 401)' });
    expect(response.text).not.toContain('invalid token');
  });

  it('reports an unreachable server as not ok', async () => {
    livekit.failNext('server-error');
    expectStatus(await admin.put('/api/credentials/livekit', { url: livekit.url, apiKey: livekit.apiKey, apiSecret: livekit.apiSecret }), 200);
    const response = await admin.post('/api/credentials/livekit/verify');
    expect(response.body).toStrictEqual({ ok: false, detail: expect.stringMatching(/^LiveKit server could not be checked: LiveKit answered HTTP 500/) });
  });

  it('never shows the secret in any answer or the audit', async () => {
    await readWholeAudit(admin);
    expectNoSecrets('responses', responses.join('\n'), [livekit.apiSecret]);
    expectNoSecrets('logs', app.logs.join(''), [livekit.apiSecret]);
  });
});

describe('the outbound-address rules for the url', () => {
  let strict: TestApp;
  afterAll(async () => strict?.close());

  it('refuses a loopback or private url at PUT unless insecure provider URLs are allowed', async () => {
    strict = await startTestApp();
    const strictOrg = await createOrgWithAdmin(strict, 'Strict LiveKit Co');
    for (const url of [livekit.wsUrl, livekit.url, 'wss://127.0.0.1:7880', 'wss://10.0.0.8', 'https://[::1]', 'wss://rtc.internal']) {
      const response = await strictOrg.admin.put('/api/credentials/livekit', { url, apiKey: 'APIx', apiSecret: 'secret-secret' });
      expectValidation(response, 'url');
    }
    expectStatus(await strictOrg.admin.put('/api/credentials/livekit', { url: 'wss://example.livekit.cloud', apiKey: 'APIx', apiSecret: 'secret-secret' }), 200);
  });
});
