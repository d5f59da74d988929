import { randomUUID } from 'node:crypto';
import { SCOPES } from '../libs/access/src/scopes';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, Client, http } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

/**
 * The privilege rules of users and keys, attacked over HTTP: a principal may create, change or delete a
 * user only when that user's role (and a new role) is within its own scopes, and change or delete a key
 * only when the key's scopes are within its own; anything else is 403 SCOPE_ESCALATION and changes nothing.
 */

let app: TestApp;
let org: OrgFixture;
let other: OrgFixture;

const NEW_PASSWORD = 'a brand new password of mine';
const AGENT_SCOPES = ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN', 'CREATE_CHAT_TOKEN'];

interface UserRow {
  role: string;
  disabled: boolean;
  name: string | null;
  email: string;
  password_hash: string;
}

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Privilege Org');
  other = await createOrgWithAdmin(app, 'Other Org');
});

afterAll(async () => {
  await app?.close();
});

/** A key of the fixture org (made by its admin) holding exactly these scopes. */
async function keyWith(scopes: string[], by: Client = org.admin): Promise<{ id: string; token: string; client: Client }> {
  const response = await by.post('/api/api-keys', { name: `key ${scopes.join(' ')}`, scopes });
  expectStatus(response, 201);
  return { id: response.body.id, token: response.body.token, client: client(app.url, response.body.token) };
}

async function userRow(id: string): Promise<UserRow | undefined> {
  const rows = await app.db.query<UserRow>('SELECT role, disabled, name, email, password_hash FROM users WHERE id = $1', [id]);
  return rows[0];
}

const loginWith = (email: string, password: string) => http(app.url, 'POST', '/api/auth/login', { body: { email, password } });

describe('a MANAGE_USERS-only key against an admin', () => {
  let manageUsers: Client;

  beforeAll(async () => {
    manageUsers = (await keyWith(['MANAGE_USERS'])).client;
  });

  it("cannot set the admin's password: 403 SCOPE_ESCALATION, the new password does not log in, the row is unchanged", async () => {
    const admin = await createUser(app, org, 'admin');
    const before = await userRow(admin.id);
    const body = expectError(await manageUsers.patch(`/api/users/${admin.id}`, { password: NEW_PASSWORD }), 403, 'SCOPE_ESCALATION');
    expect(body.error).toContain('MANAGE_CREDENTIALS');
    expect(body.error).not.toContain(NEW_PASSWORD);
    expectError(await loginWith(admin.email, NEW_PASSWORD), 401, 'INVALID_CREDENTIALS');
    expectStatus(await loginWith(admin.email, PASSWORD), 200);
    expect(await userRow(admin.id)).toEqual(before);
  });

  it('cannot disable the admin, whose token keeps working', async () => {
    const admin = await createUser(app, org, 'admin');
    const before = await userRow(admin.id);
    expectError(await manageUsers.patch(`/api/users/${admin.id}`, { disabled: true }), 403, 'SCOPE_ESCALATION');
    expect(await userRow(admin.id)).toEqual(before);
    expect((await admin.client.get('/api/auth/me')).body).toMatchObject({ kind: 'user', userId: admin.id, role: 'admin' });
  });

  it('cannot rename the admin or demote them', async () => {
    const admin = await createUser(app, org, 'admin');
    const before = await userRow(admin.id);
    expectError(await manageUsers.patch(`/api/users/${admin.id}`, { name: 'Owned' }), 403, 'SCOPE_ESCALATION');
    expectError(await manageUsers.patch(`/api/users/${admin.id}`, { role: 'auditor' }), 403, 'SCOPE_ESCALATION');
    expect(await userRow(admin.id)).toEqual(before);
  });

  it('cannot delete the admin, who can still log in', async () => {
    const admin = await createUser(app, org, 'admin');
    expectError(await manageUsers.delete(`/api/users/${admin.id}`), 403, 'SCOPE_ESCALATION');
    expect(await userRow(admin.id)).toMatchObject({ role: 'admin', disabled: false });
    expectStatus(await loginWith(admin.email, PASSWORD), 200);
  });

  it('cannot create a user of any role; nothing is written', async () => {
    for (const role of ['admin', 'agent', 'auditor']) {
      const email = uniqueEmail(`by-key-${role}`);
      expectError(await manageUsers.post('/api/users', { email, password: PASSWORD, role }), 403, 'SCOPE_ESCALATION');
      expect(await app.db.query('SELECT id FROM users WHERE email = $1', [email])).toEqual([]);
    }
  });
});

