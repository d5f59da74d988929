import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, login, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, http } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let org: OrgFixture;
let other: OrgFixture;

const USER_KEYS = ['disabled', 'email', 'id', 'name', 'orgId', 'role'];

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Users Org');
  other = await createOrgWithAdmin(app, 'Other Org');
});

afterAll(async () => {
  await app?.close();
});

describe('POST /api/users', () => {
  it('creates a user: 201 {id, email, name, role, orgId, disabled: false}', async () => {
    const email = uniqueEmail('agent');
    const response = await org.admin.post('/api/users', { email, password: PASSWORD, role: 'agent', name: 'Ada Agent' });
    expectStatus(response, 201);
    expect(response.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), email, name: 'Ada Agent', role: 'agent', orgId: org.orgId, disabled: false });
    expect(response.text).not.toContain(PASSWORD);
    expect(response.text).not.toMatch(/hash/i);
    // The new user can log in.
    expectStatus(await http(app.url, 'POST', '/api/auth/login', { body: { email, password: PASSWORD } }), 200);
  });

  it('answers name null when no name is given, and stores the email lower-cased and trimmed', async () => {
    const email = uniqueEmail('MixedCase');
    const response = await org.admin.post('/api/users', { email: `  ${email.toUpperCase()} `, password: PASSWORD, role: 'auditor' });
    expectStatus(response, 201);
    expect(response.body).toMatchObject({ email: email.toLowerCase(), name: null, role: 'auditor', disabled: false });
  });

  it('stores the password only as an argon2id hash', async () => {
    const email = uniqueEmail('hashed');
    const response = await org.admin.post('/api/users', { email, password: PASSWORD, role: 'agent' });
    const rows = await app.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [response.body.id]);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$/);
    expect(rows[0].password_hash).not.toContain(PASSWORD);
  });

  it('answers 409 EMAIL_TAKEN for a taken email, whatever its case, in this org or another', async () => {
    const email = uniqueEmail('taken');
    expectStatus(await org.admin.post('/api/users', { email, password: PASSWORD, role: 'agent' }), 201);
    expectError(await org.admin.post('/api/users', { email, password: PASSWORD, role: 'agent' }), 409, 'EMAIL_TAKEN');
    expectError(await org.admin.post('/api/users', { email: email.toUpperCase(), password: PASSWORD, role: 'agent' }), 409, 'EMAIL_TAKEN');
    expectError(await other.admin.post('/api/users', { email, password: PASSWORD, role: 'agent' }), 409, 'EMAIL_TAKEN');
    // The first user is untouched.
    const list = await org.admin.get('/api/users');
    expect(list.body.filter((user: { email: string }) => user.email === email)).toHaveLength(1);
  });

  it('answers 400 VALIDATION_FAILED with details [{field: password}] for a password under 12 characters', async () => {
    const response = await org.admin.post('/api/users', { email: uniqueEmail(), password: 'elevenchars', role: 'agent' });
    const body = expectValidation(response, 'password');
    expect(body.details).toEqual([{ field: 'password', message: expect.any(String) }]);
    expectStatus(await org.admin.post('/api/users', { email: uniqueEmail(), password: 'twelve chars', role: 'agent' }), 201);
  });

  it.each([
    ['an unknown role', { role: 'owner' }, 'role'],
    ['a missing role', { role: undefined }, 'role'],
    ['a role of the wrong type', { role: 1 }, 'role'],
    ['a missing email', { email: undefined }, 'email'],
    ['an invalid email', { email: 'not-an-email' }, 'email'],
    ['an overlong email', { email: `${'a'.repeat(250)}@example.com` }, 'email'],
    ['a missing password', { password: undefined }, 'password'],
    ['a non-string password', { password: 123456789012345 }, 'password'],
    ['a password over 512 characters', { password: 'p'.repeat(513) }, 'password'],
    ['an empty name', { name: '' }, 'name'],
    ['an unknown field', { admin: true }, 'admin'],
    ['an orgId in the body', { orgId: randomUUID() }, 'orgId'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_label, change, field) => {
    const body = { email: uniqueEmail(), password: PASSWORD, role: 'agent', ...change };
    expectValidation(await org.admin.post('/api/users', body), field);
  });

  it('creates the user in the caller org, never in another', async () => {
    const response = await other.admin.post('/api/users', { email: uniqueEmail(), password: PASSWORD, role: 'agent' });
    expect(response.body.orgId).toBe(other.orgId);
  });
});

