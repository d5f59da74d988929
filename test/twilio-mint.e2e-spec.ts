import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import twilio from 'twilio';
import { decodeJwt, expectError, expectStatus, ISO_PATTERN } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { Client } from './support/http';
import { createApiKey, expectNoSecrets, fingerprintOf, mintEntryOf, newRequestId, twilioCredentials } from './support/minting';
import { readWholeAudit, ResponseSink, tappedClient, tappedUser } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/** GET /api/calls/token/twilio end to end: a Twilio Voice AccessToken checked claim by claim and against the twilio package. */

const TWILIO_PATH = '/api/calls/token/twilio';

let app: TestApp;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; client: Client };
let auditor: { id: string; client: Client };
const creds = twilioCredentials();
const responses: ResponseSink = [];
const secrets: string[] = [creds.apiKeySecret];

const tapped = (token: string | undefined) => tappedClient(app.url, token, responses);

async function mint(as: Client, path = TWILIO_PATH) {
  const requestId = newRequestId('twilio');
  const response = await as.get(path, { headers: { 'x-request-id': requestId } });
  return { response, requestId };
}

/** The Twilio identity of a user id: '-' → '_'. */
const identityOf = (userId: string) => userId.replace(/-/g, '_');

/**
 * Checks the token claim by claim and its signature with jsonwebtoken (HS256 only), then has the twilio
 * package build the token for the same instant and insists on the very same JWT. Returns the claims.
 */
function verifyTwilioToken(token: string, credentials: typeof creds, identity: string) {
  expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const { header, payload } = decodeJwt(token);
  expect(header).toStrictEqual({ alg: 'HS256', typ: 'JWT', cty: 'twilio-fpa;v=1' });

  const iat = payload.iat as number;
  expect(Number.isInteger(iat)).toBe(true);
  expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(120);
  expect(payload).toStrictEqual({
    jti: `${credentials.apiKeySid}-${iat}`,
    grants: {
      identity,
      voice: { incoming: { allow: true }, outgoing: { application_sid: credentials.twimlAppSid } },
    },
    iat,
    exp: iat + 3600,
    iss: credentials.apiKeySid,
    sub: credentials.accountSid,
  });
  expect(identity).toMatch(/^[A-Za-z0-9_]+$/);

  // The signature, with a JWT library restricted to HS256 ...
  const verified = jwt.verify(token, credentials.apiKeySecret, { algorithms: ['HS256'] }) as Record<string, unknown>;
  expect(verified.sub).toBe(credentials.accountSid);
  // ... which refuses it under any other key.
  expect(() => jwt.verify(token, `${credentials.apiKeySecret}x`, { algorithms: ['HS256'] })).toThrow(/invalid signature/);

  // The twilio package, at the same instant, produces the same token, byte for byte.
  const now = jest.spyOn(Date, 'now').mockReturnValue(iat * 1000);
  try {
    const reference = new twilio.jwt.AccessToken(credentials.accountSid, credentials.apiKeySid, credentials.apiKeySecret, { identity, ttl: 3600 });
    reference.addGrant(new twilio.jwt.AccessToken.VoiceGrant({ outgoingApplicationSid: credentials.twimlAppSid, incomingAllow: true }));
    const expected = reference.toJwt();
    expect(decodeJwt(expected)).toStrictEqual({ header, payload });
    expect(token).toBe(expected);
  } finally {
    now.mockRestore();
  }
  return payload as { iat: number; exp: number };
}

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Twilio Co');
  admin = tapped(org.adminToken);
  agent = await tappedUser(app, org, 'agent', responses);
  auditor = await tappedUser(app, org, 'auditor', responses);
});

afterAll(async () => {
  await app?.close();
});

