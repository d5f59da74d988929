import { randomUUID } from 'node:crypto';
import { expectError, expectStatus, expectValidation, UUID_PATTERN, ISO_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, Client, http } from './support/http';
import {
  allMintEntries,
  createApiKey,
  fingerprintOf,
  mintEntryOf,
  newRequestId,
  putSinchVoice,
  randomSinchSecret,
  SINCH_EXAMPLE_KEY,
  SINCH_EXAMPLE_SECRET,
  SINCH_TOKEN_PREFIX,
  verifySinchToken,
} from './support/minting';
import { refuseAuditWrites, restoreAuditWrites } from './support/audit-outage';
import { startTestApp, TestApp } from './support/test-app';

const SINCH_PATH = '/api/calls/token/sinch';

let app: TestApp;
let org: OrgFixture;
let agent: Awaited<ReturnType<typeof createUser>>;
let auditor: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Sinch Mint Co');
  agent = await createUser(app, org, 'agent');
  auditor = await createUser(app, org, 'auditor');
});

afterAll(async () => {
  await app?.close();
});

async function mintAuditCount(orgId: string): Promise<number> {
  const [row] = await app.db.query<{ n: string }>('SELECT count(*)::text AS n FROM mint_audit WHERE org_id = $1', [orgId]);
  return Number(row.n);
}

