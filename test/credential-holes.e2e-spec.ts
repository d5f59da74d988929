import { connect } from 'node:net';
import * as jwt from 'jsonwebtoken';
import { expectError, expectStatus, expectValidation } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { http } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Smaller holes, each attacked over HTTP: two different credentials in one request, an access token
 * that never expires, ids in audit filters that are not ids, and request headers that never finish.
 */

let app: TestApp;
let org: OrgFixture;
let auditKey: string;
let usersKey: string;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Holes Org');
  const audit = await org.admin.post('/api/api-keys', { name: 'auditor key', scopes: ['READ_AUDIT'] });
  expectStatus(audit, 201);
  auditKey = audit.body.token;
  const users = await org.admin.post('/api/api-keys', { name: 'users key', scopes: ['MANAGE_USERS'] });
  expectStatus(users, 201);
  usersKey = users.body.token;
});

afterAll(async () => {
  await app?.close();
});

const me = (headers: Record<string, string>) => http(app.url, 'GET', '/api/auth/me', { headers });

describe('two credentials in one request', () => {
  it('refuses different ones in Authorization and X-API-Key with 401 AMBIGUOUS_CREDENTIALS, whichever they are', async () => {
    const pairs: Array<[string, string, string]> = [
      ['access token and API key', org.adminToken, auditKey],
      ['two API keys', auditKey, usersKey],
      ['operator token and API key', app.operatorToken, auditKey],
    ];
    for (const [label, bearer, apiKey] of pairs) {
      const response = await me({ authorization: `Bearer ${bearer}`, 'x-api-key': apiKey });
      expect(`${label}: ${response.status} ${response.body?.code}`).toBe(`${label}: 401 AMBIGUOUS_CREDENTIALS`);
      expectError(response, 401, 'AMBIGUOUS_CREDENTIALS');
    }
    // Not even a route the Authorization credential alone could call goes through.
    expectError(await http(app.url, 'GET', '/api/users', { token: org.adminToken, apiKey: auditKey }), 401, 'AMBIGUOUS_CREDENTIALS');
    expectError(await http(app.url, 'GET', '/api/audit/mints', { token: usersKey, apiKey: auditKey }), 401, 'AMBIGUOUS_CREDENTIALS');
  });

  it('accepts the same key sent in both headers', async () => {
    const response = await me({ authorization: `Bearer ${auditKey}`, 'x-api-key': auditKey });
    expectStatus(response, 200);
    expect(response.body).toMatchObject({ kind: 'api_key', orgId: org.orgId, scopes: ['READ_AUDIT'] });
    expectStatus(await http(app.url, 'GET', '/api/audit/mints', { token: auditKey, apiKey: auditKey }), 200);
  });

  it('documents AMBIGUOUS_CREDENTIALS with the 401 of authenticated routes', async () => {
    const paths = (await http(app.url, 'GET', '/docs/openapi.json')).body.paths;
    expect(paths['/api/auth/me'].get.responses['401'].description).toContain('AMBIGUOUS_CREDENTIALS');
    expect(paths['/api/users'].get.responses['401'].description).toContain('AMBIGUOUS_CREDENTIALS');
  });
});

describe('an access token without exp', () => {
  const sign = (claims: Record<string, unknown>, expiresIn?: number) =>
    jwt.sign({ sub: org.adminId, org: org.orgId, typ: 'access', ...claims }, app.config.jwtSecret, {
      algorithm: 'HS256',
      issuer: 'mintline',
      audience: 'mintline-api',
      ...(expiresIn === undefined ? {} : { expiresIn }),
    });

  it('is refused (401), while the same token with exp is accepted', async () => {
    const forever = sign({});
    expect(jwt.decode(forever)).not.toHaveProperty('exp');
    expectError(await http(app.url, 'GET', '/api/auth/me', { token: forever }), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/users', { token: forever }), 401, 'UNAUTHORIZED');

    const control = sign({}, 60);
    const response = await http(app.url, 'GET', '/api/auth/me', { token: control });
    expectStatus(response, 200);
    expect(response.body).toMatchObject({ kind: 'user', userId: org.adminId, role: 'admin' });
  });
});

describe('ids in audit filters', () => {
  it.each([
    ['/api/audit/mints?actorId=foo', 'actorId'],
    ['/api/audit/mints?subjectUserId=foo', 'subjectUserId'],
    ['/api/audit/mints/export?format=ndjson&actorId=foo', 'actorId'],
    ['/api/audit/mints/export?format=csv&actorId=1%27%20OR%201%3D1', 'actorId'],
    ['/api/audit/events?actorId=foo', 'actorId'],
  ])('%s is 400 VALIDATION_FAILED naming the field', async (path, field) => {
    expectValidation(await http(app.url, 'GET', path, { token: org.adminToken }), field);
  });

  it('filters by a user id (control): the admin made the keys, so the events name them', async () => {
    const events = await http(app.url, 'GET', `/api/audit/events?actorId=${org.adminId}`, { token: org.adminToken });
    expectStatus(events, 200);
    expect(events.body.items.length).toBeGreaterThan(0);
    for (const event of events.body.items) expect(event.actor).toEqual({ kind: 'user', id: org.adminId });
    expectStatus(await http(app.url, 'GET', `/api/audit/mints?actorId=${org.adminId}`, { token: org.adminToken }), 200);
  });
});

describe('a request whose headers or body never finish', () => {
  let slow: TestApp;

  beforeAll(async () => {
    // The same service with a short headers timeout, so the test need not wait the real 10 s.
    slow = await startTestApp({
      db: app.db,
      config: { jwtSecret: app.config.jwtSecret, masterKeys: app.config.masterKeys, headersTimeoutMs: 500, requestTimeoutMs: 1_000, connectionsCheckIntervalMs: 100 },
    });
  });

  afterAll(async () => {
    await slow?.close();
  });

  /** Opens a raw connection, writes `partial` and never more; resolves with all it got once the server closes it. */
  function sendPartial(partial: string): Promise<{ received: string; closed: boolean }> {
    const { port } = new URL(slow.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8');
      socket.on('connect', () => socket.write(partial));
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve({ received, closed: true }));
    });
  }

  it.each([
    ['a request line cut short', 'GET /api/auth/me HT'],
    ['headers without their blank line', 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: still typ'],
    ['a body that never finishes', 'POST /api/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":'],
  ])('%s is answered 408 REQUEST_TIMEOUT in the envelope and the connection closed', async (_label, partial) => {
    const { received, closed } = await sendPartial(partial);
    expect(closed).toBe(true);
    const [head, body] = received.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(head).toMatch(/\r\nconnection: close/i);
    const requestId = /\r\nx-request-id: (\S+)/i.exec(head)?.[1];
    expect(JSON.parse(body)).toEqual({ success: false, error: expect.any(String), code: 'REQUEST_TIMEOUT', requestId });
  });

  it('leaves requests that arrive whole alone (control)', async () => {
    expectStatus(await http(slow.url, 'GET', '/health'), 200);
    expectStatus(await http(slow.url, 'GET', '/api/auth/me', { token: org.adminToken }), 200);
  });
});
