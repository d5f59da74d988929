import { randomUUID } from 'node:crypto';
import { AddressInfo, connect, createServer, Server, Socket } from 'node:net';
import { createTestDatabase, serverUrl } from './support/test-database';
import { expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { http } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let org: OrgFixture;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Conventions Org');
});

afterAll(async () => {
  await app?.close();
});

const userBody = (extra: Record<string, unknown> = {}) => ({ email: uniqueEmail(), password: PASSWORD, role: 'agent', ...extra });
const postRaw = (path: string, rawBody: string | Buffer, headers: Record<string, string> = {}, token = org.adminToken) =>
  http(app.url, 'POST', path, { token, rawBody, headers });

describe('X-Request-Id', () => {
  it('is generated (a UUID) when the client sends none, different for every request', async () => {
    const a = await http(app.url, 'GET', '/health');
    const b = await http(app.url, 'GET', '/health');
    expect(a.headers.get('x-request-id')).toMatch(UUID_PATTERN);
    expect(b.headers.get('x-request-id')).toMatch(UUID_PATTERN);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  it('echoes a valid incoming id, on success and in the error envelope', async () => {
    const id = `client-${randomUUID()}`;
    const ok = await http(app.url, 'GET', '/api/auth/me', { token: org.adminToken, headers: { 'x-request-id': id } });
    expectStatus(ok, 200);
    expect(ok.headers.get('x-request-id')).toBe(id);
    const failed = await http(app.url, 'GET', '/api/auth/me', { headers: { 'x-request-id': 'trace.1:2_3-4' } });
    expect(failed.headers.get('x-request-id')).toBe('trace.1:2_3-4');
    expect(expectError(failed, 401, 'UNAUTHORIZED').requestId).toBe('trace.1:2_3-4');
    const notFound = await http(app.url, 'GET', '/api/nothing-here', { headers: { 'x-request-id': id } });
    expect(expectError(notFound, 404, 'NOT_FOUND').requestId).toBe(id);
  });

  it.each([
    ['with spaces', 'has spaces in it'],
    ['too long', 'a'.repeat(129)],
    ['with a newline-like payload', 'abc%0d%0aSet-Cookie:x'],
    ['with quotes', '"quoted"'],
    ['with non-ASCII', 'idé'],
  ])('replaces an invalid incoming id (%s) with a generated one', async (_label, id) => {
    const response = await http(app.url, 'GET', '/health', { headers: { 'x-request-id': Buffer.from(id, 'utf8').toString('latin1') } });
    expect(response.headers.get('x-request-id')).toMatch(UUID_PATTERN);
  });

  it('accepts an id of exactly 128 characters', async () => {
    const id = 'b'.repeat(128);
    expect((await http(app.url, 'GET', '/health', { headers: { 'x-request-id': id } })).headers.get('x-request-id')).toBe(id);
  });

  it('carries the request id into the config event the request wrote', async () => {
    const id = `evt-${randomUUID()}`;
    const created = await http(app.url, 'POST', '/api/users', { token: org.adminToken, body: userBody(), headers: { 'x-request-id': id } });
    expectStatus(created, 201);
    const events = await app.db.query<{ request_id: string }>('SELECT request_id FROM config_events WHERE target_id = $1', [created.body.id]);
    expect(events).toEqual([{ request_id: id }]);
  });
});

describe('request bodies', () => {
  it('answers malformed JSON with 400 VALIDATION_FAILED naming the body', async () => {
    for (const raw of ['{"email":', '{email: "a"}', "{'a': 1}", '{"a":1,}', 'nul', '{"a":1}}']) {
      const response = await postRaw('/api/users', raw);
      expect(`${raw} -> ${response.status}`).toBe(`${raw} -> 400`);
      expectValidation(response, 'body');
    }
    expectValidation(await postRaw('/api/auth/login', '{"email":', {}, ''), 'body');
  });

  it('answers an empty JSON body with 400', async () => {
    expectError(await postRaw('/api/users', ''), 400, 'VALIDATION_FAILED');
  });

  it.each([
    ['an array', '[1,2]'],
    ['null', 'null'],
    ['a string', '"text"'],
    ['a number', '42'],
    ['true', 'true'],
  ])('answers a JSON body that is %s with 400, never 500', async (_label, raw) => {
    expectError(await postRaw('/api/users', raw), 400, 'VALIDATION_FAILED');
    expectError(await postRaw('/api/auth/login', raw, {}, ''), 400, 'VALIDATION_FAILED');
  });

  it('answers a body over 64 KiB with 413 PAYLOAD_TOO_LARGE, authenticated or not', async () => {
    const big = JSON.stringify({ ...userBody(), name: 'x'.repeat(64 * 1024) });
    expectError(await postRaw('/api/users', big), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await postRaw('/api/auth/login', JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(70_000) }), {}, ''), 413, 'PAYLOAD_TOO_LARGE');
    expectError(await postRaw('/api/users', Buffer.alloc(1024 * 1024, 0x20)), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('reads a body just under 64 KiB (and then validates it: 400, not 413)', async () => {
    const body = JSON.stringify({ ...userBody(), name: '' });
    const padded = body.replace('"name":""', `"name":"${'x'.repeat(64 * 1024 - body.length - 1)}"`);
    expect(Buffer.byteLength(padded)).toBeLessThan(64 * 1024);
    expectValidation(await postRaw('/api/users', padded), 'name');
  });

  it('rejects unknown body fields with 400, naming each field', async () => {
    const body = expectValidation(await http(app.url, 'POST', '/api/users', { token: org.adminToken, body: userBody({ isRoot: true, extra: 'x' }) }), 'isRoot', 'extra');
    expect(body.details?.filter((detail) => detail.field === 'isRoot')).toHaveLength(1);
    expectValidation(await http(app.url, 'POST', '/api/auth/login', { body: { email: 'a@b.c', password: 'x', otp: '123456' } }), 'otp');
    expectValidation(await http(app.url, 'PATCH', `/api/orgs/${org.orgId}`, { token: app.operatorToken, body: { limits: { mintsPerMinute: 10, burst: 5 } } }), 'limits.burst');
  });

  it.each([
    ['text/plain', 'hello'],
    ['application/x-www-form-urlencoded', 'email=a%40b.c&password=x'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--\r\n'],
    ['application/xml', '<login/>'],
  ])('answers a %s body with 415 UNSUPPORTED_MEDIA_TYPE', async (contentType, raw) => {
    expectError(await postRaw('/api/auth/login', raw, { 'content-type': contentType }, ''), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await postRaw('/api/users', raw, { 'content-type': contentType }), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts application/json with a charset', async () => {
    const response = await postRaw('/api/users', JSON.stringify(userBody()), { 'content-type': 'application/json; charset=utf-8' });
    expectStatus(response, 201);
  });

  it.each([
    ['a top-level __proto__', '{"email":"a@b.c","password":"x","__proto__":{"polluted":"yes"}}'],
    ['a nested __proto__', '{"email":"a@b.c","password":"x","meta":{"__proto__":{"polluted":"yes"}}}'],
    ['constructor.prototype', '{"email":"a@b.c","password":"x","constructor":{"prototype":{"polluted":"yes"}}}'],
    ['a nested constructor.prototype', '{"limits":{"constructor":{"prototype":{"polluted":"yes"}}}}'],
  ])('refuses %s with 400 and pollutes nothing', async (_label, raw) => {
    expectError(await postRaw('/api/auth/login', raw, {}, ''), 400, 'VALIDATION_FAILED');
    expectError(await postRaw('/api/users', raw), 400, 'VALIDATION_FAILED');
    expectError(await http(app.url, 'PATCH', `/api/orgs/${org.orgId}`, { token: app.operatorToken, rawBody: raw }), 400, 'VALIDATION_FAILED');
    // The service runs in this process: Object.prototype must be untouched.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await http(app.url, 'GET', `/api/orgs/${org.orgId}`, { token: app.operatorToken })).body.limits).toEqual({ mintsPerMinute: 600 });
  });

  it('treats a "constructor" key without "prototype" as an ordinary unknown field', async () => {
    expectValidation(await postRaw('/api/users', JSON.stringify({ ...userBody(), constructor: 'x' })), 'constructor');
  });

  it('answers JSON nested tens of thousands deep (within 64 KiB) with 400 naming the body, never 500', async () => {
    const depth = 30_000;
    const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    expectValidation(await postRaw('/api/users', `{"email":"a@b.cc","password":"long enough pass","role":"agent","name":${arrays}}`), 'body');
    expectValidation(await postRaw('/api/auth/login', `{"email":${arrays},"password":"x"}`, {}, ''), 'body');
    expectValidation(await http(app.url, 'PATCH', `/api/orgs/${org.orgId}`, { token: app.operatorToken, rawBody: `{"limits":${arrays}}` }), 'body');
    const objects = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    expectValidation(await postRaw('/api/users', `{"email":"a@b.cc","password":"long enough pass","role":"agent","name":${objects}}`), 'body');
  });

  it('still validates an ordinarily nested body field by field', async () => {
    const nested = `${'['.repeat(900)}${']'.repeat(900)}`;
    const body = expectValidation(await postRaw('/api/users', `{"email":"${uniqueEmail()}","password":"long enough pass","role":"agent","name":${nested}}`), 'name');
    expect(body.details?.map((detail) => detail.field)).not.toContain('body');
  });

  it('refuses null for an update field that cannot be empty, naming the field, and changes nothing', async () => {
    const operator = { token: app.operatorToken };
    expectStatus(await http(app.url, 'PATCH', `/api/orgs/${org.orgId}`, { ...operator, body: { features: { webrtc: true } } }), 200);
    const agent = await createUser(app, org, 'agent');
    const endpoint = await org.admin.post('/api/endpoints', { name: 'Null line', webrtc: true });
    expectStatus(endpoint, 201);
    const key = await org.admin.post('/api/api-keys', { name: 'null key', scopes: ['READ_AUDIT'] });
    expectStatus(key, 201);
    const orgBefore = (await http(app.url, 'GET', `/api/orgs/${org.orgId}`, operator)).body;

    const cases: Array<[string, string, Record<string, unknown>, string, { token: string }?]> = [
      ['user', `/api/users/${agent.id}`, { role: null }, 'role'],
      ['user', `/api/users/${agent.id}`, { password: null }, 'password'],
      ['user', `/api/users/${agent.id}`, { disabled: null }, 'disabled'],
      ['org', `/api/orgs/${org.orgId}`, { name: null }, 'name', operator],
      ['org', `/api/orgs/${org.orgId}`, { features: null }, 'features', operator],
      ['org', `/api/orgs/${org.orgId}`, { features: { webrtc: null } }, 'features.webrtc', operator],
      ['org', `/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: null } }, 'limits.mintsPerMinute', operator],
      ['endpoint', `/api/endpoints/${endpoint.body.id}`, { name: null }, 'name'],
      ['endpoint', `/api/endpoints/${endpoint.body.id}`, { state: null }, 'state'],
      ['API key', `/api/api-keys/${key.body.id}`, { name: null }, 'name'],
      ['API key', `/api/api-keys/${key.body.id}`, { scopes: null }, 'scopes'],
    ];
    for (const [what, path, body, field, auth] of cases) {
      const response = await http(app.url, 'PATCH', path, { token: auth?.token ?? org.adminToken, body });
      expect(`${what} ${JSON.stringify(body)} -> ${response.status}`).toBe(`${what} ${JSON.stringify(body)} -> 400`);
      expectValidation(response, field);
    }

    expect((await http(app.url, 'GET', `/api/orgs/${org.orgId}`, operator)).body).toEqual(orgBefore);
    expect((await org.admin.get(`/api/users/${agent.id}`)).body).toMatchObject({ role: 'agent', disabled: false });
    expect((await org.admin.get(`/api/endpoints/${endpoint.body.id}`)).body).toMatchObject({ name: 'Null line', state: 'active' });
    // A field the contract lets be empty still takes null.
    expectStatus(await org.admin.patch(`/api/users/${agent.id}`, { name: null }), 200);
  });
});

describe('unknown routes and URLs', () => {
  it.each([
    ['GET', '/api/nothing'],
    ['GET', '/nothing'],
    ['POST', '/api/users/extra/segments'],
    ['PUT', '/api/users'],
    ['DELETE', '/api/auth/login'],
    ['GET', '/health/whatever'],
  ])('answers %s %s with 404 NOT_FOUND in the envelope', async (method, path) => {
    expectError(await http(app.url, method, path, { token: org.adminToken }), 404, 'NOT_FOUND');
  });

  it('answers a badly %-encoded URL with 400 in the envelope', async () => {
    const response = await http(app.url, 'GET', `/api/users/%E0%A4%A`, { token: org.adminToken, headers: { 'x-request-id': 'bad-url-1' } });
    const body = expectError(response, 400, 'VALIDATION_FAILED');
    expect(body.requestId).toBe('bad-url-1');
  });

  it('answers an overlong path parameter with a 4xx envelope, not 500', async () => {
    const response = await http(app.url, 'GET', `/api/users/${'a'.repeat(500)}`, { token: org.adminToken });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.body).toMatchObject({ success: false, code: expect.any(String), requestId: response.headers.get('x-request-id') });
  });
});

describe('operations routes', () => {
  it('GET /health answers 200 without a credential', async () => {
    const response = await http(app.url, 'GET', '/health');
    expectStatus(response, 200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('GET /health/ready answers 200 while the database answers', async () => {
    const response = await http(app.url, 'GET', '/health/ready');
    expectStatus(response, 200);
    expect(response.body).toEqual({ status: 'ok', database: 'up' });
  });

  it('GET /metrics serves Prometheus text with mintline_http_requests_total by route template', async () => {
    const user = await createUser(app, org, 'agent');
    await http(app.url, 'GET', `/api/users/${user.id}`, { token: org.adminToken });
    await http(app.url, 'GET', `/api/users/${randomUUID()}`, { token: org.adminToken });
    await http(app.url, 'GET', '/api/does-not-exist/12345');
    const response = await http(app.url, 'GET', '/metrics');
    expectStatus(response, 200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.text).toContain('# TYPE mintline_http_requests_total counter');
    expect(response.text).toMatch(/mintline_http_requests_total\{method="GET",route="\/api\/users\/:id",status="200"\} \d+/);
    expect(response.text).toMatch(/mintline_http_requests_total\{method="GET",route="\/api\/users\/:id",status="404"\} \d+/);
    expect(response.text).toMatch(/mintline_http_requests_total\{method="POST",route="\/api\/auth\/login",status="200"\} \d+/);
    expect(response.text).toContain('mintline_http_request_duration_seconds');
    // Labels hold route templates, never ids or unknown paths (unbounded label values).
    expect(response.text).not.toContain(user.id);
    expect(response.text).not.toContain('does-not-exist');
  });
});

describe('config events', () => {
  type EventRow = {
    action: string;
    actor_kind: string;
    actor_id: string | null;
    org_id: string;
    target_type: string;
    target_id: string;
    request_id: string;
    details: Record<string, unknown>;
  };
  const eventsFor = (targetId: string) => app.db.query<EventRow>('SELECT * FROM config_events WHERE target_id = $1 ORDER BY at, action', [targetId]);

  it('records user created, updated and deleted, with no password in the details', async () => {
    const email = uniqueEmail('events');
    const newPassword = 'the second secret passphrase';
    const created = await http(app.url, 'POST', '/api/users', { token: org.adminToken, body: { email, password: PASSWORD, role: 'agent' } });
    const updated = await http(app.url, 'PATCH', `/api/users/${created.body.id}`, { token: org.adminToken, body: { role: 'auditor', password: newPassword, name: 'Evan' } });
    const deleted = await http(app.url, 'DELETE', `/api/users/${created.body.id}`, { token: org.adminToken });
    expectStatus(deleted, 204);
    const events = await eventsFor(created.body.id);
    expect(events.map((event) => event.action)).toEqual(['user.created', 'user.updated', 'user.deleted']);
    for (const event of events) {
      expect(event).toMatchObject({ actor_kind: 'user', actor_id: org.adminId, org_id: org.orgId, target_type: 'user' });
    }
    expect(events[0]).toMatchObject({ request_id: created.headers.get('x-request-id'), details: { email, role: 'agent' } });
    expect(events[1].request_id).toBe(updated.headers.get('x-request-id'));
    expect(events[1].details).toMatchObject({ role: 'auditor', name: 'Evan' });
    expect(events[1].details).toHaveProperty('password');
    expect(events[1].details.password).not.toBe(newPassword);
    expect(events[2].request_id).toBe(deleted.headers.get('x-request-id'));
    const text = JSON.stringify(events);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(newPassword);
    expect(text).not.toContain('$argon2');
  });

  it('records no event for a refused change', async () => {
    const before = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM config_events');
    // Each change really is refused (else "no event" would prove nothing): a taken email, the last admin, a short password.
    expectError(await http(app.url, 'POST', '/api/users', { token: org.adminToken, body: { email: org.adminEmail, password: PASSWORD, role: 'agent' } }), 409, 'EMAIL_TAKEN');
    expectError(await http(app.url, 'PATCH', `/api/users/${org.adminId}`, { token: org.adminToken, body: { role: 'agent' } }), 409, 'LAST_ADMIN');
    expectValidation(await http(app.url, 'POST', '/api/users', { token: org.adminToken, body: { email: uniqueEmail(), password: 'short', role: 'agent' } }), 'password');
    const after = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM config_events');
    expect(after[0].n).toBe(before[0].n);
  });

  it('records API key and org changes too (details checked in their own suites)', async () => {
    const key = await http(app.url, 'POST', '/api/api-keys', { token: org.adminToken, body: { name: 'evented', scopes: ['READ_AUDIT'] } });
    await http(app.url, 'PATCH', `/api/orgs/${org.orgId}`, { token: app.operatorToken, body: { name: 'Conventions Org 2' } });
    expect((await eventsFor(key.body.id)).map((event) => event.action)).toEqual(['api_key.created']);
    const orgEvents = await eventsFor(org.orgId);
    expect(orgEvents.map((event) => event.action)).toEqual(expect.arrayContaining(['org.created', 'org.updated']));
  });
});

describe('when the database is unreachable', () => {
  /**
   * A second app whose database connections go through a TCP relay this test can cut, as a network
   * partition or a database restart would.
   */
  let relay: Server;
  let relayPort: number;
  const sockets = new Set<Socket>();
  let cutApp: TestApp;
  let cutOrg: OrgFixture;

  function listenRelay(port = 0): Promise<number> {
    const target = new URL(serverUrl());
    relay = createServer((inbound) => {
      const outbound = connect(Number(target.port || 5432), target.hostname);
      sockets.add(inbound).add(outbound);
      inbound.pipe(outbound).pipe(inbound);
      const drop = () => {
        inbound.destroy();
        outbound.destroy();
        sockets.delete(inbound);
        sockets.delete(outbound);
      };
      inbound.on('error', drop).on('close', drop);
      outbound.on('error', drop).on('close', drop);
    });
    return new Promise((resolve) => relay.listen(port, '127.0.0.1', () => resolve((relay.address() as AddressInfo).port)));
  }

  async function cut(): Promise<void> {
    await new Promise<void>((resolve) => {
      relay.close(() => resolve());
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    });
  }

  beforeAll(async () => {
    const db = await createTestDatabase();
    relayPort = await listenRelay();
    const viaRelay = new URL(db.url);
    viaRelay.host = `127.0.0.1:${relayPort}`;
    cutApp = await startTestApp({ db: { ...db, url: viaRelay.toString() } });
    cutApp.close = async () => {
      await cutApp.app.close();
      await db.drop();
    };
    cutOrg = await createOrgWithAdmin(cutApp, 'Cut Org');
  });

  afterAll(async () => {
    await cutApp?.close();
    await cut().catch(() => undefined);
  });

  it('answers /health/ready and database-backed routes with 503 UNAVAILABLE, and recovers', async () => {
    expectStatus(await http(cutApp.url, 'GET', '/health/ready'), 200);
    await cut();
    try {
      expectError(await http(cutApp.url, 'GET', '/health/ready'), 503, 'UNAVAILABLE');
      expectStatus(await http(cutApp.url, 'GET', '/health'), 200);
      expectError(await http(cutApp.url, 'POST', '/api/auth/login', { body: { email: cutOrg.adminEmail, password: PASSWORD } }), 503, 'UNAVAILABLE');
      expectError(await http(cutApp.url, 'POST', '/api/orgs', { token: cutApp.operatorToken, body: { name: 'During outage' } }), 503, 'UNAVAILABLE');
      // Never a 401 that would log a client out because the database is down, and never a 500.
      const users = await http(cutApp.url, 'GET', '/api/users', { token: cutOrg.adminToken });
      expect([200, 503]).toContain(users.status);
    } finally {
      await listenRelay(relayPort);
    }
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
      status = (await http(cutApp.url, 'GET', '/health/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
    expectStatus(await http(cutApp.url, 'GET', '/api/users', { token: cutOrg.adminToken }), 200);
  });
});