describe('the full story: credentials, an agent, a caller ID, a token, the audit', () => {
  it('mints a Sinch token that verifies under Sinch rules, for a user and for an API key, and audits both', async () => {
    const put = await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
    expect(put.body).toEqual({
      provider: 'sinch-voice',
      fields: { applicationKey: SINCH_EXAMPLE_KEY, applicationSecret: '••••MA==' },
      updatedAt: expect.stringMatching(ISO_PATTERN),
      updatedBy: { kind: 'user', id: org.adminId },
    });

    const number = await org.admin.post(`/api/users/${agent.id}/phone-numbers`, { provider: 'sinch', phoneNumber: '+14165550100', isDefault: true });
    expectStatus(number, 201);

    // The agent mints for itself.
    const firstId = newRequestId('mint1');
    const first = await agent.client.get(SINCH_PATH, { headers: { 'x-request-id': firstId, 'user-agent': 'story-agent/1.0' } });
    expectStatus(first, 200);
    expect(first.headers.get('x-request-id')).toBe(firstId);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    expect(first.body).toEqual({
      token: expect.any(String),
      applicationKey: SINCH_EXAMPLE_KEY,
      userId: agent.id,
      callerIdentifier: '+14165550100',
      expiresIn: 600,
    });
    const firstClaims = verifySinchToken(first.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, agent.id);

    // userId equal to one's own id is fine for a user.
    const second = await agent.client.get(`${SINCH_PATH}?userId=${agent.id}`);
    expectStatus(second, 200);
    const secondClaims = verifySinchToken(second.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, agent.id);
    expect(secondClaims.nonce).not.toBe(firstClaims.nonce);
    expect(second.body.token).not.toBe(first.body.token);

    // An API key with CREATE_CALL_TOKEN names the user.
    const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'dialer backend');
    const keyRequestId = newRequestId('mintkey');
    const byKey = await http(app.url, 'GET', `${SINCH_PATH}?userId=${agent.id}`, { apiKey: key.token, headers: { 'x-request-id': keyRequestId } });
    expectStatus(byKey, 200);
    expect(byKey.body).toEqual({ token: expect.any(String), applicationKey: SINCH_EXAMPLE_KEY, userId: agent.id, callerIdentifier: '+14165550100', expiresIn: 600 });
    const keyClaims = verifySinchToken(byKey.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, agent.id);
    // The key also works as a Bearer credential.
    const byBearerKey = await client(app.url, key.token).get(`${SINCH_PATH}?userId=${agent.id}`);
    expectStatus(byBearerKey, 200);

    // The auditor sees both mints.
    const userEntry = await mintEntryOf(auditor.client, first.headers.get('x-request-id'));
    expect(userEntry).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      orgId: org.orgId,
      at: expect.stringMatching(ISO_PATTERN),
      provider: 'sinch',
      actor: { kind: 'user', id: agent.id },
      subjectUserId: agent.id,
      target: `sinch:${SINCH_EXAMPLE_KEY}`,
      outcome: 'issued',
      code: null,
      tokenFingerprint: fingerprintOf(first.body.token),
      expiresAt: new Date(firstClaims.exp * 1000).toISOString(),
      ip: expect.any(String),
      userAgent: 'story-agent/1.0',
      requestId: firstId,
      // Added to the contract alongside call tokens (mint, redeem, revoke); a Sinch entry is a mint.
      action: 'mint',
    });
    expect(userEntry.tokenFingerprint).toMatch(/^[0-9a-f]{16}$/);

    const keyEntry = await mintEntryOf(auditor.client, byKey.headers.get('x-request-id'));
    expect(keyEntry).toMatchObject({
      orgId: org.orgId,
      provider: 'sinch',
      actor: { kind: 'api_key', id: key.id },
      subjectUserId: agent.id,
      outcome: 'issued',
      code: null,
      tokenFingerprint: fingerprintOf(byKey.body.token),
      expiresAt: new Date(keyClaims.exp * 1000).toISOString(),
      requestId: keyRequestId,
    });

    // A generated request id (none sent) is recorded too, and matches the response header.
    const generatedId = second.headers.get('x-request-id');
    expect(generatedId).toBeTruthy();
    const secondEntry = await mintEntryOf(auditor.client, generatedId);
    expect(secondEntry).toMatchObject({ outcome: 'issued', tokenFingerprint: fingerprintOf(second.body.token) });

    // The token itself is stored nowhere in the audit.
    const rows = await app.db.query<{ row: string }>('SELECT t::text AS row FROM mint_audit t WHERE org_id = $1', [org.orgId]);
    for (const token of [first.body.token, second.body.token, byKey.body.token, byBearerKey.body.token]) {
      for (const { row } of rows) {
        expect(row).not.toContain(token);
        expect(row).not.toContain(token.split('.')[2]);
      }
    }
  });

  it('answers with an empty callerIdentifier when the user has no default sinch number', async () => {
    const other = await createUser(app, org, 'agent');
    // A twilio default and a non-default sinch number are not the sinch caller ID.
    expectStatus(await org.admin.post(`/api/users/${other.id}/phone-numbers`, { provider: 'twilio', phoneNumber: '+14165550111', isDefault: true }), 201);
    expectStatus(await org.admin.post(`/api/users/${other.id}/phone-numbers`, { provider: 'sinch', phoneNumber: '+14165550112', isDefault: false }), 201);
    const minted = await other.client.get(SINCH_PATH);
    expectStatus(minted, 200);
    expect(minted.body).toEqual({ token: expect.any(String), applicationKey: SINCH_EXAMPLE_KEY, userId: other.id, callerIdentifier: '', expiresIn: 600 });
    verifySinchToken(minted.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, other.id);
  });

  it('records the real peer address and a well-formed request id, whatever the client claims', async () => {
    const response = await agent.client.get(SINCH_PATH, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'bad id with spaces' } });
    expectStatus(response, 200);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).not.toBe('bad id with spaces');
    expect(requestId).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    const entry = await mintEntryOf(auditor.client, requestId);
    expect(entry).toMatchObject({ outcome: 'issued', requestId, tokenFingerprint: fingerprintOf(response.body.token) });
    expect(entry.ip).not.toBe('203.0.113.7');
    expect(entry.ip).toMatch(/127\.0\.0\.1|::1/);
  });

  it('signs with the secret of the org that mints (two orgs, two applications)', async () => {
    const second = await createOrgWithAdmin(app, 'Second App Co');
    const secret = randomSinchSecret();
    const key = randomUUID();
    await putSinchVoice(second.admin, key, secret);
    const minted = await second.admin.get(SINCH_PATH);
    expectStatus(minted, 200);
    expect(minted.body.applicationKey).toBe(key);
    verifySinchToken(minted.body.token, key, secret, second.adminId);
    // The first org still signs with its own.
    const first = await agent.client.get(SINCH_PATH);
    expectStatus(first, 200);
    verifySinchToken(first.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, agent.id);
  });
});

