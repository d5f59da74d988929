import { createHash, randomUUID } from 'node:crypto';
import { ManualClock } from '../libs/common/src/clock';
import { SCOPES } from '../libs/access/src/scopes';
import { allLogs, API_KEY_PATTERN, expectError, expectStatus, expectValidation, ISO_PATTERN, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client, Client, http } from './support/http';
import { createApiKey, CreatedApiKey } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

const DAY_MS = 86_400_000;
let app: TestApp;
let clock: ManualClock;
let org: OrgFixture;
let other: OrgFixture;

const LIST_KEYS = ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'orgId', 'prefix', 'scopes'];

const meWith = (token: string) => http(app.url, 'GET', '/api/auth/me', { token });
const listed = async (by: Client, id: string) => (await by.get('/api/api-keys')).body.find((key: { id: string }) => key.id === id);

beforeAll(async () => {
  // Noon UTC of today: the clock moves only when a test says so.
  const noon = new Date();
  noon.setUTCHours(12, 0, 0, 0);
  clock = new ManualClock(noon.getTime());
  app = await startTestApp({ clock });
  org = await createOrgWithAdmin(app, 'Keys Org');
  other = await createOrgWithAdmin(app, 'Other Keys Org');
});

afterAll(async () => {
  await app?.close();
});

describe('POST /api/api-keys', () => {
  it('answers 201 {id, name, scopes, orgId, expiresAt, maxRequestsPerDay, token} with an mlk_ token', async () => {
    const response = await org.admin.post('/api/api-keys', { name: 'billing backend', scopes: ['CREATE_CALL_TOKEN', 'READ_AUDIT'] });
    expectStatus(response, 201);
    expect(response.body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      name: 'billing backend',
      scopes: ['CREATE_CALL_TOKEN', 'READ_AUDIT'],
      orgId: org.orgId,
      expiresAt: null,
      maxRequestsPerDay: null,
      token: expect.stringMatching(API_KEY_PATTERN),
    });
    // mlk_ + 32 random bytes in base64url is 43 characters after the prefix.
    const random = response.body.token.slice(4);
    expect(random.length).toBeGreaterThanOrEqual(43);
    expect(Buffer.from(random, 'base64url').length).toBeGreaterThanOrEqual(32);
  });

  it('makes a different token every time', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 5; i += 1) tokens.add((await createApiKey(org.admin, ['READ_AUDIT'])).token);
    expect(tokens.size).toBe(5);
  });

  it('echoes expiresAt and maxRequestsPerDay', async () => {
    const expiresAt = new Date(clock.nowMs() + DAY_MS).toISOString();
    const key = await createApiKey(org.admin, ['READ_AUDIT'], { expiresAt, maxRequestsPerDay: 1000 });
    expect(key).toMatchObject({ expiresAt, maxRequestsPerDay: 1000 });
  });

  it.each([
    ['no name', { name: undefined }, 'name'],
    ['an empty name', { name: '' }, 'name'],
    ['a name over 200 characters', { name: 'n'.repeat(201) }, 'name'],
    ['no scopes', { scopes: undefined }, 'scopes'],
    ['empty scopes', { scopes: [] }, 'scopes'],
    ['an unknown scope', { scopes: ['ROOT'] }, 'scopes'],
    ['a repeated scope', { scopes: ['READ_AUDIT', 'READ_AUDIT'] }, 'scopes'],
    ['scopes as a string', { scopes: 'READ_AUDIT' }, 'scopes'],
    ['a malformed subOrgId', { subOrgId: 'child' }, 'subOrgId'],
    ['a malformed expiresAt', { expiresAt: 'tomorrow' }, 'expiresAt'],
    ['maxRequestsPerDay 0', { maxRequestsPerDay: 0 }, 'maxRequestsPerDay'],
    ['a fractional maxRequestsPerDay', { maxRequestsPerDay: 1.5 }, 'maxRequestsPerDay'],
    ['maxRequestsPerDay as a string', { maxRequestsPerDay: '10' }, 'maxRequestsPerDay'],
    ['an unknown field', { ownerOrgId: randomUUID() }, 'ownerOrgId'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_label, change, field) => {
    expectValidation(await org.admin.post('/api/api-keys', { name: 'k', scopes: ['READ_AUDIT'], ...change }), field);
  });

  it('answers 400 for an expiresAt in the past or now', async () => {
    const past = new Date(clock.nowMs() - 1000).toISOString();
    expectValidation(await org.admin.post('/api/api-keys', { name: 'k', scopes: ['READ_AUDIT'], expiresAt: past }), 'expiresAt');
    const now = new Date(clock.nowMs()).toISOString();
    expectValidation(await org.admin.post('/api/api-keys', { name: 'k', scopes: ['READ_AUDIT'], expiresAt: now }), 'expiresAt');
  });

  it('lets an admin give any scope', async () => {
    const key = await createApiKey(org.admin, [...SCOPES]);
    expect(key.scopes).toEqual([...SCOPES]);
  });

  it('refuses scopes beyond the creator key (403 SCOPE_ESCALATION) and accepts a subset', async () => {
    const creator = await createApiKey(org.admin, ['MANAGE_API_KEYS', 'MANAGE_USERS']);
    const byKey = client(app.url, creator.token);
    const body = expectError(await byKey.post('/api/api-keys', { name: 'wider', scopes: ['READ_AUDIT'] }), 403, 'SCOPE_ESCALATION');
    expect(body.error).toContain('READ_AUDIT');
    expectError(await byKey.post('/api/api-keys', { name: 'wider', scopes: ['MANAGE_USERS', 'READ_AUDIT'] }), 403, 'SCOPE_ESCALATION');
    const narrower = await createApiKey(byKey, ['MANAGE_USERS'], 'narrower');
    expect(narrower.scopes).toEqual(['MANAGE_USERS']);
    const same = await createApiKey(byKey, ['MANAGE_API_KEYS', 'MANAGE_USERS'], 'same');
    expect(same.orgId).toBe(org.orgId);
    // Nothing was created by the refused requests.
    const names = (await org.admin.get('/api/api-keys')).body.map((key: { name: string }) => key.name);
    expect(names).not.toContain('wider');
  });

  it('refuses users whose role lacks MANAGE_API_KEYS (403 MISSING_SCOPE)', async () => {
    const agent = await createUser(app, org, 'agent');
    expectError(await agent.client.post('/api/api-keys', { name: 'k', scopes: ['CREATE_CALL_TOKEN'] }), 403, 'MISSING_SCOPE');
  });
});