describe('GET /api/users and /api/users/{id}', () => {
  it('lists exactly the users of the caller org, each with the user shape and no secret', async () => {
    const mine = await createUser(app, org, 'agent');
    const theirs = await createUser(app, other, 'agent');
    const response = await org.admin.get('/api/users');
    expectStatus(response, 200);
    expect(Array.isArray(response.body)).toBe(true);
    const ids = response.body.map((user: { id: string }) => user.id);
    expect(ids).toContain(mine.id);
    expect(ids).toContain(org.adminId);
    expect(ids).not.toContain(theirs.id);
    expect(ids).not.toContain(other.adminId);
    for (const user of response.body) {
      expect(Object.keys(user).sort()).toEqual(USER_KEYS);
      expect(user.orgId).toBe(org.orgId);
    }
    expect(response.text).not.toMatch(/password|\$argon2/i);
  });

  it('reads one user', async () => {
    const user = await createUser(app, org, 'auditor');
    const response = await org.admin.get(`/api/users/${user.id}`);
    expectStatus(response, 200);
    expect(response.body).toEqual({ id: user.id, email: user.email, name: null, role: 'auditor', orgId: org.orgId, disabled: false });
  });

  it('accepts an upper-case UUID in the path', async () => {
    const response = await org.admin.get(`/api/users/${org.adminId.toUpperCase()}`);
    expectStatus(response, 200);
    expect(response.body.id).toBe(org.adminId);
  });

  it('answers 404 for an unknown id and for a user of another org', async () => {
    expectError(await org.admin.get(`/api/users/${randomUUID()}`), 404, 'NOT_FOUND');
    expectError(await org.admin.get(`/api/users/${other.adminId}`), 404, 'NOT_FOUND');
  });

  it.each(['not-a-uuid', '123', `${randomUUID()}x`, "1' OR '1'='1"])('answers 400 for the malformed id %s', async (id) => {
    const body = expectValidation(await org.admin.get(`/api/users/${encodeURIComponent(id)}`), 'id');
    expect(body.details).toEqual([{ field: 'id', message: expect.any(String) }]);
    expectValidation(await org.admin.patch(`/api/users/${encodeURIComponent(id)}`, { name: 'x' }), 'id');
    expectValidation(await org.admin.delete(`/api/users/${encodeURIComponent(id)}`), 'id');
  });
});