describe('Twilio Voice access tokens', () => {
  it('an org without twilio credentials gets 400 TWILIO_NOT_CONFIGURED, audited as denied', async () => {
    const { response, requestId } = await mint(agent.client);
    expectError(response, 400, 'TWILIO_NOT_CONFIGURED');
    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(expect.objectContaining({ provider: 'twilio', outcome: 'denied', code: 'TWILIO_NOT_CONFIGURED', tokenFingerprint: null }));
  });

  it('PUT twilio credentials masks the API key secret', async () => {
    const put = await admin.put('/api/credentials/twilio', creds);
    expectStatus(put, 200);
    expect(put.body).toEqual({
      provider: 'twilio',
      fields: { accountSid: creds.accountSid, apiKeySid: creds.apiKeySid, apiKeySecret: `••••${creds.apiKeySecret.slice(-4)}`, twimlAppSid: creds.twimlAppSid },
      updatedAt: expect.stringMatching(ISO_PATTERN),
      updatedBy: { kind: 'user', id: org.adminId },
    });
  });

  it('mints {token, identity, userId, callerIdentifier: "", expiresIn: 3600} for a user without a twilio number; the JWT is what Twilio would make', async () => {
    const { response, requestId } = await mint(agent.client);
    expectStatus(response, 200);
    const identity = identityOf(agent.id);
    expect(response.body).toStrictEqual({ token: expect.any(String), identity, userId: agent.id, callerIdentifier: '', expiresIn: 3600 });
    const claims = verifyTwilioToken(response.body.token, creds, identity);

    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        orgId: org.orgId,
        provider: 'twilio',
        actor: { kind: 'user', id: agent.id },
        subjectUserId: agent.id,
        target: `twilio:${creds.accountSid}`,
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(response.body.token),
        requestId,
      }),
    );
    expect(Date.parse(entry.expiresAt)).toBe(claims.exp * 1000);
    expect(JSON.stringify(entry)).not.toContain(response.body.token);
  });

  it("shows the user's default twilio caller ID (not a sinch one, not a non-default one) as callerIdentifier", async () => {
    const numbers = `/api/users/${agent.id}/phone-numbers`;
    expectStatus(await admin.post(numbers, { provider: 'twilio', phoneNumber: '+14165550177', isDefault: false }), 201);
    expectStatus(await admin.post(numbers, { provider: 'sinch', phoneNumber: '+14165550178', isDefault: true }), 201);
    const stillEmpty = await mint(agent.client);
    expectStatus(stillEmpty.response, 200);
    expect(stillEmpty.response.body.callerIdentifier).toBe('');

    expectStatus(await admin.post(numbers, { provider: 'twilio', phoneNumber: '+14165550179', isDefault: true }), 201);
    const { response } = await mint(agent.client);
    expectStatus(response, 200);
    expect(response.body.callerIdentifier).toBe('+14165550179');
    verifyTwilioToken(response.body.token, creds, identityOf(agent.id));

    // A new default replaces the old one.
    expectStatus(await admin.post(numbers, { provider: 'twilio', phoneNumber: '+442079460123', isDefault: true }), 201);
    const after = await mint(agent.client);
    expect(after.response.body.callerIdentifier).toBe('+442079460123');
  });

  it('a user may pass its own id as userId, but not another user id', async () => {
    const own = await mint(agent.client, `${TWILIO_PATH}?userId=${agent.id}`);
    expectStatus(own.response, 200);
    expect(own.response.body.userId).toBe(agent.id);
    const foreign = await mint(agent.client, `${TWILIO_PATH}?userId=${org.adminId}`);
    expectError(foreign.response, 400, 'VALIDATION_FAILED');
  });

  it("an API key names the user with ?userId=; without it 400, another org's user 404", async () => {
    const key = await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'twilio dialer');
    const keyClient = tapped(key.token);

    const { response, requestId } = await mint(keyClient, `${TWILIO_PATH}?userId=${org.adminId}`);
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({
      token: expect.any(String),
      identity: identityOf(org.adminId),
      userId: org.adminId,
      callerIdentifier: '',
      expiresIn: 3600,
    });
    verifyTwilioToken(response.body.token, creds, identityOf(org.adminId));
    expect(await mintEntryOf(admin, requestId)).toEqual(
      expect.objectContaining({ outcome: 'issued', actor: { kind: 'api_key', id: key.id }, subjectUserId: org.adminId, tokenFingerprint: fingerprintOf(response.body.token) }),
    );

    const missing = await mint(keyClient);
    expectError(missing.response, 400, 'VALIDATION_FAILED');
    expect(await mintEntryOf(admin, missing.requestId)).toEqual(expect.objectContaining({ outcome: 'denied', code: 'VALIDATION_FAILED' }));

    const malformed = await mint(keyClient, `${TWILIO_PATH}?userId=not-a-uuid`);
    expectError(malformed.response, 400, 'VALIDATION_FAILED');

    const other = await createOrgWithAdmin(app, 'Other Twilio Co');
    const foreign = await mint(keyClient, `${TWILIO_PATH}?userId=${other.adminId}`);
    expectError(foreign.response, 404, 'NOT_FOUND');
    expect(await mintEntryOf(admin, foreign.requestId)).toEqual(expect.objectContaining({ outcome: 'denied', code: 'NOT_FOUND' }));
    const unknown = await mint(keyClient, `${TWILIO_PATH}?userId=${randomUUID()}`);
    expectError(unknown.response, 404, 'NOT_FOUND');
  });

  it('CREATE_CALL_TOKEN is required: an auditor gets 403 MISSING_SCOPE, audited as denied', async () => {
    const { response, requestId } = await mint(auditor.client);
    expectError(response, 403, 'MISSING_SCOPE');
    expect(await mintEntryOf(admin, requestId)).toEqual(
      expect.objectContaining({ provider: 'twilio', outcome: 'denied', code: 'MISSING_SCOPE', actor: { kind: 'user', id: auditor.id } }),
    );
    const chatOnly = await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'chat only');
    const byKey = await mint(tapped(chatOnly.token), `${TWILIO_PATH}?userId=${agent.id}`);
    expectError(byKey.response, 403, 'MISSING_SCOPE');
  });

  it('replacing the credentials signs the next token with the new secret', async () => {
    const replacement = twilioCredentials();
    secrets.push(replacement.apiKeySecret);
    expectStatus(await admin.put('/api/credentials/twilio', replacement), 200);
    const { response } = await mint(agent.client);
    expectStatus(response, 200);
    verifyTwilioToken(response.body.token, replacement, identityOf(agent.id));
    expect(() => jwt.verify(response.body.token, creds.apiKeySecret, { algorithms: ['HS256'] })).toThrow();
  });

  it('two mints in a row are each audited with their own fingerprint', async () => {
    const first = await mint(agent.client);
    const second = await mint(agent.client);
    expectStatus(first.response, 200);
    expectStatus(second.response, 200);
    const a = await mintEntryOf(admin, first.requestId);
    const b = await mintEntryOf(admin, second.requestId);
    expect(a.tokenFingerprint).toBe(fingerprintOf(first.response.body.token));
    expect(b.tokenFingerprint).toBe(fingerprintOf(second.response.body.token));
  });

  it('no apiKeySecret appears in any response or log line', async () => {
    // The audit (config events, mint entries, the export) is read through the tapped admin, so it is scanned too.
    await readWholeAudit(admin);
    expect(responses.length).toBeGreaterThan(10);
    expect(app.logs.length).toBeGreaterThan(0);
    expectNoSecrets('responses', responses.join('\n'), secrets);
    expectNoSecrets('app.logs', app.logs.join(''), secrets);
    const list = await admin.get('/api/credentials');
    expectStatus(list, 200);
    expectNoSecrets('GET /api/credentials', list.text, secrets);
  });
});