describe('the token is shown once and stored only as a hash', () => {
  let key: CreatedApiKey;

  beforeAll(async () => {
    key = await createApiKey(org.admin, ['READ_AUDIT'], 'secret-check');
  });

  it('lists keys as {id, name, scopes, orgId, prefix, createdAt, lastUsedAt, expiresAt}, never the token', async () => {
    const response = await org.admin.get('/api/api-keys');
    expectStatus(response, 200);
    expect(response.text).not.toContain(key.token);
    const entry = response.body.find((item: { id: string }) => item.id === key.id);
    for (const field of LIST_KEYS) expect(entry).toHaveProperty(field);
    expect(entry).not.toHaveProperty('token');
    expect(entry).not.toHaveProperty('tokenHash');
    expect(entry).toMatchObject({ id: key.id, name: 'secret-check', scopes: ['READ_AUDIT'], orgId: org.orgId, expiresAt: null });
    expect(entry.createdAt).toMatch(ISO_PATTERN);
    // The prefix helps recognise a key; it is a short start of the token, not the token.
    expect(key.token.startsWith(entry.prefix)).toBe(true);
    expect(entry.prefix.startsWith('mlk_')).toBe(true);
    expect(entry.prefix.length).toBeLessThanOrEqual(16);
    for (const item of response.body) {
      for (const field of LIST_KEYS) expect(item).toHaveProperty(field);
      expect(item).not.toHaveProperty('token');
    }
  });

  it('keeps no column of api_keys holding the token or its random part, only its SHA-256', async () => {
    const rows = await app.db.query<Record<string, unknown>>('SELECT * FROM api_keys');
    expect(rows.length).toBeGreaterThan(0);
    const random = key.token.slice(4);
    for (const row of rows) {
      for (const [column, value] of Object.entries(row)) {
        const asText = Buffer.isBuffer(value) ? `${value.toString('utf8')} ${value.toString('hex')} ${value.toString('base64')}` : JSON.stringify(value ?? null);
        expect(`${column}: ${asText}`).not.toContain(key.token);
        expect(`${column}: ${asText}`).not.toContain(random);
      }
    }
    const mine = await app.db.query<{ token_hash: Buffer }>('SELECT token_hash FROM api_keys WHERE id = $1', [key.id]);
    expect(mine[0].token_hash.equals(createHash('sha256').update(key.token).digest())).toBe(true);
  });

  it('keeps the token out of config events and logs', async () => {
    await meWith(key.token);
    const events = await app.db.query<{ details: unknown }>('SELECT details FROM config_events');
    expect(JSON.stringify(events)).not.toContain(key.token);
    expect(allLogs(app.logs)).not.toContain(key.token);
  });

  it('lists only the keys of the caller org', async () => {
    const theirs = await createApiKey(other.admin, ['READ_AUDIT'], 'theirs');
    const ids = (await org.admin.get('/api/api-keys')).body.map((item: { id: string }) => item.id);
    expect(ids).toContain(key.id);
    expect(ids).not.toContain(theirs.id);
  });
});

