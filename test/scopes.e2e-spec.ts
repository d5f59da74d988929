import { randomUUID } from 'node:crypto';
import { Scope, SCOPES } from '../libs/access/src/scopes';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let org: OrgFixture;
let agent: Client;
let auditor: Client;
let someUserId: string;
let someKeyId: string;

async function apiKeyClient(scopes: Scope[]): Promise<Client> {
  return client(app.url, (await createApiKey(org.admin, scopes)).token);
}

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Scopes Org');
  agent = (await createUser(app, org, 'agent')).client;
  auditor = (await createUser(app, org, 'auditor')).client;
  someUserId = (await createUser(app, org, 'agent')).id;
  const key = await org.admin.post('/api/api-keys', { name: 'target', scopes: ['READ_AUDIT'] });
  someKeyId = key.body.id;
});

afterAll(async () => {
  await app?.close();
});

/** Every MANAGE_USERS and MANAGE_API_KEYS route, with a body the guard never gets to read. */
const manageUsersRoutes = () =>
  [
    ['GET', '/api/users'],
    ['POST', '/api/users'],
    ['GET', `/api/users/${someUserId}`],
    ['PATCH', `/api/users/${someUserId}`],
    ['DELETE', `/api/users/${someUserId}`],
  ] as const;
const manageApiKeysRoutes = () =>
  [
    ['GET', '/api/api-keys'],
    ['POST', '/api/api-keys'],
    ['PATCH', `/api/api-keys/${someKeyId}`],
    ['DELETE', `/api/api-keys/${someKeyId}`],
  ] as const;
const operatorRoutes = () =>
  [
    ['POST', '/api/orgs'],
    ['GET', `/api/orgs/${org.orgId}`],
    ['PATCH', `/api/orgs/${org.orgId}`],
    ['POST', `/api/orgs/${org.orgId}/users`],
  ] as const;

function send(who: Client, method: string, path: string) {
  switch (method) {
    case 'GET':
      return who.get(path);
    case 'DELETE':
      return who.delete(path);
    case 'POST':
      return who.post(path, { email: uniqueEmail('x'), password: PASSWORD, role: 'admin', name: 'x', scopes: [...SCOPES] });
    default:
      return who.patch(path, { role: 'admin', scopes: [...SCOPES], name: 'renamed' });
  }
}

async function expectAllRefused(who: Client, routes: ReadonlyArray<readonly [string, string]>, code: string) {
  for (const [method, path] of routes) {
    const response = await send(who, method, path);
    expect(`${method} ${path} -> ${response.status} ${response.body?.code}`).toBe(`${method} ${path} -> 403 ${code}`);
    expectError(response, 403, code);
  }
}

describe('roles', () => {
  it('refuses an agent on every MANAGE_USERS and MANAGE_API_KEYS route with 403 MISSING_SCOPE', async () => {
    await expectAllRefused(agent, [...manageUsersRoutes(), ...manageApiKeysRoutes()], 'MISSING_SCOPE');
  });

  it('refuses an auditor on every MANAGE_USERS and MANAGE_API_KEYS route with 403 MISSING_SCOPE', async () => {
    await expectAllRefused(auditor, [...manageUsersRoutes(), ...manageApiKeysRoutes()], 'MISSING_SCOPE');
  });

  it('changed nothing while refusing: the target user and key are as they were', async () => {
    const user = await org.admin.get(`/api/users/${someUserId}`);
    expect(user.body).toMatchObject({ role: 'agent', disabled: false });
    const keys = await org.admin.get('/api/api-keys');
    expect(keys.body.find((key: { id: string }) => key.id === someKeyId)).toMatchObject({ name: 'target', scopes: ['READ_AUDIT'] });
  });

  it('names the missing scope in the message', async () => {
    const body = expectError(await agent.get('/api/users'), 403, 'MISSING_SCOPE');
    expect(body.error).toContain('MANAGE_USERS');
  });

  it('lets an admin use them all', async () => {
    expectStatus(await org.admin.get('/api/users'), 200);
    expectStatus(await org.admin.get(`/api/users/${someUserId}`), 200);
    expectStatus(await org.admin.get('/api/api-keys'), 200);
  });

  it('lets every role read /api/auth/me', async () => {
    expectStatus(await agent.get('/api/auth/me'), 200);
    expectStatus(await auditor.get('/api/auth/me'), 200);
  });
});

