import { randomBytes, randomUUID } from 'node:crypto';
import { expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, login, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, Client, http } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let operator: Client;

beforeAll(async () => {
  app = await startTestApp();
  operator = client(app.url, app.operatorToken);
});

afterAll(async () => {
  await app?.close();
});

async function newOrg(name = 'Org', parentOrgId?: string) {
  const response = await operator.post('/api/orgs', parentOrgId ? { name, parentOrgId } : { name });
  expectStatus(response, 201);
  return response.body as { id: string; name: string; parentOrgId: string | null; features: { webrtc: boolean }; limits: { mintsPerMinute: number } };
}

describe('POST /api/orgs', () => {
  it('answers 201 {id, name, parentOrgId: null, features: {webrtc: false}, limits: {mintsPerMinute: 600}}', async () => {
    const response = await operator.post('/api/orgs', { name: 'Acme Contact Centre' });
    expectStatus(response, 201);
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      name: 'Acme Contact Centre',
      parentOrgId: null,
      features: { webrtc: false },
      limits: { mintsPerMinute: 600 },
    });
  });

  it('makes a child org under an existing parent, and a grandchild under the child', async () => {
    const parent = await newOrg('Parent');
    const child = await newOrg('Child', parent.id);
    expect(child).toEqual({ id: expect.stringMatching(UUID_PATTERN), name: 'Child', parentOrgId: parent.id, features: { webrtc: false }, limits: { mintsPerMinute: 600 } });
    const grandchild = await newOrg('Grandchild', child.id);
    expect(grandchild.parentOrgId).toBe(child.id);
    expect((await operator.get(`/api/orgs/${child.id}`)).body.parentOrgId).toBe(parent.id);
  });

  it('answers 422 INVALID_PARENT_ORG for an unknown parent and creates nothing', async () => {
    const before = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM orgs');
    expectError(await operator.post('/api/orgs', { name: 'Orphan', parentOrgId: randomUUID() }), 422, 'INVALID_PARENT_ORG');
    const after = await app.db.query<{ n: string }>('SELECT count(*) AS n FROM orgs');
    expect(after[0].n).toBe(before[0].n);
  });

  it.each([
    ['no name', {}, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a name over 200 characters', { name: 'n'.repeat(201) }, 'name'],
    ['a non-string name', { name: 42 }, 'name'],
    ['a malformed parentOrgId', { name: 'x', parentOrgId: 'parent' }, 'parentOrgId'],
    ['features at creation (not part of the body)', { name: 'x', features: { webrtc: true } }, 'features'],
    ['an unknown field', { name: 'x', id: randomUUID() }, 'id'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_label, body, field) => {
    expectValidation(await operator.post('/api/orgs', body), field);
  });

  it('accepts a 200-character name', async () => {
    expect((await newOrg('n'.repeat(200))).name).toHaveLength(200);
  });
});

describe('GET /api/orgs/{orgId}', () => {
  it('reads an org', async () => {
    const org = await newOrg('Readable');
    const response = await operator.get(`/api/orgs/${org.id}`);
    expectStatus(response, 200);
    expect(response.body).toEqual(org);
  });

  it('answers 404 NOT_FOUND for an unknown org and 400 for a malformed id', async () => {
    expectError(await operator.get(`/api/orgs/${randomUUID()}`), 404, 'NOT_FOUND');
    expectValidation(await operator.get('/api/orgs/acme'), 'orgId');
  });
});

