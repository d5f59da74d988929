import { randomBytes, randomUUID } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
import { SCOPES } from '../libs/access/src/scopes';
import { allLogs, API_KEY_PATTERN, decodeJwt, expectError, expectStatus, expectValidation, handMadeJwt, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, login, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, http } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let org: OrgFixture;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Auth Org');
});

afterAll(async () => {
  await app?.close();
});

const loginRaw = (email: string, password: string) => http(app.url, 'POST', '/api/auth/login', { body: { email, password } });
const me = (token: string) => http(app.url, 'GET', '/api/auth/me', { token });

/** Claims exactly like the service's own access tokens. */
function claimsFor(userId: string, orgId: string, overrides: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: userId, org: orgId, typ: 'access', iss: 'mintline', aud: 'mintline-api', iat: now, exp: now + 600, ...overrides };
}

describe('POST /api/auth/login', () => {
  it('answers 200 {accessToken, tokenType: Bearer, expiresIn: 900} with a 15-minute HS256 JWT', async () => {
    const response = await loginRaw(org.adminEmail, PASSWORD);
    expectStatus(response, 200);
    expect(response.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
    expect(response.headers.get('x-request-id')).toMatch(UUID_PATTERN);
    const { header, payload } = decodeJwt(response.body.accessToken);
    expect(header.alg).toBe('HS256');
    expect(payload.sub).toBe(org.adminId);
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(30);
    // The password is nowhere in the answer or the token.
    expect(response.text).not.toContain(PASSWORD);
    expectStatus(await me(response.body.accessToken), 200);
  });

  it('treats the email case-insensitively and ignores surrounding spaces', async () => {
    const response = await loginRaw(`  ${org.adminEmail.toUpperCase()} `, PASSWORD);
    expectStatus(response, 200);
    expect((await me(response.body.accessToken)).body.userId).toBe(org.adminId);
  });

  it('gives the same 401 INVALID_CREDENTIALS for a wrong password and an unknown email', async () => {
    const wrongPassword = await loginRaw(org.adminEmail, 'not the right password');
    const unknownEmail = await loginRaw(uniqueEmail('nobody'), PASSWORD);
    const a = expectError(wrongPassword, 401, 'INVALID_CREDENTIALS');
    const b = expectError(unknownEmail, 401, 'INVALID_CREDENTIALS');
    expect(a.requestId).not.toBe(b.requestId);
    expect({ ...a, requestId: 'x' }).toEqual({ ...b, requestId: 'x' });
    expect(wrongPassword.text.replace(a.requestId, 'x')).toBe(unknownEmail.text.replace(b.requestId, 'x'));
    expect(wrongPassword.headers.get('www-authenticate')).toBe(unknownEmail.headers.get('www-authenticate'));
  });

  it('refuses a password that differs only in case', async () => {
    expectError(await loginRaw(org.adminEmail, PASSWORD.toUpperCase()), 401, 'INVALID_CREDENTIALS');
  });

  it('answers 400 VALIDATION_FAILED for a missing or non-string password and email', async () => {
    expectValidation(await http(app.url, 'POST', '/api/auth/login', { body: { email: org.adminEmail } }), 'password');
    expectValidation(await http(app.url, 'POST', '/api/auth/login', { body: { password: PASSWORD } }), 'email');
    expectValidation(await http(app.url, 'POST', '/api/auth/login', { body: { email: 42, password: ['x'] } }), 'email', 'password');
    expectValidation(await http(app.url, 'POST', '/api/auth/login', { body: { email: org.adminEmail, password: PASSWORD, remember: true } }), 'remember');
  });

  it('refuses a disabled user with 401, and tells only someone who knows the password', async () => {
    const user = await createUser(app, org, 'agent');
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { disabled: true }), 200);
    const disabled = expectError(await loginRaw(user.email, PASSWORD), 401, 'USER_DISABLED');
    expect(disabled.error).not.toMatch(/password/i);
    expectError(await loginRaw(user.email, 'wrong password here'), 401, 'INVALID_CREDENTIALS');
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { disabled: false }), 200);
    expectStatus(await loginRaw(user.email, PASSWORD), 200);
  });
});

