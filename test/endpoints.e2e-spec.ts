import { randomUUID } from 'node:crypto';
import { expectError, expectStatus, expectValidation, UUID_PATTERN } from './support/assertions';
import { createEndpoint, setOrg } from './support/call-tokens';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client } from './support/http';
import { createApiKey } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let org: OrgFixture;
let other: OrgFixture;
let agent: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Endpoints Co');
  other = await createOrgWithAdmin(app, 'Other Endpoints Co');
  agent = await createUser(app, org, 'agent');
});

afterAll(async () => {
  await app?.close();
});

describe('the webrtc feature flag gates the endpoint routes', () => {
  it('answers 403 FEATURE_DISABLED for every endpoint route while the flag is off, even for an admin', async () => {
    const fresh = await createOrgWithAdmin(app, 'Flag Off Co');
    expect((await fresh.operator.get(`/api/orgs/${fresh.orgId}`)).body.features).toEqual({ webrtc: false });
    expectError(await fresh.admin.post('/api/endpoints', { name: 'Line', webrtc: true }), 403, 'FEATURE_DISABLED');
    expectError(await fresh.admin.get('/api/endpoints'), 403, 'FEATURE_DISABLED');
    expectError(await fresh.admin.get(`/api/endpoints/${randomUUID()}`), 403, 'FEATURE_DISABLED');
    expectError(await fresh.admin.patch(`/api/endpoints/${randomUUID()}`, { name: 'x' }), 403, 'FEATURE_DISABLED');
    // Nothing was created behind the refusal.
    const rows = await app.db.query('SELECT id FROM endpoints WHERE org_id = $1', [fresh.orgId]);
    expect(rows).toEqual([]);
  });

  it('the flag comes before scopes: an agent of a flag-off org gets FEATURE_DISABLED, not MISSING_SCOPE', async () => {
    const fresh = await createOrgWithAdmin(app, 'Flag Off Agent Co');
    const freshAgent = await createUser(app, fresh, 'agent');
    expectError(await freshAgent.client.get('/api/endpoints'), 403, 'FEATURE_DISABLED');
  });

  it('switching the flag off again closes the routes again; endpoints survive and come back with the flag', async () => {
    const fresh = await createOrgWithAdmin(app, 'Flag Toggle Co');
    await setOrg(fresh, { features: { webrtc: true } });
    const id = await createEndpoint(fresh.admin, 'Toggle line');
    await setOrg(fresh, { features: { webrtc: false } });
    expectError(await fresh.admin.get(`/api/endpoints/${id}`), 403, 'FEATURE_DISABLED');
    await setOrg(fresh, { features: { webrtc: true } });
    const back = await fresh.admin.get(`/api/endpoints/${id}`);
    expectStatus(back, 200);
    expect(back.body).toEqual({ id, name: 'Toggle line', webrtc: true, state: 'active' });
  });
});

