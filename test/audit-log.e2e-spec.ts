import { randomUUID } from 'node:crypto';
import { chainHash, ChainedContent, GENESIS_HASH } from '../libs/audit/src/mints/audit-chain';
import type { ChainedRow } from '../libs/audit/src/mints/mint-audit.repository';
import { allAuditPages } from './support/audit';
import { expectError, expectStatus, expectValidation, ISO_PATTERN, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD } from './support/fixtures';
import { client, Client, HttpResult } from './support/http';
import { allMintEntries, createApiKey, fingerprintOf, putSinchVoice, randomHex, randomSinchSecret } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

const SINCH_PATH = '/api/calls/token/sinch';
const TWILIO_PATH = '/api/calls/token/twilio';

type User = Awaited<ReturnType<typeof createUser>>;

let app: TestApp;

// Org A: two agents, an auditor, a minting API key; Sinch and Twilio configured.
let a: OrgFixture;
let agent1: User;
let agent2: User;
let auditorA: User;
let keyA: { id: string; token: string };
let sinchSecretA: string;
let twilioSecretA: string;
// Org B: its own agent and auditor.
let b: OrgFixture;
let agentB: User;
let auditorB: User;

/** Everything org A minted in the setup, in order. */
const minted: Array<{ response: HttpResult; phase: 1 | 2; actorId: string; subjectUserId: string | null; provider: string; outcome: string }> = [];
let splitAt: string;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  app = await startTestApp();
  a = await createOrgWithAdmin(app, 'Audit A');
  b = await createOrgWithAdmin(app, 'Audit B');
  [agent1, agent2, auditorA] = [await createUser(app, a, 'agent'), await createUser(app, a, 'agent'), await createUser(app, a, 'auditor')];
  [agentB, auditorB] = [await createUser(app, b, 'agent'), await createUser(app, b, 'auditor')];
  keyA = await createApiKey(a.admin, ['CREATE_CALL_TOKEN'], 'audit key A');
  sinchSecretA = randomSinchSecret();
  twilioSecretA = randomHex(16);
  await putSinchVoice(a.admin, randomUUID(), sinchSecretA);
  const twilio = await a.admin.put('/api/credentials/twilio', {
    accountSid: `AC${randomHex(16)}`,
    apiKeySid: `SK${randomHex(16)}`,
    apiKeySecret: twilioSecretA,
    twimlAppSid: `AP${randomHex(16)}`,
  });
  if (twilio.status !== 200) throw new Error(`twilio PUT failed: ${twilio.text}`);
  await putSinchVoice(b.admin, randomUUID(), randomSinchSecret());

  const key = client(app.url, keyA.token);
  const run = async (phase: 1 | 2, call: () => Promise<HttpResult>, actorId: string, subjectUserId: string | null, provider: string, outcome: string) => {
    const response = await call();
    minted.push({ response, phase, actorId, subjectUserId, provider, outcome });
  };
  // Phase 1: 7 entries.
  for (let i = 0; i < 3; i++) await run(1, () => agent1.client.get(SINCH_PATH), agent1.id, agent1.id, 'sinch', 'issued');
  await run(1, () => agent2.client.get(SINCH_PATH), agent2.id, agent2.id, 'sinch', 'issued');
  await run(1, () => key.get(`${SINCH_PATH}?userId=${agent2.id}`), keyA.id, agent2.id, 'sinch', 'issued');
  await run(1, () => auditorA.client.get(SINCH_PATH), auditorA.id, auditorA.id, 'sinch', 'denied');
  await run(1, () => agent1.client.get(TWILIO_PATH), agent1.id, agent1.id, 'twilio', 'issued');
  await sleep(30);
  splitAt = new Date().toISOString();
  await sleep(30);
  // Phase 2: 6 entries.
  await run(2, () => agent1.client.get(SINCH_PATH), agent1.id, agent1.id, 'sinch', 'issued');
  await run(2, () => agent2.client.get(SINCH_PATH), agent2.id, agent2.id, 'sinch', 'issued');
  await run(2, () => key.get(`${SINCH_PATH}?userId=${agent2.id}`), keyA.id, agent2.id, 'sinch', 'issued');
  await run(2, () => key.get(SINCH_PATH), keyA.id, null, 'sinch', 'denied');
  await run(2, () => agent2.client.get(TWILIO_PATH), agent2.id, agent2.id, 'twilio', 'issued');
  await run(2, () => key.get(`${TWILIO_PATH}?userId=${agent1.id}`), keyA.id, agent1.id, 'twilio', 'issued');
  for (const entry of minted) {
    const expected = entry.outcome === 'issued' ? 200 : entry.actorId === auditorA.id ? 403 : 400;
    if (entry.response.status !== expected) throw new Error(`setup mint: expected ${expected}, got ${entry.response.status} ${entry.response.text}`);
  }
  // Org B: two issued.
  for (let i = 0; i < 2; i++) {
    const response = await agentB.client.get(SINCH_PATH);
    if (response.status !== 200) throw new Error(`setup mint B failed: ${response.text}`);
  }
});