describe('live access tokens follow the user', () => {
  it('refuses a disabled user from the next request on, and accepts them again once re-enabled', async () => {
    const user = await createUser(app, org, 'agent');
    expectStatus(await user.client.get('/api/auth/me'), 200);
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { disabled: true }), 200);
    expectError(await user.client.get('/api/auth/me'), 401, 'UNAUTHORIZED');
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { disabled: false }), 200);
    expectStatus(await user.client.get('/api/auth/me'), 200);
  });

  it('refuses a deleted user from the next request on', async () => {
    const user = await createUser(app, org, 'admin');
    expectStatus(await user.client.get('/api/users'), 200);
    expectStatus(await org.admin.delete(`/api/users/${user.id}`), 204);
    expectError(await user.client.get('/api/auth/me'), 401, 'UNAUTHORIZED');
    expectError(await user.client.get('/api/users'), 401, 'UNAUTHORIZED');
  });

  it('applies a role change to the live token on the next request', async () => {
    const user = await createUser(app, org, 'agent');
    expectError(await user.client.get('/api/users'), 403, 'MISSING_SCOPE');
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { role: 'admin' }), 200);
    expectStatus(await user.client.get('/api/users'), 200);
    expect((await user.client.get('/api/auth/me')).body).toMatchObject({ role: 'admin', scopes: [...SCOPES] });
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { role: 'auditor' }), 200);
    expectError(await user.client.get('/api/users'), 403, 'MISSING_SCOPE');
  });

  it('keeps a token valid after a password change (tokens live 15 minutes) but the old password no longer logs in', async () => {
    const user = await createUser(app, org, 'agent');
    const newPassword = 'a brand new passphrase';
    expectStatus(await org.admin.patch(`/api/users/${user.id}`, { password: newPassword }), 200);
    expectError(await loginRaw(user.email, PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectStatus(await loginRaw(user.email, newPassword), 200);
  });
});

describe('GET /api/auth/me', () => {
  it('describes a user: kind, orgId, userId, role and the role scopes', async () => {
    const response = await org.admin.get('/api/auth/me');
    expectStatus(response, 200);
    expect(response.body).toEqual({ kind: 'user', orgId: org.orgId, userId: org.adminId, role: 'admin', scopes: [...SCOPES] });

    const agent = await createUser(app, org, 'agent');
    expect((await agent.client.get('/api/auth/me')).body).toEqual({
      kind: 'user',
      orgId: org.orgId,
      userId: agent.id,
      role: 'agent',
      scopes: ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN', 'CREATE_CHAT_TOKEN'],
    });
    const auditor = await createUser(app, org, 'auditor');
    expect((await auditor.client.get('/api/auth/me')).body).toEqual({ kind: 'user', orgId: org.orgId, userId: auditor.id, role: 'auditor', scopes: ['READ_AUDIT'] });
  });

  it('describes an API key, presented as Bearer and as X-API-Key', async () => {
    const created = await org.admin.post('/api/api-keys', { name: 'me-test', scopes: ['READ_AUDIT', 'MANAGE_USERS'] });
    expectStatus(created, 201);
    const token: string = created.body.token;
    expect(token).toMatch(API_KEY_PATTERN);
    const viaBearer = await http(app.url, 'GET', '/api/auth/me', { token });
    const viaHeader = await http(app.url, 'GET', '/api/auth/me', { apiKey: token });
    for (const response of [viaBearer, viaHeader]) {
      expectStatus(response, 200);
      expect(response.body).toMatchObject({ kind: 'api_key', orgId: org.orgId, scopes: ['READ_AUDIT', 'MANAGE_USERS'] });
      expect(response.body.userId).toBeUndefined();
      expect(response.body.role).toBeUndefined();
      expect(response.text).not.toContain(token);
    }
    // X-API-Key with surrounding spaces still names the key.
    expectStatus(await http(app.url, 'GET', '/api/auth/me', { headers: { 'x-api-key': ` ${token} ` } }), 200);
  });

  it('describes the operator: no org, no scopes', async () => {
    const response = await org.operator.get('/api/auth/me');
    expectStatus(response, 200);
    expect(response.body).toEqual({ kind: 'operator', orgId: null, scopes: [] });
  });
});