describe('with the flag on', () => {
  beforeAll(async () => {
    const enabled = await setOrg(org, { features: { webrtc: true } });
    expect(enabled.body.features).toEqual({ webrtc: true });
    await setOrg(other, { features: { webrtc: true } });
  });

  it('creates, lists, reads, renames, switches WebRTC, archives and re-activates an endpoint', async () => {
    const created = await org.admin.post('/api/endpoints', { name: 'Support line', webrtc: true });
    expectStatus(created, 201);
    expect(created.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), name: 'Support line', webrtc: true, state: 'active' });
    const id = created.body.id as string;

    const second = await org.admin.post('/api/endpoints', { name: 'Phone only', webrtc: false });
    expectStatus(second, 201);
    expect(second.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), name: 'Phone only', webrtc: false, state: 'active' });
    expect(second.body.id).not.toBe(id);

    const list = await org.admin.get('/api/endpoints');
    expectStatus(list, 200);
    expect(list.body).toEqual(expect.arrayContaining([created.body, second.body]));
    for (const item of list.body) expect(Object.keys(item).sort()).toEqual(['id', 'name', 'state', 'webrtc']);

    const one = await org.admin.get(`/api/endpoints/${id}`);
    expectStatus(one, 200);
    expect(one.body).toEqual(created.body);
    // Path ids are case-insensitive UUIDs.
    expect((await org.admin.get(`/api/endpoints/${id.toUpperCase()}`)).body).toEqual(created.body);

    const renamed = await org.admin.patch(`/api/endpoints/${id}`, { name: 'Sales line' });
    expectStatus(renamed, 200);
    expect(renamed.body).toEqual({ id, name: 'Sales line', webrtc: true, state: 'active' });

    const noWebrtc = await org.admin.patch(`/api/endpoints/${id}`, { webrtc: false });
    expect(noWebrtc.body).toEqual({ id, name: 'Sales line', webrtc: false, state: 'active' });

    const archived = await org.admin.patch(`/api/endpoints/${id}`, { state: 'archived', webrtc: true });
    expectStatus(archived, 200);
    expect(archived.body).toEqual({ id, name: 'Sales line', webrtc: true, state: 'archived' });
    expect((await org.admin.get(`/api/endpoints/${id}`)).body.state).toBe('archived');
    // An archived endpoint is still listed.
    expect((await org.admin.get('/api/endpoints')).body).toContainEqual({ id, name: 'Sales line', webrtc: true, state: 'archived' });

    const reactivated = await org.admin.patch(`/api/endpoints/${id}`, { state: 'active' });
    expect(reactivated.body).toEqual({ id, name: 'Sales line', webrtc: true, state: 'active' });

    // An empty PATCH changes nothing and answers the endpoint.
    const noop = await org.admin.patch(`/api/endpoints/${id}`, {});
    expectStatus(noop, 200);
    expect(noop.body).toEqual(reactivated.body);
    expect((await org.admin.get(`/api/endpoints/${id}`)).body).toEqual(reactivated.body);
  });

  it('refuses invalid bodies with 400 VALIDATION_FAILED naming the field', async () => {
    expectValidation(await org.admin.post('/api/endpoints', { webrtc: true }), 'name');
    expectValidation(await org.admin.post('/api/endpoints', { name: '', webrtc: true }), 'name');
    expectValidation(await org.admin.post('/api/endpoints', { name: 'x'.repeat(201), webrtc: true }), 'name');
    expectValidation(await org.admin.post('/api/endpoints', { name: 42, webrtc: true }), 'name');
    expectValidation(await org.admin.post('/api/endpoints', { name: 'No flag' }), 'webrtc');
    expectValidation(await org.admin.post('/api/endpoints', { name: 'Stringly', webrtc: 'true' }), 'webrtc');
    expectValidation(await org.admin.post('/api/endpoints', { name: 'Extra', webrtc: true, state: 'archived' }));
    expectValidation(await org.admin.post('/api/endpoints', { name: 'Extra', webrtc: true, color: 'red' }));
    expectError(await org.admin.post('/api/endpoints', undefined, { rawBody: '{"name": "broken",' }), 400, 'VALIDATION_FAILED');
    // The longest allowed name is fine.
    expectStatus(await org.admin.post('/api/endpoints', { name: 'y'.repeat(200), webrtc: false }), 201);

    const id = await createEndpoint(org.admin, 'Validated');
    expectValidation(await org.admin.patch(`/api/endpoints/${id}`, { state: 'deleted' }), 'state');
    expectValidation(await org.admin.patch(`/api/endpoints/${id}`, { state: 'ARCHIVED' }), 'state');
    expectValidation(await org.admin.patch(`/api/endpoints/${id}`, { name: '' }), 'name');
    expectValidation(await org.admin.patch(`/api/endpoints/${id}`, { webrtc: 1 }), 'webrtc');
    expectValidation(await org.admin.patch(`/api/endpoints/${id}`, { id: randomUUID() }));
    expectValidation(await org.admin.get('/api/endpoints/not-a-uuid'));
    expectValidation(await org.admin.patch('/api/endpoints/not-a-uuid', { name: 'x' }));
    // None of the refused changes landed.
    expect((await org.admin.get(`/api/endpoints/${id}`)).body).toEqual({ id, name: 'Validated', webrtc: true, state: 'active' });
  });

  it("answers 404 for an unknown id and for another org's endpoint, and never lists it", async () => {
    const theirs = await createEndpoint(other.admin, 'Their line');
    expectError(await org.admin.get(`/api/endpoints/${randomUUID()}`), 404, 'NOT_FOUND');
    expectError(await org.admin.patch(`/api/endpoints/${randomUUID()}`, { name: 'x' }), 404, 'NOT_FOUND');
    expectError(await org.admin.get(`/api/endpoints/${theirs}`), 404, 'NOT_FOUND');
    expectError(await org.admin.patch(`/api/endpoints/${theirs}`, { name: 'Hijacked', state: 'archived' }), 404, 'NOT_FOUND');
    const ours = await org.admin.get('/api/endpoints');
    expect(ours.body.map((endpoint: { id: string }) => endpoint.id)).not.toContain(theirs);
    // Untouched for its owner.
    expect((await other.admin.get(`/api/endpoints/${theirs}`)).body).toEqual({ id: theirs, name: 'Their line', webrtc: true, state: 'active' });
  });

  it('requires MANAGE_ENDPOINTS: an agent, an auditor and a key without it get 403 MISSING_SCOPE; a key with it works', async () => {
    const id = await createEndpoint(org.admin, 'Scoped');
    expectError(await agent.client.post('/api/endpoints', { name: 'Agent line', webrtc: true }), 403, 'MISSING_SCOPE');
    expectError(await agent.client.get('/api/endpoints'), 403, 'MISSING_SCOPE');
    expectError(await agent.client.get(`/api/endpoints/${id}`), 403, 'MISSING_SCOPE');
    expectError(await agent.client.patch(`/api/endpoints/${id}`, { state: 'archived' }), 403, 'MISSING_SCOPE');
    const auditor = await createUser(app, org, 'auditor');
    expectError(await auditor.client.get('/api/endpoints'), 403, 'MISSING_SCOPE');

    const callKey = await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN']);
    expectError(await client(app.url, callKey.token).post('/api/endpoints', { name: 'Key line', webrtc: true }), 403, 'MISSING_SCOPE');

    const manageKey = await createApiKey(org.admin, ['MANAGE_ENDPOINTS']);
    const byKey = await client(app.url, manageKey.token).post('/api/endpoints', { name: 'Key line', webrtc: true });
    expectStatus(byKey, 201);
    expect(byKey.body).toEqual({ id: expect.stringMatching(UUID_PATTERN), name: 'Key line', webrtc: true, state: 'active' });
    // The key works as X-API-Key too.
    const viaHeader = await client(app.url).get(`/api/endpoints/${byKey.body.id}`, { apiKey: manageKey.token });
    expectStatus(viaHeader, 200);

    // Refusals changed nothing.
    expect((await org.admin.get(`/api/endpoints/${id}`)).body.state).toBe('active');
  });

  it('answers 401 without or with a bad credential, and the operator token is not a tenant', async () => {
    const anonymous = client(app.url);
    expectError(await anonymous.get('/api/endpoints'), 401, 'UNAUTHORIZED');
    expectError(await anonymous.post('/api/endpoints', { name: 'x', webrtc: true }), 401, 'UNAUTHORIZED');
    expectError(await client(app.url, 'mlk_' + 'A'.repeat(43)).get('/api/endpoints'), 401, 'UNAUTHORIZED');
    expectError(await client(app.url, 'garbage').get('/api/endpoints'), 401, 'UNAUTHORIZED');
    const operator = await org.operator.get('/api/endpoints');
    expect(operator.status).toBe(403);
  });

  it('writes a config event for every create and every real change, with actor and details', async () => {
    const requestId = `ep-create-${randomUUID()}`;
    const created = await org.admin.post('/api/endpoints', { name: 'Audited line', webrtc: true }, { headers: { 'x-request-id': requestId } });
    expectStatus(created, 201);
    const id = created.body.id as string;
    await org.admin.patch(`/api/endpoints/${id}`, { name: 'Audited line 2' });
    await org.admin.patch(`/api/endpoints/${id}`, { state: 'archived' });
    await org.admin.patch(`/api/endpoints/${id}`, { state: 'archived' }); // no change: no event
    await org.admin.patch(`/api/endpoints/${id}`, { state: 'active', webrtc: false });

    const events = await org.admin.get('/api/audit/events?targetType=endpoint&limit=500');
    expectStatus(events, 200);
    const mine = (events.body.items as any[]).filter((event) => event.targetId === id).reverse(); // oldest first
    expect(mine.map((event) => event.action)).toEqual(['endpoint.created', 'endpoint.updated', 'endpoint.updated', 'endpoint.updated']);
    expect(mine[0]).toEqual(
      expect.objectContaining({
        orgId: org.orgId,
        actor: { kind: 'user', id: org.adminId },
        action: 'endpoint.created',
        targetType: 'endpoint',
        targetId: id,
        details: { name: 'Audited line', webrtc: true },
        requestId,
      }),
    );
    expect(mine[1].details).toEqual({ name: 'Audited line 2' });
    expect(mine[2].details).toEqual({ state: 'archived' });
    expect(mine[3].details).toEqual({ state: 'active', webrtc: false });

    // A key's change is attributed to the key.
    const manageKey = await createApiKey(org.admin, ['MANAGE_ENDPOINTS']);
    await client(app.url, manageKey.token).patch(`/api/endpoints/${id}`, { name: 'By key' });
    const byKey = await org.admin.get(`/api/audit/events?targetType=endpoint&actorId=${manageKey.id}`);
    expect(byKey.body.items).toEqual([expect.objectContaining({ action: 'endpoint.updated', actor: { kind: 'api_key', id: manageKey.id }, details: { name: 'By key' } })]);

    // Refused attempts write nothing.
    const before = (await org.admin.get('/api/audit/events?targetType=endpoint&limit=500')).body.items.length;
    await agent.client.post('/api/endpoints', { name: 'Refused', webrtc: true });
    await org.admin.post('/api/endpoints', { name: '', webrtc: true });
    const after = (await org.admin.get('/api/audit/events?targetType=endpoint&limit=500')).body.items.length;
    expect(after).toBe(before);

    // The flag switch itself is an org setting change.
    const orgEvents = await org.admin.get('/api/audit/events?targetType=org&action=org.updated');
    expect(orgEvents.body.items).toContainEqual(expect.objectContaining({ actor: expect.objectContaining({ kind: 'operator' }), details: { 'features.webrtc': true } }));
  });
});