describe('a key holding MANAGE_USERS and the agent scopes', () => {
  let agentManager: Client;

  beforeAll(async () => {
    agentManager = (await keyWith(['MANAGE_USERS', ...AGENT_SCOPES])).client;
  });

  it('cannot make an agent an admin (the new role is beyond its scopes)', async () => {
    const agent = await createUser(app, org, 'agent');
    const before = await userRow(agent.id);
    const body = expectError(await agentManager.patch(`/api/users/${agent.id}`, { role: 'admin' }), 403, 'SCOPE_ESCALATION');
    expect(body.error).toContain('MANAGE_API_KEYS');
    expect(await userRow(agent.id)).toEqual(before);
    expect((await agent.client.get('/api/auth/me')).body).toMatchObject({ role: 'agent', scopes: AGENT_SCOPES });
    expectError(await agent.client.get('/api/users'), 403, 'MISSING_SCOPE');
  });

  it('cannot touch an admin or an auditor, whatever the change', async () => {
    const admin = await createUser(app, org, 'admin');
    const auditor = await createUser(app, org, 'auditor');
    for (const target of [admin, auditor]) {
      const before = await userRow(target.id);
      expectError(await agentManager.patch(`/api/users/${target.id}`, { password: NEW_PASSWORD }), 403, 'SCOPE_ESCALATION');
      expectError(await agentManager.patch(`/api/users/${target.id}`, { role: 'agent' }), 403, 'SCOPE_ESCALATION');
      expectError(await agentManager.delete(`/api/users/${target.id}`), 403, 'SCOPE_ESCALATION');
      expect(await userRow(target.id)).toEqual(before);
    }
  });

  it('may create, change and delete an agent', async () => {
    const email = uniqueEmail('managed-agent');
    const created = await agentManager.post('/api/users', { email, password: PASSWORD, role: 'agent' });
    expectStatus(created, 201);
    const changed = await agentManager.patch(`/api/users/${created.body.id}`, { name: 'Renamed', password: NEW_PASSWORD, role: 'agent' });
    expectStatus(changed, 200);
    expect(changed.body).toMatchObject({ name: 'Renamed', role: 'agent', disabled: false });
    expectStatus(await loginWith(email, NEW_PASSWORD), 200);
    expectStatus(await agentManager.patch(`/api/users/${created.body.id}`, { disabled: true }), 200);
    expectError(await loginWith(email, NEW_PASSWORD), 401, 'USER_DISABLED');
    expectStatus(await agentManager.delete(`/api/users/${created.body.id}`), 204);
    expect(await userRow(created.body.id)).toBeUndefined();
  });
});

describe('an admin', () => {
  it("may change another admin's password and delete them", async () => {
    const admin = await createUser(app, org, 'admin');
    expectStatus(await org.admin.patch(`/api/users/${admin.id}`, { password: NEW_PASSWORD, name: 'Second' }), 200);
    expectStatus(await loginWith(admin.email, NEW_PASSWORD), 200);
    expectStatus(await org.admin.delete(`/api/users/${admin.id}`), 204);
    expect(await userRow(admin.id)).toBeUndefined();
  });

  it('may make an agent an admin', async () => {
    const agent = await createUser(app, org, 'agent');
    expectStatus(await org.admin.patch(`/api/users/${agent.id}`, { role: 'admin' }), 200);
    expect((await agent.client.get('/api/auth/me')).body).toMatchObject({ role: 'admin', scopes: [...SCOPES] });
  });

  it('may be made through the operator route as an org’s first admin', async () => {
    const created = await org.operator.post('/api/orgs', { name: 'Fresh Org' });
    expectStatus(created, 201);
    const email = uniqueEmail('first-admin');
    const admin = await org.operator.post(`/api/orgs/${created.body.id}/users`, { email, password: PASSWORD, role: 'admin' });
    expectStatus(admin, 201);
    expect(admin.body).toMatchObject({ role: 'admin', orgId: created.body.id });
    expectStatus(await loginWith(email, PASSWORD), 200);
  });
});