describe('every refusal, and its audit entry', () => {
  let bare: OrgFixture;
  let bareAgent: Awaited<ReturnType<typeof createUser>>;
  let bareAuditor: Awaited<ReturnType<typeof createUser>>;
  let key: { id: string; token: string };
  let keyClient: Client;
  let other: OrgFixture;

  beforeAll(async () => {
    bare = await createOrgWithAdmin(app, 'Refusals Co');
    bareAgent = await createUser(app, bare, 'agent');
    bareAuditor = await createUser(app, bare, 'auditor');
    key = await createApiKey(bare.admin, ['CREATE_CALL_TOKEN'], 'refusals key');
    keyClient = client(app.url, key.token);
    other = await createOrgWithAdmin(app, 'Someone Else Co');
  });

  /** subjectUserId undefined: not checked (an API key's refused subject may or may not be recorded). */
  async function expectDenied(requestId: string | null, code: string, actor: { kind: string; id: string }, subjectUserId?: string | null) {
    const entry = await mintEntryOf(bareAuditor.client, requestId);
    expect(entry).toMatchObject({
      orgId: bare.orgId,
      provider: 'sinch',
      actor,
      ...(subjectUserId !== undefined ? { subjectUserId } : {}),
      outcome: 'denied',
      code,
      tokenFingerprint: null,
      expiresAt: null,
      requestId,
    });
  }

  it('no sinch-voice credentials → 400 SINCH_NOT_CONFIGURED, audited as denied', async () => {
    const requestId = newRequestId('notconf');
    const response = await bareAgent.client.get(SINCH_PATH, { headers: { 'x-request-id': requestId } });
    expectError(response, 400, 'SINCH_NOT_CONFIGURED');
    await expectDenied(requestId, 'SINCH_NOT_CONFIGURED', { kind: 'user', id: bareAgent.id }, bareAgent.id);

    const byKey = await keyClient.get(`${SINCH_PATH}?userId=${bareAgent.id}`);
    expectError(byKey, 400, 'SINCH_NOT_CONFIGURED');
    await expectDenied(byKey.headers.get('x-request-id'), 'SINCH_NOT_CONFIGURED', { kind: 'api_key', id: key.id }, bareAgent.id);
  });

  describe('with credentials', () => {
    beforeAll(async () => {
      await putSinchVoice(bare.admin, randomUUID(), randomSinchSecret());
    });

    it('API key without userId → 400 VALIDATION_FAILED naming userId, audited', async () => {
      const response = await keyClient.get(SINCH_PATH);
      expectValidation(response, 'userId');
      await expectDenied(response.headers.get('x-request-id'), 'VALIDATION_FAILED', { kind: 'api_key', id: key.id }, null);
      // The same through X-API-Key.
      expectValidation(await http(app.url, 'GET', SINCH_PATH, { apiKey: key.token }), 'userId');
    });

    it('API key naming a user of another org, or an unknown user → 404, audited', async () => {
      const foreign = await keyClient.get(`${SINCH_PATH}?userId=${other.adminId}`);
      expectError(foreign, 404, 'NOT_FOUND');
      expect(foreign.text).not.toContain('token"');
      await expectDenied(foreign.headers.get('x-request-id'), 'NOT_FOUND', { kind: 'api_key', id: key.id });

      const unknown = await keyClient.get(`${SINCH_PATH}?userId=${randomUUID()}`);
      expectError(unknown, 404, 'NOT_FOUND');
      // The same answer for both: nothing tells a foreign user from a missing one.
      expect(unknown.body.error).toBe(foreign.body.error);
    });

    it('API key naming a disabled user → 422 USER_DISABLED, audited', async () => {
      const victim = await createUser(app, bare, 'agent');
      expectStatus(await bare.admin.patch(`/api/users/${victim.id}`, { disabled: true }), 200);
      const requestId = newRequestId('disabled');
      const response = await keyClient.get(`${SINCH_PATH}?userId=${victim.id}`, { headers: { 'x-request-id': requestId } });
      expectError(response, 422, 'USER_DISABLED');
      await expectDenied(requestId, 'USER_DISABLED', { kind: 'api_key', id: key.id });
      // The disabled user's own access token is refused outright (401, no audit entry).
      expectError(await victim.client.get(SINCH_PATH), 401, 'UNAUTHORIZED');
      // Enabled again: the key mints for them.
      expectStatus(await bare.admin.patch(`/api/users/${victim.id}`, { disabled: false }), 200);
      expectStatus(await keyClient.get(`${SINCH_PATH}?userId=${victim.id}`), 200);
    });

    it('a user naming another user → 400 VALIDATION_FAILED, audited', async () => {
      const response = await bareAgent.client.get(`${SINCH_PATH}?userId=${bare.adminId}`);
      expectValidation(response, 'userId');
      await expectDenied(response.headers.get('x-request-id'), 'VALIDATION_FAILED', { kind: 'user', id: bareAgent.id }, bareAgent.id);
      // Even an admin mints only for itself.
      expectValidation(await bare.admin.get(`${SINCH_PATH}?userId=${bareAgent.id}`), 'userId');
    });

    it('missing CREATE_CALL_TOKEN → 403 MISSING_SCOPE, audited as denied with that code', async () => {
      const requestId = newRequestId('noscope');
      const response = await bareAuditor.client.get(SINCH_PATH, { headers: { 'x-request-id': requestId } });
      expectError(response, 403, 'MISSING_SCOPE');
      await expectDenied(requestId, 'MISSING_SCOPE', { kind: 'user', id: bareAuditor.id }, bareAuditor.id);

      const readOnlyKey = await createApiKey(bare.admin, ['READ_AUDIT'], 'read only');
      const byKey = await client(app.url, readOnlyKey.token).get(`${SINCH_PATH}?userId=${bareAgent.id}`);
      expectError(byKey, 403, 'MISSING_SCOPE');
      await expectDenied(byKey.headers.get('x-request-id'), 'MISSING_SCOPE', { kind: 'api_key', id: readOnlyKey.id });
    });

    it('no or a bad credential → 401 and no audit entry', async () => {
      const before = await mintAuditCount(bare.orgId);
      const total = Number((await app.db.query<{ n: string }>('SELECT count(*)::text AS n FROM mint_audit'))[0].n);
      const requestIds: string[] = [];
      for (const options of [
        {},
        { token: 'not-a-token' },
        { token: `${key.token}x` },
        { apiKey: 'mlk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
        { token: bareAgent.token.slice(0, -3) + 'AAA' },
      ]) {
        const requestId = newRequestId('anon');
        requestIds.push(requestId);
        const response = await http(app.url, 'GET', `${SINCH_PATH}?userId=${bareAgent.id}`, { ...options, headers: { 'x-request-id': requestId } });
        expectError(response, 401, 'UNAUTHORIZED');
      }
      // The operator token is no tenant: refused, and nothing is written for any org.
      const operator = await http(app.url, 'GET', SINCH_PATH, { token: app.operatorToken });
      expect([401, 403]).toContain(operator.status);
      expect(operator.body.success).toBe(false);

      expect(await mintAuditCount(bare.orgId)).toBe(before);
      const totalAfter = Number((await app.db.query<{ n: string }>('SELECT count(*)::text AS n FROM mint_audit'))[0].n);
      expect(totalAfter).toBe(total);
      const stray = await app.db.query('SELECT id FROM mint_audit WHERE request_id = ANY($1::text[])', [requestIds]);
      expect(stray).toEqual([]);
    });

    it('a malformed userId → 400 VALIDATION_FAILED (user and API key)', async () => {
      for (const bad of ['not-a-uuid', '123', `${bareAgent.id}x`, "' OR 1=1 --", '']) {
        const query = `?userId=${encodeURIComponent(bad)}`;
        const byKey = await keyClient.get(`${SINCH_PATH}${query}`);
        if (bad === '') {
          // An empty userId is no userId: the key must name one.
          expectValidation(byKey, 'userId');
          continue;
        }
        expectValidation(byKey, 'userId');
        expectValidation(await bareAgent.client.get(`${SINCH_PATH}${query}`), 'userId');
      }
      // Two userIds at once are not one UUID either.
      expect((await keyClient.get(`${SINCH_PATH}?userId=${bareAgent.id}&userId=${bareAgent.id}`)).status).toBe(400);
    });

    it('lists every denied attempt with outcome denied and its code, and none carries a fingerprint', async () => {
      const denied = await allMintEntries(bareAuditor.client, 'outcome=denied');
      const codes = new Set(denied.map((entry) => entry.code));
      for (const code of ['SINCH_NOT_CONFIGURED', 'VALIDATION_FAILED', 'NOT_FOUND', 'USER_DISABLED', 'MISSING_SCOPE']) expect(codes).toContain(code);
      for (const entry of denied) {
        expect(entry.outcome).toBe('denied');
        expect(entry.tokenFingerprint).toBeNull();
        expect(entry.code).toEqual(expect.any(String));
      }
      const issued = await allMintEntries(bareAuditor.client, 'outcome=issued');
      for (const entry of issued) {
        expect(entry.code).toBeNull();
        expect(entry.tokenFingerprint).toMatch(/^[0-9a-f]{16}$/);
      }
    });
  });
});

describe('fail-closed audit', () => {
  afterEach(async () => {
    await restoreAuditWrites(app);
  });

  it('hands out no token when the audit entry cannot be written, and works again once it can', async () => {
    // Warm up: this org's credentials are known good.
    expectStatus(await agent.client.get(SINCH_PATH), 200);
    const before = await mintAuditCount(org.orgId);
    const logLinesBefore = app.logs.length;

    await refuseAuditWrites(app);

    const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'fail closed key');
    const attempts = await Promise.all([agent.client.get(SINCH_PATH), agent.client.get(SINCH_PATH), client(app.url, key.token).get(`${SINCH_PATH}?userId=${agent.id}`)]);
    for (const response of attempts) {
      expectError(response, 503, 'UNAVAILABLE');
      expect(response.text).not.toContain(SINCH_TOKEN_PREFIX);
      expect(response.body.token).toBeUndefined();
    }
    expect(await mintAuditCount(org.orgId)).toBe(before);
    // The token that could not be audited is not in the logs either.
    expect(app.logs.slice(logLinesBefore).join('')).not.toContain(SINCH_TOKEN_PREFIX);

    await restoreAuditWrites(app);
    const again = await agent.client.get(SINCH_PATH);
    expectStatus(again, 200);
    verifySinchToken(again.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, agent.id);
    expect(await mintAuditCount(org.orgId)).toBe(before + 1);
    const entry = await mintEntryOf(auditor.client, again.headers.get('x-request-id'));
    expect(entry).toMatchObject({ outcome: 'issued', tokenFingerprint: fingerprintOf(again.body.token) });

    // The failed batch left no hole in the chain.
    const seqs = await app.db.query<{ seq: string }>('SELECT seq::text FROM mint_audit WHERE org_id = $1 ORDER BY seq', [org.orgId]);
    expect(seqs.map((row) => Number(row.seq))).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('also refuses when the audit fails on an update of the chain head', async () => {
    await refuseAuditWrites(app, { table: 'audit_chain_heads', operation: 'UPDATE' });
    const before = await mintAuditCount(org.orgId);
    const response = await agent.client.get(SINCH_PATH);
    expectError(response, 503, 'UNAVAILABLE');
    expect(response.text).not.toContain(SINCH_TOKEN_PREFIX);
    // The whole batch rolled back: no entry without its chain head.
    expect(await mintAuditCount(org.orgId)).toBe(before);
    await restoreAuditWrites(app);
    expectStatus(await agent.client.get(SINCH_PATH), 200);
  });
});