describe('using a key', () => {
  it('works as Bearer and as X-API-Key, and sets lastUsedAt', async () => {
    const key = await createApiKey(org.admin, ['MANAGE_USERS']);
    expect((await listed(org.admin, key.id)).lastUsedAt).toBeNull();
    expectStatus(await http(app.url, 'GET', '/api/users', { token: key.token }), 200);
    const after = await listed(org.admin, key.id);
    expect(after.lastUsedAt).toBe(new Date(clock.nowMs()).toISOString());
    expectStatus(await http(app.url, 'GET', '/api/users', { apiKey: key.token }), 200);
  });

  it('moves lastUsedAt forward on use later on', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT']);
    await meWith(key.token);
    const first = (await listed(org.admin, key.id)).lastUsedAt;
    clock.advance(5 * 60_000);
    await meWith(key.token);
    const second = (await listed(org.admin, key.id)).lastUsedAt;
    expect(new Date(second).getTime() - new Date(first).getTime()).toBe(5 * 60_000);
  });

  it('refuses a key past its expiresAt with 401', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT'], { expiresAt: new Date(clock.nowMs() + 60_000).toISOString() });
    expectStatus(await meWith(key.token), 200);
    clock.advance(59_000);
    expectStatus(await meWith(key.token), 200);
    clock.advance(1_000);
    expectError(await meWith(key.token), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/auth/me', { apiKey: key.token }), 401, 'UNAUTHORIZED');
    // Still listed (with its expiry) so an admin can see why it stopped working.
    expect((await listed(org.admin, key.id)).expiresAt).toBe(key.expiresAt);
  });

  it('answers 429 RATE_LIMITED with Retry-After past maxRequestsPerDay, until the next UTC day', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT'], { maxRequestsPerDay: 3 });
    const neighbour = await createApiKey(org.admin, ['READ_AUDIT'], { maxRequestsPerDay: 3 });
    for (let i = 0; i < 3; i += 1) expectStatus(await meWith(key.token), 200);
    const refused = await meWith(key.token);
    expectError(refused, 429, 'RATE_LIMITED');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    const now = clock.nowMs();
    const untilMidnight = Math.ceil((DAY_MS - (now % DAY_MS)) / 1000);
    expect(retryAfter).toBe(untilMidnight);
    // The X-API-Key form counts against the same quota; another key does not.
    expectError(await http(app.url, 'GET', '/api/auth/me', { apiKey: key.token }), 429, 'RATE_LIMITED');
    expectStatus(await meWith(neighbour.token), 200);
    // A new UTC day starts a new count.
    clock.advance(untilMidnight * 1000);
    expectStatus(await meWith(key.token), 200);
    clock.set(Math.floor(clock.nowMs() / DAY_MS) * DAY_MS + 12 * 3_600_000);
  });

  it('lets a key without maxRequestsPerDay make many requests', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT']);
    for (let i = 0; i < 20; i += 1) expectStatus(await meWith(key.token), 200);
  });
});