describe('bad credentials are 401 UNAUTHORIZED', () => {
  it('refuses no credential at all', async () => {
    expectError(await http(app.url, 'GET', '/api/auth/me'), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/users'), 401, 'UNAUTHORIZED');
  });

  it.each([
    ['garbage', 'Bearer not-a-token-at-all'],
    ['a JWT-looking garbage', 'Bearer aaa.bbb.ccc'],
    ['a Basic header', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['"Bearer" with no credential', 'Bearer'],
    ['"Bearer " with only spaces', 'Bearer    '],
    ['two credentials', 'Bearer one two'],
    ['another scheme', 'Token abc'],
    ['an unknown API key', `Bearer mlk_${randomBytes(32).toString('base64url')}`],
    ['a truncated API key', 'Bearer mlk_short'],
  ])('refuses %s', async (_label, authorization) => {
    expectError(await http(app.url, 'GET', '/api/auth/me', { headers: { authorization } }), 401, 'UNAUTHORIZED');
  });

  it('refuses an unknown or garbage X-API-Key, and the operator token sent as X-API-Key', async () => {
    expectError(await http(app.url, 'GET', '/api/auth/me', { apiKey: `mlk_${randomBytes(32).toString('base64url')}` }), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/auth/me', { apiKey: 'garbage' }), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/auth/me', { apiKey: app.operatorToken }), 401, 'UNAUTHORIZED');
  });

  it('refuses an operator token that is almost right', async () => {
    expectError(await me(app.operatorToken.slice(0, -1)), 401, 'UNAUTHORIZED');
    expectError(await me(`${app.operatorToken}x`), 401, 'UNAUTHORIZED');
  });

  it('accepts a token hand-signed with the service secret (control for the cases below)', async () => {
    const token = jwt.sign(claimsFor(org.adminId, org.orgId), app.config.jwtSecret, { algorithm: 'HS256' });
    const response = await me(token);
    expectStatus(response, 200);
    expect(response.body.userId).toBe(org.adminId);
  });

  it('refuses a JWT with alg "none"', async () => {
    const claims = claimsFor(org.adminId, org.orgId);
    expectError(await me(handMadeJwt({ alg: 'none', typ: 'JWT' }, claims)), 401, 'UNAUTHORIZED');
    expectError(await me(handMadeJwt({ alg: 'None', typ: 'JWT' }, claims)), 401, 'UNAUTHORIZED');
    // Even with a valid HS256 signature attached, a header that says "none" is refused.
    expectError(await me(handMadeJwt({ alg: 'none', typ: 'JWT' }, claims, app.config.jwtSecret)), 401, 'UNAUTHORIZED');
  });

  it('refuses a token signed with another secret', async () => {
    const token = jwt.sign(claimsFor(org.adminId, org.orgId), randomBytes(32).toString('base64url'), { algorithm: 'HS256' });
    expectError(await me(token), 401, 'UNAUTHORIZED');
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign(claimsFor(org.adminId, org.orgId, { iat: now - 1000, exp: now - 100 }), app.config.jwtSecret, { algorithm: 'HS256' });
    expectError(await me(token), 401, 'UNAUTHORIZED');
  });

  it('refuses another algorithm even with the right secret (HS512), and a hand-made HS256 signature over edited claims', async () => {
    const claims = claimsFor(org.adminId, org.orgId);
    expectError(await me(jwt.sign(claims, app.config.jwtSecret, { algorithm: 'HS512' })), 401, 'UNAUTHORIZED');
    const genuine = await login(app, org.adminEmail);
    const [header, , signature] = genuine.split('.');
    const otherUser = await createUser(app, org, 'agent');
    const edited = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(genuine).payload, sub: otherUser.id })).toString('base64url')}.${signature}`;
    expectError(await me(edited), 401, 'UNAUTHORIZED');
  });

  it.each([
    ['another issuer', { iss: 'someone-else' }],
    ['another audience', { aud: 'another-api' }],
    ['another token type', { typ: 'refresh' }],
    ['no token type', { typ: undefined }],
  ])('refuses a correctly signed token with %s', async (_label, overrides) => {
    const token = jwt.sign(claimsFor(org.adminId, org.orgId, overrides), app.config.jwtSecret, { algorithm: 'HS256' });
    expectError(await me(token), 401, 'UNAUTHORIZED');
  });

  it('refuses a correctly signed token for an unknown user or for the wrong org', async () => {
    const sign = (claims: object) => jwt.sign(claims, app.config.jwtSecret, { algorithm: 'HS256' });
    expectError(await me(sign(claimsFor(randomUUID(), org.orgId))), 401, 'UNAUTHORIZED');
    const other = await createOrgWithAdmin(app, 'Other Org');
    expectError(await me(sign(claimsFor(org.adminId, other.orgId))), 401, 'UNAUTHORIZED');
    // A non-UUID subject is a 401 too, never a 500 from the database.
    expectError(await me(sign(claimsFor('not-a-uuid', org.orgId))), 401, 'UNAUTHORIZED');
  });
});

describe('secrets stay out of the logs', () => {
  it('never logs a password, an access token, an API key or the operator token', async () => {
    const accessToken = await login(app, org.adminEmail);
    await client(app.url, accessToken).get('/api/auth/me');
    const key = await org.admin.post('/api/api-keys', { name: 'log-test', scopes: ['READ_AUDIT'] });
    await http(app.url, 'GET', '/api/auth/me', { apiKey: key.body.token });
    await loginRaw(org.adminEmail, 'a wrong password for the log test');
    const logs = allLogs(app.logs);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain('a wrong password for the log test');
    expect(logs).not.toContain(accessToken);
    expect(logs).not.toContain(key.body.token);
    expect(logs).not.toContain(app.operatorToken);
    expect(logs).not.toContain(app.config.jwtSecret);
  });
});
