import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { verifySignature } from './support/vonage-jwt';
import { decodeJwt, expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { Client } from './support/http';
import { createApiKey, dumpDatabase, expectNoSecrets, fingerprintOf, mintEntryOf } from './support/minting';
import { postMint, readWholeAudit, ResponseSink, tappedClient, tappedUser } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/tokens/vonage end to end: each Client SDK JWT verified with `@vonage/jwt`'s verifySignature
 * against the application's public key and checked claim by claim (the ten ACL paths of Vonage's guide);
 * lifetimes at and past the bounds; who may mint for whom; the audit; the credentials and their check.
 */

const PATH = '/api/tokens/vonage';
const ACL_PATHS = [
  '/*/users/**',
  '/*/conversations/**',
  '/*/sessions/**',
  '/*/devices/**',
  '/*/image/**',
  '/*/media/**',
  '/*/applications/**',
  '/*/push/**',
  '/*/knocking/**',
  '/*/legs/**',
];

const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const applicationId = randomUUID();

let app: TestApp;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; client: Client };
const responses: ResponseSink = [];
const tapped = (token: string | undefined) => tappedClient(app.url, token, responses);

const mint = (as: Client, body: Record<string, unknown>) => postMint(as, PATH, body, 'vonage');

/** Verified with Vonage's own library, then every claim; returns the claims. */
function expectVonageToken(token: string, userId: string, ttl: number) {
  expect(verifySignature(token, publicKey)).toBe(true);
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  expect(verifySignature(token, otherKey)).toBe(false);
  const { header, payload } = decodeJwt(token);
  expect(header).toStrictEqual({ alg: 'RS256', typ: 'JWT' });
  const iat = payload.iat as number;
  expect(Math.abs(iat - Date.now() / 1000)).toBeLessThan(120);
  expect(payload).toStrictEqual({
    application_id: applicationId,
    iat,
    exp: iat + ttl,
    jti: expect.stringMatching(UUID_PATTERN),
    sub: userId,
    acl: { paths: Object.fromEntries(ACL_PATHS.map((path) => [path, {}])) },
  });
  expect(Object.keys((payload.acl as { paths: object }).paths)).toEqual(ACL_PATHS);
  return payload as { iat: number; exp: number; jti: string };
}

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Vonage Co');
  admin = tapped(org.adminToken);
  agent = await tappedUser(app, org, 'agent', responses);
});

afterAll(async () => {
  await app?.close();
});

describe('vonage credentials', () => {
  it('answers 400 VONAGE_NOT_CONFIGURED before they are stored, and 404 NOT_CONFIGURED to verify', async () => {
    expectError((await mint(agent.client, {})).response, 400, 'VONAGE_NOT_CONFIGURED');
    expectError(await admin.post('/api/credentials/vonage/verify'), 404, 'NOT_CONFIGURED');
  });

  it('refuses a private key that is not an RSA PEM key, naming the field and never echoing it', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const bad of [ec, publicKey, 'not a key at all', privateKey.slice(0, 400)]) {
      const response = await admin.put('/api/credentials/vonage', { applicationId, privateKey: bad });
      expect(expectValidation(response, 'privateKey').details).toEqual([{ field: 'privateKey', message: 'must be an unencrypted RSA private key in PEM form' }]);
      expect(response.text).not.toContain(bad.length > 90 ? bad.slice(30, 90) : bad);
    }
    expectValidation(await admin.put('/api/credentials/vonage', { applicationId: 'app-1', privateKey }), 'applicationId');
  });

  it('stores the key encrypted and shows it masked; verify checks that it parses as RSA', async () => {
    const put = await admin.put('/api/credentials/vonage', { applicationId: applicationId.toUpperCase(), privateKey });
    expectStatus(put, 200);
    expect(put.body.fields).toStrictEqual({ applicationId, privateKey: `••••${privateKey.slice(-4)}` });
    const verified = await admin.post('/api/credentials/vonage/verify');
    expectStatus(verified, 200);
    expect(verified.body).toStrictEqual({ ok: true, detail: expect.stringMatching(/parses as an RSA key/) });
    const body = privateKey.split('\n').slice(1, -2).join('');
    expect(await dumpDatabase(app)).not.toContain(body.slice(0, 64));
  });
});