afterAll(async () => {
  await app?.close();
});

const ids = (items: Array<{ id: string }>) => items.map((item) => item.id);

async function page(reader: Client, query: string): Promise<{ items: any[]; nextCursor: string | null }> {
  const response = await reader.get(`/api/audit/mints${query ? `?${query}` : ''}`);
  expectStatus(response, 200);
  expect(response.body).toEqual({ items: expect.any(Array), nextCursor: response.body.nextCursor === null ? null : expect.any(String) });
  return response.body;
}

describe('GET /api/audit/mints', () => {
  it('lists every attempt of the org, newest first, in the contract shape', async () => {
    const { items, nextCursor } = await page(auditorA.client, '');
    expect(nextCursor).toBeNull();
    expect(items).toHaveLength(minted.length);
    // Newest first: the reverse of the order they were made in.
    const byRequest = [...minted].reverse().map((m) => m.response.headers.get('x-request-id'));
    expect(items.map((item: { requestId: string }) => item.requestId)).toEqual(byRequest);
    for (const [index, item] of items.entries()) {
      const source = minted[minted.length - 1 - index];
      const token = source.response.body.token as string | undefined;
      expect(item).toEqual({
        id: expect.stringMatching(UUID_PATTERN),
        orgId: a.orgId,
        at: expect.stringMatching(ISO_PATTERN),
        provider: source.provider,
        action: 'mint',
        actor: { kind: source.actorId === keyA.id ? 'api_key' : 'user', id: source.actorId },
        // A user's refused attempt names the user; the API key's refused attempt named nobody (no userId).
        subjectUserId: source.subjectUserId,
        // A refused attempt never reached the credentials, so it names no target.
        target: source.outcome === 'issued' ? expect.stringMatching(new RegExp(`^${source.provider}:`)) : null,
        outcome: source.outcome,
        code: source.outcome === 'issued' ? null : expect.any(String),
        tokenFingerprint: token ? fingerprintOf(token) : null,
        expiresAt: source.outcome === 'issued' ? expect.stringMatching(ISO_PATTERN) : null,
        ip: expect.any(String),
        userAgent: expect.any(String),
        requestId: source.response.headers.get('x-request-id'),
      });
      if (index > 0) expect(Date.parse(item.at)).toBeLessThanOrEqual(Date.parse(items[index - 1].at));
    }
    // Sinch entries expire 10 minutes after they were made, Twilio ones after an hour.
    for (const item of items.filter((i: { outcome: string }) => i.outcome === 'issued')) {
      const ttl = (Date.parse(item.expiresAt) - Date.parse(item.at)) / 1000;
      expect(Math.round(ttl / 60)).toBe(item.provider === 'sinch' ? 10 : 60);
    }
  });

  it('filters by provider, outcome, actorId and subjectUserId, alone and together', async () => {
    const expectIds = async (query: string, predicate: (m: (typeof minted)[number]) => boolean) => {
      const { items, nextCursor } = await page(auditorA.client, query);
      expect(nextCursor).toBeNull();
      const expected = [...minted]
        .reverse()
        .filter(predicate)
        .map((m) => m.response.headers.get('x-request-id'));
      expect({ query, requestIds: items.map((i: { requestId: string }) => i.requestId) }).toEqual({ query, requestIds: expected });
    };
    await expectIds('provider=sinch', (m) => m.provider === 'sinch');
    await expectIds('provider=twilio', (m) => m.provider === 'twilio');
    await expectIds('provider=signalwire-chat', () => false);
    await expectIds('provider=call-token', () => false);
    await expectIds('outcome=issued', (m) => m.outcome === 'issued');
    await expectIds('outcome=denied', (m) => m.outcome === 'denied');
    await expectIds('outcome=failed', () => false);
    await expectIds(`actorId=${agent1.id}`, (m) => m.actorId === agent1.id);
    await expectIds(`actorId=${keyA.id}`, (m) => m.actorId === keyA.id);
    await expectIds(`subjectUserId=${agent2.id}`, (m) => m.outcome === 'issued' && m.subjectUserId === agent2.id);
    await expectIds(`actorId=${keyA.id}&outcome=issued&provider=sinch`, (m) => m.actorId === keyA.id && m.outcome === 'issued' && m.provider === 'sinch');
    await expectIds(`subjectUserId=${agent1.id}&provider=twilio`, (m) => m.outcome === 'issued' && m.subjectUserId === agent1.id && m.provider === 'twilio');
    // Ids of another org, or nobody, match nothing here.
    await expectIds(`actorId=${agentB.id}`, () => false);
    await expectIds(`subjectUserId=${agentB.id}`, () => false);
    await expectIds(`subjectUserId=${randomUUID()}`, () => false);

    const denied = await page(auditorA.client, 'outcome=denied');
    expect(denied.items.map((i: { code: string }) => i.code)).toEqual(['VALIDATION_FAILED', 'MISSING_SCOPE']);
  });

  it('filters by time: from is inclusive, to exclusive', async () => {
    const phase = (n: 1 | 2) =>
      [...minted]
        .reverse()
        .filter((m) => m.phase === n)
        .map((m) => m.response.headers.get('x-request-id'));
    const requestIds = async (query: string) => (await page(auditorA.client, query)).items.map((i: { requestId: string }) => i.requestId);
    expect(await requestIds(`from=${encodeURIComponent(splitAt)}`)).toEqual(phase(2));
    expect(await requestIds(`to=${encodeURIComponent(splitAt)}`)).toEqual(phase(1));
    const all = (await page(auditorA.client, '')).items;
    const newest = all[0];
    const oldest = all[all.length - 1];
    expect(await requestIds(`from=${encodeURIComponent(oldest.at)}`)).toHaveLength(all.length);
    expect(await requestIds(`to=${encodeURIComponent(oldest.at)}`)).toEqual([]);
    expect(await requestIds(`from=${encodeURIComponent(newest.at)}&to=${encodeURIComponent(new Date(Date.parse(newest.at) + 1).toISOString())}`)).toContain(newest.requestId);
    expect(await requestIds(`from=${encodeURIComponent(splitAt)}&to=${encodeURIComponent(splitAt)}`)).toEqual([]);
    expect(await requestIds('from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).toEqual([]);
    expect(await requestIds(`provider=twilio&from=${encodeURIComponent(splitAt)}`)).toEqual(
      [...minted]
        .reverse()
        .filter((m) => m.phase === 2 && m.provider === 'twilio')
        .map((m) => m.response.headers.get('x-request-id')),
    );
  });

  it('refuses invalid filters with 400 VALIDATION_FAILED', async () => {
    const cases: Array<[string, string]> = [
      ['provider=plivo', 'provider'],
      ['outcome=ok', 'outcome'],
      ['subjectUserId=not-a-uuid', 'subjectUserId'],
      ['from=yesterday', 'from'],
      ['to=2024-13-01T00:00:00Z', 'to'],
      [`actorId=${'x'.repeat(65)}`, 'actorId'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=1.5', 'limit'],
      ['limit=', 'limit'],
    ];
    for (const [query, field] of cases) {
      const response = await auditorA.client.get(`/api/audit/mints?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expectValidation(response, field);
    }
  });

  it('takes limit from 1 to 500 (default 100)', async () => {
    const one = await page(auditorA.client, 'limit=1');
    expect(one.items).toHaveLength(1);
    expect(one.nextCursor).toEqual(expect.any(String));
    const most = await page(auditorA.client, 'limit=500');
    expect(most.items).toHaveLength(minted.length);
    expect(most.nextCursor).toBeNull();
    const exact = await page(auditorA.client, `limit=${minted.length}`);
    expect(exact.items).toHaveLength(minted.length);
    expect(exact.nextCursor).toBeNull();
    const oneShort = await page(auditorA.client, `limit=${minted.length - 1}`);
    expect(oneShort.items).toHaveLength(minted.length - 1);
    expect(oneShort.nextCursor).toEqual(expect.any(String));
  });

  it('pages with nextCursor: no entry lost or repeated, even while new entries arrive', async () => {
    for (const size of [1, 2, 3, 5]) {
      const full = (await page(auditorA.client, 'limit=500')).items;
      const mintWhilePaging = size === 2;
      const seen: any[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const result: { items: any[]; nextCursor: string | null } = await page(auditorA.client, `limit=${size}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(result.items.length).toBeLessThanOrEqual(size);
        expect(result.items.length).toBeGreaterThan(0);
        seen.push(...result.items);
        cursor = result.nextCursor;
        pages++;
        // A mint made while paging does not shift the pages still to be read.
        if (pages === 1 && mintWhilePaging) expectStatus(await agent1.client.get(SINCH_PATH), 200);
      } while (cursor);
      expect(pages).toBe(Math.ceil(full.length / size));
      expect(ids(seen)).toEqual(ids(full));
      expect(new Set(ids(seen)).size).toBe(seen.length);
      if (mintWhilePaging) {
        // The mint made while paging is at the head now, before everything already read.
        const after = (await page(auditorA.client, 'limit=500')).items;
        expect(after).toHaveLength(full.length + 1);
        expect(ids(after.slice(1))).toEqual(ids(full));
      }
    }
  });

  it('pages a filtered list too, and the cursor keeps the filter it is used with', async () => {
    const filter = `subjectUserId=${agent2.id}`;
    const full = (await page(auditorA.client, `${filter}&limit=500`)).items;
    expect(full.length).toBeGreaterThan(2);
    const first = await page(auditorA.client, `${filter}&limit=2`);
    const rest = await page(auditorA.client, `${filter}&limit=500&cursor=${encodeURIComponent(first.nextCursor!)}`);
    expect(ids([...first.items, ...rest.items])).toEqual(ids(full));
    expect(rest.nextCursor).toBeNull();
  });

  it("refuses a tampered or made-up cursor, another org's, and an events cursor, with 400", async () => {
    const { nextCursor } = await page(auditorA.client, 'limit=2');
    const cursor = nextCursor!;
    const [payload, signature] = cursor.split('.');
    const position = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const forgedPayload = Buffer.from(JSON.stringify({ ...position, seq: Number(position.seq) + 5 })).toString('base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const lowBitTwin = (char: string) => alphabet[alphabet.indexOf(char) ^ 1];
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const bCursor = (await page(auditorB.client, 'limit=1')).nextCursor!;
    expect(bCursor).toEqual(expect.any(String));
    const eventsCursor = (await auditorA.client.get('/api/audit/events?limit=1')).body.nextCursor as string;
    expect(eventsCursor).toEqual(expect.any(String));

    const bad = [
      `${forgedPayload}.${signature}`,
      `${flip(payload, 0)}.${signature}`,
      `${payload}.${flip(signature, 0)}`,
      `${payload}.${flip(signature, 10)}`,
      // Edits that base64url decoding would forgive: the unused low bits of the last character, stray characters.
      `${payload}.${signature.slice(0, -1)}${lowBitTwin(signature[signature.length - 1])}`,
      `${payload}.${signature}!!`,
      `${payload}.${signature}=`,
      `${payload}.${signature.slice(0, 20)} ${signature.slice(20)}`,
      `${payload}.`,
      `.${signature}`,
      payload,
      `${payload}.${signature}.${signature}`,
      'garbage',
      'a.b',
      `${Buffer.from('{"seq":-1}').toString('base64url')}.${signature}`,
      'x'.repeat(600),
      bCursor,
      eventsCursor,
    ];
    for (const candidate of bad) {
      const response = await auditorA.client.get(`/api/audit/mints?limit=2&cursor=${encodeURIComponent(candidate)}`);
      expect({ candidate, status: response.status }).toEqual({ candidate, status: 400 });
      expectValidation(response, 'cursor');
    }
    // And org B cannot use org A's cursor either.
    expectValidation(await auditorB.client.get(`/api/audit/mints?cursor=${encodeURIComponent(cursor)}`), 'cursor');
    // The genuine cursor still works.
    expectStatus(await auditorA.client.get(`/api/audit/mints?limit=2&cursor=${encodeURIComponent(cursor)}`), 200);
  });

  it('shows each org only its own entries', async () => {
    const ofA = await allMintEntries(auditorA.client);
    const ofB = await allMintEntries(auditorB.client);
    expect(ofB).toHaveLength(2);
    for (const entry of ofA) expect(entry.orgId).toBe(a.orgId);
    for (const entry of ofB) {
      expect(entry.orgId).toBe(b.orgId);
      expect(entry.actor).toEqual({ kind: 'user', id: agentB.id });
    }
    const idsOfA = new Set(ids(ofA));
    for (const entry of ofB) expect(idsOfA.has(entry.id)).toBe(false);
    // Filtering by the other org's actors finds nothing for either side.
    expect((await page(auditorB.client, `actorId=${agent1.id}`)).items).toEqual([]);
    expect((await page(auditorB.client, `subjectUserId=${agent2.id}`)).items).toEqual([]);
  });

  it('requires READ_AUDIT: agents and API keys without it get 403, no credential 401', async () => {
    const mintOnly = client(app.url, keyA.token);
    for (const caller of [agent1.client, mintOnly]) {
      expectError(await caller.get('/api/audit/mints'), 403, 'MISSING_SCOPE');
      expectError(await caller.get('/api/audit/events'), 403, 'MISSING_SCOPE');
    }
    expectError(await client(app.url).get('/api/audit/mints'), 401, 'UNAUTHORIZED');
    expectError(await client(app.url).get('/api/audit/events'), 401, 'UNAUTHORIZED');
    expectError(await client(app.url, 'mlk_nonsense').get('/api/audit/mints'), 401, 'UNAUTHORIZED');
    // Admins hold READ_AUDIT; so does a key given it.
    expectStatus(await a.admin.get('/api/audit/mints'), 200);
    const reader = await createApiKey(a.admin, ['READ_AUDIT'], 'siem export');
    const byKey = await client(app.url, reader.token).get('/api/audit/mints?limit=500');
    expectStatus(byKey, 200);
    expect(byKey.body.items.length).toBeGreaterThanOrEqual(minted.length);
    // The operator is no tenant.
    const operator = await client(app.url, app.operatorToken).get('/api/audit/mints');
    expect([401, 403]).toContain(operator.status);
  });
});

describe('GET /api/audit/events', () => {
  it('records credential, user, API key and caller ID changes with who, what and the request, never a secret', async () => {
    const tenant = await createOrgWithAdmin(app, 'Events Co');
    const secret = randomSinchSecret();
    const rotated = randomSinchSecret();
    const applicationKey = randomUUID();
    const requestIds: Record<string, string> = {};
    const track = (label: string, response: HttpResult) => {
      requestIds[label] = response.headers.get('x-request-id')!;
      return response;
    };

    track('credentials.created', await tenant.admin.put('/api/credentials/sinch-voice', { applicationKey, applicationSecret: secret }));
    track('credentials.replaced', await tenant.admin.put('/api/credentials/sinch-voice', { applicationKey, applicationSecret: rotated }));
    const agentEmail = `events-agent-${randomHex(4)}@example.com`;
    const createdUser = track('user.created', await tenant.admin.post('/api/users', { email: agentEmail, password: PASSWORD, role: 'agent' }));
    expectStatus(createdUser, 201);
    const agentId = createdUser.body.id as string;
    track('user.updated', await tenant.admin.patch(`/api/users/${agentId}`, { disabled: true, password: 'another long password 123' }));
    const key = track('api_key.created', await tenant.admin.post('/api/api-keys', { name: 'events key', scopes: ['CREATE_CALL_TOKEN'] }));
    expectStatus(key, 201);
    const number = track(
      'caller_id.added',
      await tenant.admin.post(`/api/users/${agentId}/phone-numbers`, { provider: 'sinch', phoneNumber: '+14165550190', isDefault: true }),
    );
    expectStatus(number, 201);
    expectStatus(track('caller_id.removed', await tenant.admin.delete(`/api/users/${agentId}/phone-numbers/${number.body.id}`)), 204);
    expectStatus(track('api_key.deleted', await tenant.admin.delete(`/api/api-keys/${key.body.id}`)), 204);
    expectStatus(track('credentials.deleted', await tenant.admin.delete('/api/credentials/sinch-voice')), 204);

    const response = await tenant.admin.get('/api/audit/events?limit=500');
    expectStatus(response, 200);
    expect(response.body.nextCursor).toBeNull();
    const events = response.body.items as any[];
    for (const event of events) {
      expect(event).toEqual({
        id: expect.stringMatching(UUID_PATTERN),
        orgId: tenant.orgId,
        at: expect.stringMatching(ISO_PATTERN),
        actor: { kind: expect.any(String), id: event.actor.kind === 'operator' ? null : expect.any(String) },
        action: expect.any(String),
        targetType: expect.any(String),
        targetId: event.targetId === null ? null : expect.any(String),
        details: expect.any(Object),
        requestId: event.requestId === null ? null : expect.any(String),
      });
    }
    for (let i = 1; i < events.length; i++) expect(Date.parse(events[i].at)).toBeLessThanOrEqual(Date.parse(events[i - 1].at));
    const byRequest = (label: string) => {
      const matching = events.filter((event) => event.requestId === requestIds[label] && event.action === label);
      expect({ label, count: matching.length }).toEqual({ label, count: 1 });
      return matching[0];
    };
    const admin = { kind: 'user', id: tenant.adminId };

    expect(byRequest('credentials.created')).toMatchObject({ actor: admin, targetType: 'credentials', targetId: 'sinch-voice' });
    expect(byRequest('credentials.created').details).toMatchObject({ provider: 'sinch-voice', fields: { applicationKey } });
    expect(byRequest('credentials.replaced')).toMatchObject({ actor: admin, targetType: 'credentials', targetId: 'sinch-voice' });
    expect(byRequest('credentials.deleted')).toMatchObject({ actor: admin, targetType: 'credentials', targetId: 'sinch-voice' });
    expect(byRequest('user.created')).toMatchObject({ actor: admin, targetType: 'user', targetId: agentId, details: { email: agentEmail, role: 'agent' } });
    expect(byRequest('user.updated')).toMatchObject({ actor: admin, targetType: 'user', targetId: agentId, details: { disabled: true } });
    expect(byRequest('api_key.created')).toMatchObject({
      actor: admin,
      targetType: 'api_key',
      targetId: key.body.id,
      details: { name: 'events key', scopes: ['CREATE_CALL_TOKEN'] },
    });
    expect(byRequest('api_key.deleted')).toMatchObject({ actor: admin, targetType: 'api_key', targetId: key.body.id });
    expect(byRequest('caller_id.added')).toMatchObject({ actor: admin, details: { phoneNumber: '+14165550190', provider: 'sinch', isDefault: true } });
    expect(byRequest('caller_id.removed')).toMatchObject({ actor: admin, details: { phoneNumber: '+14165550190' } });
    // The org's first admin was made by the operator.
    expect(events.find((event) => event.action === 'user.created' && event.targetId === tenant.adminId)).toMatchObject({ actor: { kind: 'operator', id: null } });

    // Never a secret: not the credential secrets, the API key, nor a password.
    for (const value of [secret, rotated, key.body.token, PASSWORD, 'another long password 123']) {
      expect(response.text).not.toContain(value);
    }
    const rows = await app.db.query<{ row: string }>('SELECT t::text AS row FROM config_events t WHERE org_id = $1', [tenant.orgId]);
    for (const value of [secret, rotated, key.body.token, PASSWORD, 'another long password 123']) {
      for (const { row } of rows) expect(row).not.toContain(value);
    }

    // Filters and paging.
    const credentialsOnly = await tenant.admin.get('/api/audit/events?targetType=credentials');
    expectStatus(credentialsOnly, 200);
    expect(credentialsOnly.body.items.map((e: { action: string }) => e.action)).toEqual(['credentials.deleted', 'credentials.replaced', 'credentials.created']);
    const added = await tenant.admin.get('/api/audit/events?action=caller_id.added');
    expect(added.body.items).toHaveLength(1);
    const byActor = await tenant.admin.get(`/api/audit/events?actorId=${tenant.adminId}&limit=500`);
    expect(byActor.body.items.every((e: { actor: { id: string } }) => e.actor.id === tenant.adminId)).toBe(true);
    const pagedIds = ids(await allAuditPages(tenant.admin, '/api/audit/events', 2));
    expect(pagedIds).toEqual(ids(events));
    expectValidation(await tenant.admin.get('/api/audit/events?limit=0'), 'limit');
    expectValidation(await tenant.admin.get('/api/audit/events?limit=501'), 'limit');
    expectValidation(await tenant.admin.get('/api/audit/events?cursor=garbage'), 'cursor');

    // Another org sees none of it.
    const elsewhere = await auditorB.client.get('/api/audit/events?limit=500');
    expectStatus(elsewhere, 200);
    expect(elsewhere.body.items.every((e: { orgId: string }) => e.orgId === b.orgId)).toBe(true);
    const theirs = new Set(ids(elsewhere.body.items));
    expect(events.some((e) => theirs.has(e.id))).toBe(false);
    const mintsCursorOfA = (await page(auditorA.client, 'limit=1')).nextCursor!;
    expectValidation(await auditorA.client.get(`/api/audit/events?cursor=${encodeURIComponent(mintsCursorOfA)}`), 'cursor');
  });
});

describe('the hash chain', () => {
  /** Checks the org's whole chain in the table: seq 1..n, each prev_hash the previous hash, each hash recomputed, the head at the end. */
  async function expectIntactChain(orgId: string): Promise<ChainedRow[]> {
    const rows = await app.db.query<ChainedRow>('SELECT * FROM mint_audit WHERE org_id = $1 ORDER BY seq', [orgId]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((row) => Number(row.seq))).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    let previous = GENESIS_HASH;
    for (const row of rows) {
      expect(row.prev_hash.equals(previous)).toBe(true);
      const content = {
        id: row.id,
        orgId: row.org_id,
        seq: Number(row.seq),
        at: row.at,
        provider: row.provider,
        ...(row.action !== undefined ? { action: row.action } : {}),
        actorKind: row.actor_kind,
        actorId: row.actor_id,
        subjectUserId: row.subject_user_id,
        target: row.target,
        outcome: row.outcome,
        code: row.code,
        tokenFingerprint: row.token_fingerprint,
        expiresAt: row.expires_at,
        ip: row.ip,
        userAgent: row.user_agent,
        requestId: row.request_id,
      } as unknown as ChainedContent;
      expect(chainHash(previous, content).toString('hex')).toBe(row.hash.toString('hex'));
      expect(row.hash).toHaveLength(32);
      previous = row.hash;
    }
    const [head] = await app.db.query<{ seq: string; hash: Buffer }>('SELECT seq, hash FROM audit_chain_heads WHERE org_id = $1', [orgId]);
    expect(Number(head.seq)).toBe(rows.length);
    expect(head.hash.equals(previous)).toBe(true);
    return rows;
  }

  it("each org's entries form their own chain: seq 1..n, prev_hash = previous hash", async () => {
    const rowsA = await expectIntactChain(a.orgId);
    expect(rowsA.length).toBe((await allMintEntries(auditorA.client)).length);
    const rowsB = await expectIntactChain(b.orgId);
    expect(rowsB).toHaveLength(2);
    expect(rowsB[0].prev_hash.equals(Buffer.alloc(32))).toBe(true);
    // The API lists by chain position, newest first.
    const listed = await allMintEntries(auditorA.client);
    expect(ids(listed)).toEqual(rowsA.map((row) => row.id).reverse());
  });

  it('~30 concurrent mints (and another org at once) leave no gap or duplicate in seq', async () => {
    const tenant = await createOrgWithAdmin(app, 'Concurrent Co');
    const agents = [await createUser(app, tenant, 'agent'), await createUser(app, tenant, 'agent')];
    const key = await createApiKey(tenant.admin, ['CREATE_CALL_TOKEN'], 'burst');
    const auditor = await createUser(app, tenant, 'auditor');
    await putSinchVoice(tenant.admin, randomUUID(), randomSinchSecret());
    const beforeA = Number((await app.db.query<{ n: string }>('SELECT count(*)::text AS n FROM mint_audit WHERE org_id = $1', [a.orgId]))[0].n);

    const calls: Array<Promise<HttpResult>> = [];
    for (let i = 0; i < 30; i++) {
      if (i % 3 === 0) calls.push(client(app.url, key.token).get(`${SINCH_PATH}?userId=${agents[i % 2].id}`));
      else if (i === 7 || i === 17)
        calls.push(auditor.client.get(SINCH_PATH)); // denied, still chained
      else calls.push(agents[i % 2].client.get(SINCH_PATH));
    }
    const elsewhere = Array.from({ length: 10 }, () => agent1.client.get(SINCH_PATH));
    const responses = await Promise.all(calls);
    const others = await Promise.all(elsewhere);
    for (const [i, response] of responses.entries()) expectStatus(response, i === 7 || i === 17 ? 403 : 200);
    for (const response of others) expectStatus(response, 200);

    const rows = await expectIntactChain(tenant.orgId);
    expect(rows).toHaveLength(30);
    expect(new Set(rows.map((row) => row.seq)).size).toBe(30);
    // Every issued token has exactly one entry, found by its fingerprint and request id.
    const tokens = responses.filter((r) => r.status === 200).map((r) => r.body.token as string);
    expect(tokens).toHaveLength(28);
    const fingerprints = rows.map((row) => row.token_fingerprint).filter(Boolean);
    expect(fingerprints.sort()).toEqual(tokens.map(fingerprintOf).sort());
    expect(rows.map((row) => row.request_id).sort()).toEqual(responses.map((r) => r.headers.get('x-request-id')).sort());
    expect(rows.filter((row) => row.outcome === 'denied').map((row) => row.code)).toEqual(['MISSING_SCOPE', 'MISSING_SCOPE']);

    const rowsA = await expectIntactChain(a.orgId);
    expect(rowsA).toHaveLength(beforeA + 10);
  });

  it('a second burst continues the same chain', async () => {
    const rowsBefore = await expectIntactChain(b.orgId);
    const responses = await Promise.all(Array.from({ length: 12 }, () => agentB.client.get(SINCH_PATH)));
    for (const response of responses) expectStatus(response, 200);
    const rows = await expectIntactChain(b.orgId);
    expect(rows).toHaveLength(rowsBefore.length + 12);
    expect(rows[rowsBefore.length].prev_hash.equals(rowsBefore[rowsBefore.length - 1].hash)).toBe(true);
  });
});