describe('operator and tenant routes are apart', () => {
  it('refuses the operator token on tenant routes with 403 MISSING_SCOPE', async () => {
    await expectAllRefused(org.operator, [...manageUsersRoutes(), ...manageApiKeysRoutes()], 'MISSING_SCOPE');
  });

  it('refuses users of every role on operator routes with 403 OPERATOR_ONLY', async () => {
    await expectAllRefused(org.admin, operatorRoutes(), 'OPERATOR_ONLY');
    await expectAllRefused(agent, operatorRoutes(), 'OPERATOR_ONLY');
    await expectAllRefused(auditor, operatorRoutes(), 'OPERATOR_ONLY');
  });

  it('refuses an API key holding every scope on operator routes with 403 OPERATOR_ONLY', async () => {
    await expectAllRefused(await apiKeyClient([...SCOPES]), operatorRoutes(), 'OPERATOR_ONLY');
  });

  it('answers the operator on an unknown org with 404, not with 403 (it may use the route)', async () => {
    expectError(await org.operator.get(`/api/orgs/${randomUUID()}`), 404, 'NOT_FOUND');
  });
});

describe('API keys hold exactly their scopes', () => {
  it('lets a MANAGE_USERS-only key use the user routes but not the API key routes', async () => {
    const key = await apiKeyClient(['MANAGE_USERS']);
    expectStatus(await key.get('/api/users'), 200);
    expectStatus(await key.get(`/api/users/${someUserId}`), 200);
    // Changing a user also needs the scopes of that user's role (an agent here).
    expectError(await key.patch(`/api/users/${someUserId}`, { name: 'Renamed by key' }), 403, 'SCOPE_ESCALATION');
    const agentManager = await apiKeyClient(['MANAGE_USERS', 'CREATE_CALL_TOKEN', 'READ_CALL_TOKEN', 'CREATE_CHAT_TOKEN']);
    expectStatus(await agentManager.patch(`/api/users/${someUserId}`, { name: 'Renamed by key' }), 200);
    await expectAllRefused(key, manageApiKeysRoutes(), 'MISSING_SCOPE');
  });

  it('lets a MANAGE_API_KEYS-only key use the API key routes but not the user routes', async () => {
    const key = await apiKeyClient(['MANAGE_API_KEYS']);
    expectStatus(await key.get('/api/api-keys'), 200);
    await expectAllRefused(key, manageUsersRoutes(), 'MISSING_SCOPE');
  });

  it('refuses a key with neither scope on both', async () => {
    const key = await apiKeyClient(['READ_AUDIT', 'CREATE_CALL_TOKEN']);
    await expectAllRefused(key, [...manageUsersRoutes(), ...manageApiKeysRoutes()], 'MISSING_SCOPE');
    expect((await key.get('/api/auth/me')).body.scopes).toEqual(['READ_AUDIT', 'CREATE_CALL_TOKEN']);
  });

  it('does not let a key grant a role beyond its own scopes (403 SCOPE_ESCALATION)', async () => {
    const key = await apiKeyClient(['MANAGE_USERS', 'READ_AUDIT']);
    const auditorCreated = await key.post('/api/users', { email: uniqueEmail('by-key'), password: PASSWORD, role: 'auditor' });
    expectStatus(auditorCreated, 201);
    expectError(await key.post('/api/users', { email: uniqueEmail('by-key'), password: PASSWORD, role: 'agent' }), 403, 'SCOPE_ESCALATION');
    expectError(await key.post('/api/users', { email: uniqueEmail('by-key'), password: PASSWORD, role: 'admin' }), 403, 'SCOPE_ESCALATION');
    expectError(await key.patch(`/api/users/${auditorCreated.body.id}`, { role: 'admin' }), 403, 'SCOPE_ESCALATION');
    expect((await org.admin.get(`/api/users/${auditorCreated.body.id}`)).body.role).toBe('auditor');
  });
});