describe('PATCH /api/api-keys/{id}', () => {
  it('renames a key and narrows its scopes; the narrowed key loses the dropped scope at once', async () => {
    const key = await createApiKey(org.admin, ['MANAGE_USERS', 'MANAGE_API_KEYS', 'READ_AUDIT'], 'before');
    const keyClient = client(app.url, key.token);
    expectStatus(await keyClient.get('/api/users'), 200);
    const response = await org.admin.patch(`/api/api-keys/${key.id}`, { name: 'after', scopes: ['MANAGE_API_KEYS', 'READ_AUDIT'] });
    expectStatus(response, 200);
    expect(response.body).toMatchObject({ id: key.id, name: 'after', scopes: ['MANAGE_API_KEYS', 'READ_AUDIT'], orgId: org.orgId });
    expect(response.body).not.toHaveProperty('token');
    expectError(await keyClient.get('/api/users'), 403, 'MISSING_SCOPE');
    expectStatus(await keyClient.get('/api/api-keys'), 200);
    expect((await keyClient.get('/api/auth/me')).body.scopes).toEqual(['MANAGE_API_KEYS', 'READ_AUDIT']);
    expect(await listed(org.admin, key.id)).toMatchObject({ name: 'after', scopes: ['MANAGE_API_KEYS', 'READ_AUDIT'] });
  });

  it('refuses widening, or swapping a scope for another, with 403 SCOPE_ESCALATION', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT'], 'narrow');
    expectError(await org.admin.patch(`/api/api-keys/${key.id}`, { scopes: ['READ_AUDIT', 'MANAGE_USERS'] }), 403, 'SCOPE_ESCALATION');
    expectError(await org.admin.patch(`/api/api-keys/${key.id}`, { scopes: ['MANAGE_USERS'] }), 403, 'SCOPE_ESCALATION');
    expectError(await org.admin.patch(`/api/api-keys/${key.id}`, { name: 'renamed too', scopes: [...SCOPES] }), 403, 'SCOPE_ESCALATION');
    expect(await listed(org.admin, key.id)).toMatchObject({ name: 'narrow', scopes: ['READ_AUDIT'] });
    expect((await meWith(key.token)).body.scopes).toEqual(['READ_AUDIT']);
  });

  it('answers 400 for empty or unknown scopes and unknown fields', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT']);
    expectValidation(await org.admin.patch(`/api/api-keys/${key.id}`, { scopes: [] }), 'scopes');
    expectValidation(await org.admin.patch(`/api/api-keys/${key.id}`, { scopes: ['GOD_MODE'] }), 'scopes');
    expectValidation(await org.admin.patch(`/api/api-keys/${key.id}`, { expiresAt: null }), 'expiresAt');
    expectValidation(await org.admin.patch(`/api/api-keys/${key.id}`, { maxRequestsPerDay: 5 }), 'maxRequestsPerDay');
    expectValidation(await org.admin.patch('/api/api-keys/not-a-uuid', { name: 'x' }), 'id');
  });

  it('answers 404 for a key of another org, or an unknown key, and changes nothing', async () => {
    const theirs = await createApiKey(other.admin, ['READ_AUDIT', 'MANAGE_USERS'], 'theirs');
    expectError(await org.admin.patch(`/api/api-keys/${theirs.id}`, { name: 'hijacked', scopes: ['READ_AUDIT'] }), 404, 'NOT_FOUND');
    expectError(await org.admin.patch(`/api/api-keys/${randomUUID()}`, { name: 'x' }), 404, 'NOT_FOUND');
    expect(await listed(other.admin, theirs.id)).toMatchObject({ name: 'theirs', scopes: ['READ_AUDIT', 'MANAGE_USERS'] });
  });
});