describe('PATCH /api/orgs/{orgId}', () => {
  it('renames, switches webrtc and sets mintsPerMinute, and keeps the change', async () => {
    const org = await newOrg('Before');
    const response = await operator.patch(`/api/orgs/${org.id}`, { name: 'After', features: { webrtc: true }, limits: { mintsPerMinute: 1200 } });
    expectStatus(response, 200);
    expect(response.body).toEqual({ id: org.id, name: 'After', parentOrgId: null, features: { webrtc: true }, limits: { mintsPerMinute: 1200 } });
    expect((await operator.get(`/api/orgs/${org.id}`)).body).toEqual(response.body);
    const off = await operator.patch(`/api/orgs/${org.id}`, { features: { webrtc: false } });
    expect(off.body).toMatchObject({ name: 'After', features: { webrtc: false }, limits: { mintsPerMinute: 1200 } });
  });

  it('changes only what is given', async () => {
    const org = await newOrg('Partial');
    expect((await operator.patch(`/api/orgs/${org.id}`, { limits: { mintsPerMinute: 5 } })).body).toEqual({ ...org, limits: { mintsPerMinute: 5 } });
    expect((await operator.patch(`/api/orgs/${org.id}`, { features: {} })).body).toEqual({ ...org, limits: { mintsPerMinute: 5 } });
    expect((await operator.patch(`/api/orgs/${org.id}`, {})).body).toEqual({ ...org, limits: { mintsPerMinute: 5 } });
  });

  it('accepts mintsPerMinute at its bounds 1 and 1000000', async () => {
    const org = await newOrg('Bounds');
    expect((await operator.patch(`/api/orgs/${org.id}`, { limits: { mintsPerMinute: 1 } })).body.limits).toEqual({ mintsPerMinute: 1 });
    expect((await operator.patch(`/api/orgs/${org.id}`, { limits: { mintsPerMinute: 1_000_000 } })).body.limits).toEqual({ mintsPerMinute: 1_000_000 });
  });

  it.each([
    ['mintsPerMinute 0', { limits: { mintsPerMinute: 0 } }, 'limits.mintsPerMinute'],
    ['a negative mintsPerMinute', { limits: { mintsPerMinute: -5 } }, 'limits.mintsPerMinute'],
    ['mintsPerMinute over 1000000', { limits: { mintsPerMinute: 1_000_001 } }, 'limits.mintsPerMinute'],
    ['a fractional mintsPerMinute', { limits: { mintsPerMinute: 1.5 } }, 'limits.mintsPerMinute'],
    ['mintsPerMinute as a string', { limits: { mintsPerMinute: '100' } }, 'limits.mintsPerMinute'],
    ['a huge mintsPerMinute', { limits: { mintsPerMinute: 1e300 } }, 'limits.mintsPerMinute'],
    ['webrtc as a string', { features: { webrtc: 'true' } }, 'features.webrtc'],
    ['an unknown feature', { features: { webrtc: true, sms: true } }, 'features.sms'],
    ['an unknown limit', { limits: { callsPerMinute: 5 } }, 'limits.callsPerMinute'],
    ['features as a string', { features: 'webrtc' }, 'features'],
    ['limits as an array', { limits: [600] }, 'limits'],
    ['limits as an empty array', { limits: [] }, 'limits'],
    ['features as an array of objects', { features: [{ webrtc: true }] }, 'features'],
    ['an unknown top-level field', { parentOrgId: randomUUID() }, 'parentOrgId'],
    ['an empty name', { name: '' }, 'name'],
  ])('answers 400 VALIDATION_FAILED for %s and changes nothing', async (_label, body, field) => {
    const org = await newOrg('Strict');
    expectValidation(await operator.patch(`/api/orgs/${org.id}`, body), field);
    expect((await operator.get(`/api/orgs/${org.id}`)).body).toEqual(org);
  });

  it('answers 404 for an unknown org', async () => {
    expectError(await operator.patch(`/api/orgs/${randomUUID()}`, { name: 'Ghost' }), 404, 'NOT_FOUND');
  });
});

describe('POST /api/orgs/{orgId}/users', () => {
  it("creates the org's first admin: 201 with the user shape; the admin logs in to that org", async () => {
    const org = await newOrg('With Admin');
    const email = uniqueEmail('first-admin');
    const response = await operator.post(`/api/orgs/${org.id}/users`, { email, password: PASSWORD, role: 'admin', name: 'First Admin' });
    expectStatus(response, 201);
    expect(response.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), email, name: 'First Admin', role: 'admin', orgId: org.id, disabled: false });
    const token = await login(app, email);
    const me = await http(app.url, 'GET', '/api/auth/me', { token });
    expect(me.body).toMatchObject({ kind: 'user', orgId: org.id, userId: response.body.id, role: 'admin' });
    expect((await http(app.url, 'GET', '/api/users', { token })).body.map((user: { id: string }) => user.id)).toEqual([response.body.id]);
  });

  it('creates any role', async () => {
    const org = await newOrg('Roles');
    for (const role of ['admin', 'agent', 'auditor']) {
      const response = await operator.post(`/api/orgs/${org.id}/users`, { email: uniqueEmail(role), password: PASSWORD, role });
      expectStatus(response, 201);
      expect(response.body.role).toBe(role);
    }
  });

  it('answers 404 for an unknown org and 400 for a malformed one', async () => {
    expectError(await operator.post(`/api/orgs/${randomUUID()}/users`, { email: uniqueEmail(), password: PASSWORD, role: 'admin' }), 404, 'NOT_FOUND');
    expectValidation(await operator.post('/api/orgs/nope/users', { email: uniqueEmail(), password: PASSWORD, role: 'admin' }), 'orgId');
  });

  it('answers 409 EMAIL_TAKEN and 400 like POST /api/users', async () => {
    const org = await newOrg('Dupes');
    const email = uniqueEmail('dupe');
    expectStatus(await operator.post(`/api/orgs/${org.id}/users`, { email, password: PASSWORD, role: 'admin' }), 201);
    expectError(await operator.post(`/api/orgs/${org.id}/users`, { email: email.toUpperCase(), password: PASSWORD, role: 'admin' }), 409, 'EMAIL_TAKEN');
    expectValidation(await operator.post(`/api/orgs/${org.id}/users`, { email: uniqueEmail(), password: 'short', role: 'admin' }), 'password');
    expectValidation(await operator.post(`/api/orgs/${org.id}/users`, { email: uniqueEmail(), password: PASSWORD, role: 'superuser' }), 'role');
  });
});