describe('POST /api/tokens/vonage', () => {
  it('mints a Client SDK JWT for the user (15 minutes by default) that @vonage/jwt verifies, audited as vonage:<applicationId>', async () => {
    const { response, requestId } = await mint(agent.client, {});
    expectStatus(response, 200);
    expect(response.body).toStrictEqual({ token: expect.any(String), applicationId, sub: agent.id, userId: agent.id, expiresIn: 900 });
    const claims = expectVonageToken(response.body.token, agent.id, 900);
    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        provider: 'vonage',
        actor: { kind: 'user', id: agent.id },
        subjectUserId: agent.id,
        target: `vonage:${applicationId}`,
        outcome: 'issued',
        tokenFingerprint: fingerprintOf(response.body.token),
      }),
    );
    expect(Date.parse(entry.expiresAt)).toBe(claims.exp * 1000);
    const again = expectVonageToken((await mint(agent.client, {})).response.body.token, agent.id, 900);
    expect(again.jti).not.toBe(claims.jti);
  });

  it.each([
    [60, 200],
    [86_400, 200],
    [59, 400],
    [86_401, 400],
  ])('ttlSeconds %p → %p', async (ttlSeconds, status) => {
    const { response, requestId } = await mint(agent.client, { ttlSeconds });
    if (status === 400) {
      expectValidation(response, 'ttlSeconds');
      expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'vonage', outcome: 'denied', code: 'VALIDATION_FAILED' }));
      return;
    }
    expectStatus(response, 200);
    expect(response.body.expiresIn).toBe(ttlSeconds);
    expectVonageToken(response.body.token, agent.id, ttlSeconds);
  });

  it('refuses unknown fields (an ACL of its own, a subject)', async () => {
    const body = expectValidation((await mint(agent.client, { acl: { paths: { '/**': {} } }, sub: 'admin' })).response, 'acl', 'sub');
    expect(body.details).toHaveLength(2);
  });

  it("an API key names the user; without userId 400, another org's user 404; CREATE_CALL_TOKEN is needed", async () => {
    const key = tapped((await createApiKey(admin, ['CREATE_CALL_TOKEN'])).token);
    const { response } = await mint(key, { userId: org.adminId, ttlSeconds: 120 });
    expectStatus(response, 200);
    expect(response.body.sub).toBe(org.adminId);
    expectVonageToken(response.body.token, org.adminId, 120);
    expectValidation((await mint(key, {})).response, 'userId');
    const other = await createOrgWithAdmin(app, 'Other Vonage Co');
    expectError((await mint(key, { userId: other.adminId })).response, 404, 'NOT_FOUND');
    const chatOnly = tapped((await createApiKey(admin, ['CREATE_CHAT_TOKEN'])).token);
    const refused = await mint(chatOnly, { userId: agent.id });
    expectError(refused.response, 403, 'MISSING_SCOPE');
    expect(await mintEntryOf(admin, refused.requestId)).toEqual(expect.objectContaining({ provider: 'vonage', outcome: 'denied', code: 'MISSING_SCOPE' }));
  });

  it('never shows the private key in an answer, the audit or the logs', async () => {
    await readWholeAudit(admin);
    const keyBody = privateKey.split('\n').slice(1, -2);
    for (const line of [keyBody[0], keyBody[5], keyBody[keyBody.length - 1]]) {
      expect(responses.join('\n')).not.toContain(line);
      expect(app.logs.join('')).not.toContain(line);
    }
    expectNoSecrets('responses', responses.join('\n'), [keyBody.join('')]);
  });
});