describe('DELETE /api/api-keys/{id}', () => {
  it('answers 204; the key is refused from the next request on', async () => {
    const key = await createApiKey(org.admin, ['READ_AUDIT']);
    expectStatus(await meWith(key.token), 200);
    const response = await org.admin.delete(`/api/api-keys/${key.id}`);
    expectStatus(response, 204);
    expect(response.text).toBe('');
    expectError(await meWith(key.token), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/auth/me', { apiKey: key.token }), 401, 'UNAUTHORIZED');
    expect(await listed(org.admin, key.id)).toBeUndefined();
    expectError(await org.admin.delete(`/api/api-keys/${key.id}`), 404, 'NOT_FOUND');
  });

  it('lets a key delete itself, after which it is refused', async () => {
    const key = await createApiKey(org.admin, ['MANAGE_API_KEYS']);
    const self = client(app.url, key.token);
    expectStatus(await self.delete(`/api/api-keys/${key.id}`), 204);
    expectError(await self.get('/api/api-keys'), 401, 'UNAUTHORIZED');
  });

  it('answers 404 for a key of another org and leaves it working', async () => {
    const theirs = await createApiKey(other.admin, ['READ_AUDIT']);
    expectError(await org.admin.delete(`/api/api-keys/${theirs.id}`), 404, 'NOT_FOUND');
    expectError(await org.admin.delete(`/api/api-keys/${randomUUID()}`), 404, 'NOT_FOUND');
    expectValidation(await org.admin.delete('/api/api-keys/42'), 'id');
    expectStatus(await meWith(theirs.token), 200);
  });
});

describe('subOrgId', () => {
  let child: OrgFixture;
  let grandchild: OrgFixture;
  let unrelated: OrgFixture;
  let parentAdminId: string;

  beforeAll(async () => {
    const parent = org;
    parentAdminId = parent.adminId;
    child = await createOrgWithAdmin(app, 'Child Org', parent.orgId);
    grandchild = await createOrgWithAdmin(app, 'Grandchild Org', child.orgId);
    unrelated = await createOrgWithAdmin(app, 'Unrelated Org');
  });

  it('makes a key for a direct child org that acts in that child', async () => {
    const key = await createApiKey(org.admin, ['MANAGE_USERS', 'READ_AUDIT'], { name: 'for child', subOrgId: child.orgId });
    expect(key.orgId).toBe(child.orgId);
    const me = await meWith(key.token);
    expectStatus(me, 200);
    expect(me.body).toMatchObject({ kind: 'api_key', orgId: child.orgId });
    // It manages the child's users, not the parent's.
    const users = await http(app.url, 'GET', '/api/users', { token: key.token });
    const ids = users.body.map((user: { id: string }) => user.id);
    expect(ids).toContain(child.adminId);
    expect(ids).not.toContain(parentAdminId);
    expectError(await http(app.url, 'GET', `/api/users/${parentAdminId}`, { token: key.token }), 404, 'NOT_FOUND');
    const made = await http(app.url, 'POST', '/api/users', { token: key.token, body: { email: uniqueEmail('child-auditor'), password: PASSWORD, role: 'auditor' } });
    expectStatus(made, 201);
    expect(made.body.orgId).toBe(child.orgId);
    // The parent manages the key (it is listed with the child org id); the child does not see it.
    expect(await listed(org.admin, key.id)).toMatchObject({ orgId: child.orgId });
    expect(await listed(child.admin, key.id)).toBeUndefined();
    expectError(await child.admin.delete(`/api/api-keys/${key.id}`), 404, 'NOT_FOUND');
    expectStatus(await org.admin.delete(`/api/api-keys/${key.id}`), 204);
    expectError(await meWith(key.token), 401, 'UNAUTHORIZED');
  });

  it.each([
    ['a grandchild org', () => grandchild.orgId],
    ['an unrelated org', () => unrelated.orgId],
    ['a nonexistent org', () => randomUUID()],
    ['the caller own org', () => org.orgId],
  ])('answers 422 INVALID_SUB_ORG for %s', async (_label, subOrgId) => {
    expectError(await org.admin.post('/api/api-keys', { name: 'bad sub', scopes: ['READ_AUDIT'], subOrgId: subOrgId() }), 422, 'INVALID_SUB_ORG');
  });

  it('answers 422 for the parent named by the child', async () => {
    expectError(await child.admin.post('/api/api-keys', { name: 'up', scopes: ['READ_AUDIT'], subOrgId: org.orgId }), 422, 'INVALID_SUB_ORG');
  });
});

describe('config events', () => {
  it('records created, updated and deleted with the actor and request id, and no token', async () => {
    const created = await org.admin.post('/api/api-keys', { name: 'evented', scopes: ['READ_AUDIT', 'MANAGE_USERS'] });
    const patched = await org.admin.patch(`/api/api-keys/${created.body.id}`, { scopes: ['READ_AUDIT'] });
    const deleted = await org.admin.delete(`/api/api-keys/${created.body.id}`);
    const events = await app.db.query<{
      action: string;
      actor_kind: string;
      actor_id: string;
      org_id: string;
      target_id: string;
      request_id: string;
      details: Record<string, unknown>;
    }>('SELECT * FROM config_events WHERE target_id = $1 ORDER BY at, action', [created.body.id]);
    expect(events.map((event) => event.action).sort()).toEqual(['api_key.created', 'api_key.deleted', 'api_key.updated']);
    const byAction = Object.fromEntries(events.map((event) => [event.action, event]));
    expect(byAction['api_key.created']).toMatchObject({ actor_kind: 'user', actor_id: org.adminId, org_id: org.orgId, request_id: created.headers.get('x-request-id') });
    expect(byAction['api_key.created'].details).toMatchObject({ name: 'evented', scopes: ['READ_AUDIT', 'MANAGE_USERS'] });
    expect(byAction['api_key.updated']).toMatchObject({ request_id: patched.headers.get('x-request-id') });
    expect(byAction['api_key.updated'].details).toMatchObject({ scopes: ['READ_AUDIT'] });
    expect(byAction['api_key.deleted']).toMatchObject({ request_id: deleted.headers.get('x-request-id') });
    expect(JSON.stringify(events)).not.toContain(created.body.token);
  });
});