describe("another org's users and keys", () => {
  it('are 404, never 403, to a principal the privilege rule would refuse; nothing changes', async () => {
    const manageUsers = (await keyWith(['MANAGE_USERS'])).client;
    const before = await userRow(other.adminId);
    expectError(await manageUsers.patch(`/api/users/${other.adminId}`, { password: NEW_PASSWORD }), 404, 'NOT_FOUND');
    expectError(await manageUsers.patch(`/api/users/${other.adminId}`, { role: 'admin' }), 404, 'NOT_FOUND');
    expectError(await manageUsers.delete(`/api/users/${other.adminId}`), 404, 'NOT_FOUND');
    expectError(await manageUsers.patch(`/api/users/${randomUUID()}`, { role: 'admin' }), 404, 'NOT_FOUND');
    expect(await userRow(other.adminId)).toEqual(before);

    const theirs = await keyWith([...SCOPES], other.admin);
    const manageKeys = (await keyWith(['MANAGE_API_KEYS'])).client;
    expectError(await manageKeys.patch(`/api/api-keys/${theirs.id}`, { name: 'hijacked' }), 404, 'NOT_FOUND');
    expectError(await manageKeys.delete(`/api/api-keys/${theirs.id}`), 404, 'NOT_FOUND');
    expectStatus(await http(app.url, 'GET', '/api/users', { token: theirs.token }), 200);
  });
});

describe('a narrower key against a broader key', () => {
  it('cannot rename, narrow or delete it (403 SCOPE_ESCALATION); the broader key keeps working unchanged', async () => {
    const broad = await keyWith([...SCOPES]);
    const narrow = (await keyWith(['MANAGE_API_KEYS'])).client;
    expectError(await narrow.patch(`/api/api-keys/${broad.id}`, { name: 'renamed' }), 403, 'SCOPE_ESCALATION');
    expectError(await narrow.patch(`/api/api-keys/${broad.id}`, { scopes: ['MANAGE_API_KEYS'] }), 403, 'SCOPE_ESCALATION');
    expectError(await narrow.delete(`/api/api-keys/${broad.id}`), 403, 'SCOPE_ESCALATION');
    const me = await broad.client.get('/api/auth/me');
    expectStatus(me, 200);
    expect(me.body.scopes).toEqual([...SCOPES]);
    const listed = (await org.admin.get('/api/api-keys')).body.find((key: { id: string }) => key.id === broad.id);
    expect(listed).toMatchObject({ name: `key ${SCOPES.join(' ')}`, scopes: [...SCOPES] });
  });

  it('may rename, narrow and delete a key within its own scopes', async () => {
    const manager = (await keyWith(['MANAGE_API_KEYS', 'READ_AUDIT', 'MANAGE_USERS'])).client;
    const target = await keyWith(['READ_AUDIT', 'MANAGE_USERS']);
    const changed = await manager.patch(`/api/api-keys/${target.id}`, { name: 'narrowed', scopes: ['READ_AUDIT'] });
    expectStatus(changed, 200);
    expect(changed.body).toMatchObject({ name: 'narrowed', scopes: ['READ_AUDIT'] });
    expectStatus(await manager.delete(`/api/api-keys/${target.id}`), 204);
    expectError(await target.client.get('/api/auth/me'), 401, 'UNAUTHORIZED');
  });
});

describe('OpenAPI', () => {
  it('documents 403 SCOPE_ESCALATION on every route the privilege rules guard', async () => {
    const paths = (await http(app.url, 'GET', '/docs/openapi.json')).body.paths as Record<string, Record<string, { responses: Record<string, { description: string }> }>>;
    const guarded = [
      ['/api/users', 'post'],
      ['/api/users/{id}', 'patch'],
      ['/api/users/{id}', 'delete'],
      ['/api/api-keys', 'post'],
      ['/api/api-keys/{id}', 'patch'],
      ['/api/api-keys/{id}', 'delete'],
    ];
    for (const [path, method] of guarded) {
      expect(`${method} ${path}: ${paths[path][method].responses['403']?.description}`).toMatch(/SCOPE_ESCALATION/);
      expect(`${method} ${path}: ${paths[path][method].responses['403']?.description}`).toMatch(/MISSING_SCOPE/);
    }
  });
});