describe('PATCH /api/users/{id}', () => {
  it('changes the name, role and disabled flag and answers the user', async () => {
    const user = await createUser(app, org, 'agent');
    const response = await org.admin.patch(`/api/users/${user.id}`, { name: 'New Name', role: 'auditor', disabled: true });
    expectStatus(response, 200);
    expect(response.body).toEqual({ id: user.id, email: user.email, name: 'New Name', role: 'auditor', orgId: org.orgId, disabled: true });
    expect((await org.admin.get(`/api/users/${user.id}`)).body).toEqual(response.body);
  });

  it('changes the password: the new one logs in, the old one does not', async () => {
    const user = await createUser(app, org, 'agent');
    const response = await org.admin.patch(`/api/users/${user.id}`, { password: 'another long passphrase' });
    expectStatus(response, 200);
    expect(response.text).not.toContain('another long passphrase');
    expectError(await http(app.url, 'POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD } }), 401, 'INVALID_CREDENTIALS');
    await login(app, user.email, 'another long passphrase');
  });

  it('answers an empty patch with the unchanged user', async () => {
    const user = await createUser(app, org, 'agent');
    const response = await org.admin.patch(`/api/users/${user.id}`, {});
    expectStatus(response, 200);
    expect(response.body).toMatchObject({ id: user.id, role: 'agent', disabled: false });
  });

  it.each([
    ['a short password', { password: 'short' }, 'password'],
    ['an unknown role', { role: 'root' }, 'role'],
    ['a non-boolean disabled', { disabled: 'yes' }, 'disabled'],
    ['an email change (not allowed)', { email: 'new@example.com' }, 'email'],
    ['an orgId change', { orgId: randomUUID() }, 'orgId'],
  ])('answers 400 for %s', async (_label, body, field) => {
    const user = await createUser(app, org, 'agent');
    expectValidation(await org.admin.patch(`/api/users/${user.id}`, body), field);
    expect((await org.admin.get(`/api/users/${user.id}`)).body).toMatchObject({ role: 'agent', disabled: false, orgId: org.orgId });
  });

  it('answers 404 for a user of another org and changes nothing there', async () => {
    expectError(await org.admin.patch(`/api/users/${other.adminId}`, { disabled: true, role: 'agent' }), 404, 'NOT_FOUND');
    expectError(await org.admin.patch(`/api/users/${randomUUID()}`, { name: 'x' }), 404, 'NOT_FOUND');
    expect((await other.admin.get(`/api/users/${other.adminId}`)).body).toMatchObject({ role: 'admin', disabled: false });
  });

  it('refuses an API key without the scopes of the admin role giving role admin (403 SCOPE_ESCALATION)', async () => {
    const key = await org.admin.post('/api/api-keys', { name: 'users only', scopes: ['MANAGE_USERS'] });
    const keyClient = client(app.url, key.body.token);
    const user = await createUser(app, org, 'auditor');
    expectError(await keyClient.patch(`/api/users/${user.id}`, { role: 'admin' }), 403, 'SCOPE_ESCALATION');
    expectError(await keyClient.post('/api/users', { email: uniqueEmail(), password: PASSWORD, role: 'admin' }), 403, 'SCOPE_ESCALATION');
    expect((await org.admin.get(`/api/users/${user.id}`)).body.role).toBe('auditor');
    // A key holding every scope may.
    const full = await org.admin.post('/api/api-keys', {
      name: 'all',
      scopes: ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN', 'CREATE_CHAT_TOKEN', 'MANAGE_USERS', 'MANAGE_CREDENTIALS', 'MANAGE_API_KEYS', 'MANAGE_ENDPOINTS', 'READ_AUDIT'],
    });
    expectStatus(await client(app.url, full.body.token).patch(`/api/users/${user.id}`, { role: 'admin' }), 200);
  });
});

describe('DELETE /api/users/{id}', () => {
  it('answers 204 with no body; the user is gone and cannot log in', async () => {
    const user = await createUser(app, org, 'agent');
    const response = await org.admin.delete(`/api/users/${user.id}`);
    expectStatus(response, 204);
    expect(response.text).toBe('');
    expectError(await org.admin.get(`/api/users/${user.id}`), 404, 'NOT_FOUND');
    expectError(await org.admin.delete(`/api/users/${user.id}`), 404, 'NOT_FOUND');
    expectError(await http(app.url, 'POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD } }), 401, 'INVALID_CREDENTIALS');
  });

  it('answers 404 for a user of another org and leaves that user in place', async () => {
    const theirs = await createUser(app, other, 'agent');
    expectError(await org.admin.delete(`/api/users/${theirs.id}`), 404, 'NOT_FOUND');
    expectStatus(await other.admin.get(`/api/users/${theirs.id}`), 200);
    expectStatus(await theirs.client.get('/api/auth/me'), 200);
  });

  it('frees the email for a new user', async () => {
    const user = await createUser(app, org, 'agent');
    expectStatus(await org.admin.delete(`/api/users/${user.id}`), 204);
    expectStatus(await org.admin.post('/api/users', { email: user.email, password: PASSWORD, role: 'agent' }), 201);
  });
});

describe('the org keeps one enabled admin (409 LAST_ADMIN)', () => {
  let solo: OrgFixture;

  beforeEach(async () => {
    solo = await createOrgWithAdmin(app, 'Solo Org');
  });

  it('refuses demoting, disabling or deleting the only admin', async () => {
    expectError(await solo.admin.patch(`/api/users/${solo.adminId}`, { role: 'agent' }), 409, 'LAST_ADMIN');
    expectError(await solo.admin.patch(`/api/users/${solo.adminId}`, { role: 'auditor' }), 409, 'LAST_ADMIN');
    expectError(await solo.admin.patch(`/api/users/${solo.adminId}`, { disabled: true }), 409, 'LAST_ADMIN');
    expectError(await solo.admin.delete(`/api/users/${solo.adminId}`), 409, 'LAST_ADMIN');
    expect((await solo.admin.get(`/api/users/${solo.adminId}`)).body).toMatchObject({ role: 'admin', disabled: false });
    // Changes that keep them an enabled admin are fine.
    expectStatus(await solo.admin.patch(`/api/users/${solo.adminId}`, { name: 'Still Admin', password: 'a different passphrase' }), 200);
  });

  it('counts only enabled admins', async () => {
    const second = await createUser(app, solo, 'admin');
    expectStatus(await solo.admin.patch(`/api/users/${second.id}`, { disabled: true }), 200);
    expectError(await solo.admin.patch(`/api/users/${solo.adminId}`, { role: 'agent' }), 409, 'LAST_ADMIN');
    expectError(await solo.admin.delete(`/api/users/${solo.adminId}`), 409, 'LAST_ADMIN');
  });

  it('allows it once another enabled admin exists, and then protects that one', async () => {
    const second = await createUser(app, solo, 'admin');
    expectStatus(await solo.admin.patch(`/api/users/${solo.adminId}`, { role: 'agent' }), 200);
    expectError(await second.client.patch(`/api/users/${second.id}`, { disabled: true }), 409, 'LAST_ADMIN');
    expectError(await second.client.delete(`/api/users/${second.id}`), 409, 'LAST_ADMIN');
    // Deleting a non-admin is never a LAST_ADMIN matter.
    expectStatus(await second.client.delete(`/api/users/${solo.adminId}`), 204);
  });

  it('lets only one of two concurrent demotions of the last two admins through', async () => {
    const second = await createUser(app, solo, 'admin');
    // Force the overlap: hold the org row that every change to the org's users locks first, so that both
    // requests are authorized and waiting inside their transactions before either may go on.
    const [a, b] = await whileOrgLocked(solo.orgId, 2, () =>
      Promise.all([solo.admin.patch(`/api/users/${solo.adminId}`, { role: 'agent' }), solo.admin.patch(`/api/users/${second.id}`, { disabled: true })]),
    );
    // The loser is refused either by the last-admin rule (409) or, when the caller's own demotion
    // committed before its second request was authorized, for the admin scope it no longer holds (403).
    const statuses = [a.status, b.status].sort();
    expect([
      [200, 403],
      [200, 409],
    ]).toContainEqual(statuses);
    // Here both were authorized before either committed, so only the last-admin rule can refuse.
    expectError(
      [a, b].find((response) => response.status !== 200)!,
      409,
      'LAST_ADMIN',
    );
    const rows = await app.db.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE org_id = $1 AND role = 'admin' AND NOT disabled`, [solo.orgId]);
    expect(Number(rows[0].n)).toBe(1);
  });
});

/**
 * Runs `requests` while another connection holds the org row FOR UPDATE, and lets go only once `waiting`
 * backends of the app are blocked on a lock, so the requests really do overlap.
 */
async function whileOrgLocked<T>(orgId: string, waiting: number, requests: () => Promise<T>): Promise<T> {
  const holder = new PgClient({ connectionString: app.db.url });
  await holder.connect();
  try {
    const holderPid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE', [orgId]);
    let settled = false;
    const sent = requests().finally(() => (settled = true));
    // Until both wait (or, if the service stopped taking the lock, the requests are already done).
    while (!settled) {
      const [{ n }] = await app.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> $1`,
        [holderPid],
      );
      if (n >= waiting) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(settled).toBe(false);
    await holder.query('COMMIT');
    return await sent;
  } finally {
    await holder.end();
  }
}