describe('operator authentication', () => {
  it('answers 401 UNAUTHORIZED with no token or a wrong operator token on every operator route', async () => {
    const org = await newOrg('Locked');
    const wrong = client(app.url, `op_${randomBytes(24).toString('base64url')}`);
    const anonymous = client(app.url);
    for (const who of [anonymous, wrong]) {
      expectError(await who.post('/api/orgs', { name: 'x' }), 401, 'UNAUTHORIZED');
      expectError(await who.get(`/api/orgs/${org.id}`), 401, 'UNAUTHORIZED');
      expectError(await who.patch(`/api/orgs/${org.id}`, { name: 'x' }), 401, 'UNAUTHORIZED');
      expectError(await who.post(`/api/orgs/${org.id}/users`, { email: uniqueEmail(), password: PASSWORD, role: 'admin' }), 401, 'UNAUTHORIZED');
    }
    expect((await operator.get(`/api/orgs/${org.id}`)).body.name).toBe('Locked');
  });

  it('answers 403 OPERATOR_ONLY to an org admin, even for their own org', async () => {
    const fixture = await createOrgWithAdmin(app, 'Own Org');
    expectError(await fixture.admin.get(`/api/orgs/${fixture.orgId}`), 403, 'OPERATOR_ONLY');
    expectError(await fixture.admin.patch(`/api/orgs/${fixture.orgId}`, { limits: { mintsPerMinute: 1_000_000 } }), 403, 'OPERATOR_ONLY');
    expectError(await fixture.admin.post('/api/orgs', { name: 'Sneaky', parentOrgId: fixture.orgId }), 403, 'OPERATOR_ONLY');
    expect((await operator.get(`/api/orgs/${fixture.orgId}`)).body.limits.mintsPerMinute).toBe(600);
  });

  it('has no operator at all when OPERATOR_TOKEN is unset: every operator route is 401', async () => {
    const noOperator = await startTestApp({ config: { operatorToken: undefined } });
    try {
      for (const token of ['', 'undefined', 'null', noOperator.operatorToken]) {
        const response = await http(noOperator.url, 'POST', '/api/orgs', { token: token || undefined, body: { name: 'x' } });
        expectError(response, 401, 'UNAUTHORIZED');
      }
    } finally {
      await noOperator.close();
    }
  });
});

describe('config events', () => {
  it('records org.created and org.updated as the operator, with what changed', async () => {
    const created = await operator.post('/api/orgs', { name: 'Evented' });
    const patched = await operator.patch(`/api/orgs/${created.body.id}`, { name: 'Evented 2', features: { webrtc: true }, limits: { mintsPerMinute: 42 } });
    const events = await app.db.query<{
      action: string;
      actor_kind: string;
      actor_id: string | null;
      org_id: string;
      target_type: string;
      target_id: string;
      request_id: string;
      details: Record<string, unknown>;
    }>(`SELECT * FROM config_events WHERE target_type = 'org' AND target_id = $1 ORDER BY at`, [created.body.id]);
    const byAction = Object.fromEntries(events.map((event) => [event.action, event]));
    expect(byAction['org.created']).toMatchObject({ actor_kind: 'operator', actor_id: null, org_id: created.body.id, request_id: created.headers.get('x-request-id') });
    expect(byAction['org.created'].details).toMatchObject({ name: 'Evented', parentOrgId: null });
    expect(byAction['org.updated']).toMatchObject({ actor_kind: 'operator', request_id: patched.headers.get('x-request-id') });
    expect(byAction['org.updated'].details).toEqual({ name: 'Evented 2', 'features.webrtc': true, 'limits.mintsPerMinute': 42 });
    expect(JSON.stringify(events)).not.toContain(app.operatorToken);
  });

  it('records the operator creating a user, without the password', async () => {
    const org = await newOrg('Evented Users');
    const email = uniqueEmail('evented');
    const created = await operator.post(`/api/orgs/${org.id}/users`, { email, password: PASSWORD, role: 'admin' });
    const events = await app.db.query<{ action: string; actor_kind: string; details: unknown }>(`SELECT * FROM config_events WHERE target_id = $1`, [created.body.id]);
    expect(events).toEqual([expect.objectContaining({ action: 'user.created', actor_kind: 'operator', details: { email, role: 'admin' } })]);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });
});
