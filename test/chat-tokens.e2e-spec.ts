import { randomUUID } from 'node:crypto';
import { ManualClock } from '../libs/common/src/clock';
import { startSignalWireFake, SignalWireFake } from './fakes/signalwire.fake';
import { expectError, expectStatus, ISO_PATTERN, UUID_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { startSecondInstance } from './support/call-tokens';
import { Client } from './support/http';
import { createApiKey, expectNoSecrets, fingerprintOf, mintEntryOf, newRequestId } from './support/minting';
import { basicForms, readWholeAudit, ResponseSink, tappedClient } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/chat/tokens end to end: the real service on its own database, minting through a loopback
 * SignalWire space that plays the documented Chat API.
 */

const CHAT_PATH = '/api/chat/tokens';
const UPSTREAM_PATH = '/api/chat/tokens';

let app: TestApp;
let sw: SignalWireFake;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; token: string; client: Client };
let auditor: { id: string; client: Client };
const responses: ResponseSink = [];
/** Every apiToken any org of this file stored. */
const secrets: string[] = [];

function tapped(token: string | undefined): Client {
  return tappedClient(app.url, token, responses);
}

async function putSignalWire(as: Client, fields: { spaceUrl: string; projectId: string; apiToken: string }): Promise<void> {
  secrets.push(fields.apiToken, ...basicForms(fields.projectId, fields.apiToken));
  const put = await as.put('/api/credentials/signalwire', fields);
  expectStatus(put, 200);
  expect(put.body.fields).toEqual({ spaceUrl: fields.spaceUrl, projectId: fields.projectId, apiToken: `••••${fields.apiToken.slice(-4)}` });
}

/** A fresh org with its admin (tapped), optionally with signalwire credentials. */
async function newOrg(name: string): Promise<{ fixture: OrgFixture; admin: Client }> {
  const fixture = await createOrgWithAdmin(app, name);
  return { fixture, admin: tapped(fixture.adminToken) };
}

async function mint(as: Client, body: unknown, path = CHAT_PATH) {
  const requestId = newRequestId('chat');
  const response = await as.post(path, body, { headers: { 'x-request-id': requestId } });
  expect(response.headers.get('x-request-id')).toBe(requestId);
  return { response, requestId };
}

/** The audit entry of a request, read by the org's admin. */
async function auditOf(requestId: string, reader: Client = admin) {
  const entry = await mintEntryOf(reader, requestId);
  expect(entry).toBeDefined();
  return entry;
}

const lastRequest = () => sw.requests[sw.requests.length - 1];

/** Provider timeouts injected into the instances that meet a hanging space (instead of waiting 5 s). */
const SHORT_TIMEOUT_MS = 300;
const PROBE_TIMEOUT_MS = 2000;
const lastIssued = () => sw.issued[sw.issued.length - 1];

beforeAll(async () => {
  sw = await startSignalWireFake();
  app = await startTestApp({ config: { allowInsecureProviderUrls: true } });
  org = await createOrgWithAdmin(app, 'Chat Co');
  admin = tapped(org.adminToken);
  const createdAgent = await createUser(app, org, 'agent');
  agent = { id: createdAgent.id, token: createdAgent.token, client: tapped(createdAgent.token) };
  const createdAuditor = await createUser(app, org, 'auditor');
  auditor = { id: createdAuditor.id, client: tapped(createdAuditor.token) };
  await putSignalWire(admin, { spaceUrl: sw.spaceUrl, projectId: sw.projectId, apiToken: sw.apiToken });
});

afterAll(async () => {
  await app?.close();
  await sw?.close();
});

describe('minting a chat token through the org space', () => {
  it('returns exactly the token the space issued; the space saw Basic projectId:apiToken and the exact body with a generated member_id', async () => {
    const before = sw.count();
    const channels = { support: { read: true, write: true }, announcements: { read: true, write: false } };
    const { response, requestId } = await mint(agent.client, { ttl: 60, channels });
    expectStatus(response, 200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({ token: lastIssued().token });

    expect(sw.count()).toBe(before + 1);
    const upstream = lastRequest();
    expect(upstream.method).toBe('POST');
    expect(upstream.path).toBe(UPSTREAM_PATH);
    expect(upstream.auth).toBe('basic');
    expect(upstream.authorized).toBe(true);
    expect(upstream.contentType).toMatch(/^application\/json/);
    expect(upstream.body).toStrictEqual({ ttl: 60, channels, member_id: expect.stringMatching(UUID_PATTERN) });
    expect(lastIssued().memberId).toBe((upstream.body as { member_id: string }).member_id);

    // The audit entry: issued, for the agent, by the agent, fingerprint of the token and never the token.
    const entry = await auditOf(requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        orgId: org.orgId,
        provider: 'signalwire-chat',
        actor: { kind: 'user', id: agent.id },
        subjectUserId: agent.id,
        target: `signalwire:${sw.spaceUrl}`,
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(response.body.token),
        expiresAt: expect.stringMatching(ISO_PATTERN),
        requestId,
      }),
    );
    // Measured from the entry's own time, not this machine's clock now (no window for a slow run).
    const expiresInMs = Date.parse(entry.expiresAt) - Date.parse(entry.at);
    expect(expiresInMs).toBeGreaterThan(58 * 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(60 * 60_000);
    expect(JSON.stringify(entry)).not.toContain(response.body.token);
  });

  it('passes member_id and state through unchanged, and a fresh member_id is generated per request when absent', async () => {
    const state = { locale: 'fr-CA', nested: { n: 1, list: [true, null, 'x'] } };
    const { response } = await mint(agent.client, { ttl: 5, channels: { room: { read: false, write: true } }, member_id: 'member-42', state });
    expectStatus(response, 200);
    expect(lastRequest().body).toStrictEqual({ ttl: 5, channels: { room: { read: false, write: true } }, member_id: 'member-42', state });
    expect(response.body.token).toBe(lastIssued().token);

    const first = await mint(agent.client, { ttl: 5, channels: { room: { read: true, write: true } } });
    expectStatus(first.response, 200);
    const firstMember = (lastRequest().body as { member_id: string }).member_id;
    const second = await mint(agent.client, { ttl: 5, channels: { room: { read: true, write: true } } });
    expectStatus(second.response, 200);
    const secondMember = (lastRequest().body as { member_id: string }).member_id;
    expect(firstMember).toMatch(UUID_PATTERN);
    expect(secondMember).toMatch(UUID_PATTERN);
    expect(secondMember).not.toBe(firstMember);
  });
});

describe('validation: each rule at and just past its bound', () => {
  const channel = { read: true, write: true };
  const base = { ttl: 60, channels: { lobby: channel } };
  const manyChannels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, { read: i % 2 === 0, write: true }]));
  /** `{"s":"…"}` whose JSON text is exactly `length` characters. */
  const stateOfLength = (length: number) => ({ s: 'x'.repeat(length - '{"s":""}'.length) });

  it('the state helper is exact', () => {
    expect(JSON.stringify(stateOfLength(2000))).toHaveLength(2000);
    expect(JSON.stringify(stateOfLength(2001))).toHaveLength(2001);
  });

  const accepted: Array<[string, Record<string, unknown>]> = [
    ['ttl 1', { ...base, ttl: 1 }],
    ['ttl 43200', { ...base, ttl: 43200 }],
    ['1 channel', { ttl: 60, channels: { only: { read: false, write: false } } }],
    ['500 channels', { ttl: 60, channels: manyChannels(500) }],
    ['a channel name of 250 characters', { ttl: 60, channels: { ['n'.repeat(250)]: channel } }],
    ['a channel name of 250 non-ASCII characters', { ttl: 60, channels: { ['é'.repeat(250)]: channel } }],
    ['a channel name containing sw_ not at the start', { ttl: 60, channels: { my_sw_room: channel } }],
    ['member_id of 250 characters', { ...base, member_id: 'm'.repeat(250) }],
    ['state of exactly 2000 JSON characters', { ...base, state: stateOfLength(2000) }],
    ['an empty state object', { ...base, state: {} }],
  ];

  it.each(accepted)('accepts %s and sends it upstream as is', async (_label, body) => {
    const before = sw.count();
    const { response, requestId } = await mint(agent.client, body);
    expectStatus(response, 200);
    expect(response.body).toEqual({ token: lastIssued().token });
    expect(sw.count()).toBe(before + 1);
    const expected = { ...body, member_id: body.member_id ?? expect.stringMatching(UUID_PATTERN) };
    expect(lastRequest().body).toStrictEqual(expected);
    const entry = await auditOf(requestId);
    expect(entry.outcome).toBe('issued');
  });

  const refused: Array<[string, unknown, string]> = [
    ['ttl 0', { ...base, ttl: 0 }, 'ttl'],
    ['ttl 43201', { ...base, ttl: 43201 }, 'ttl'],
    ['ttl 1.5', { ...base, ttl: 1.5 }, 'ttl'],
    ['ttl "60"', { ...base, ttl: '60' }, 'ttl'],
    ['ttl missing', { channels: base.channels }, 'ttl'],
    ['ttl null', { ...base, ttl: null }, 'ttl'],
    ['0 channels', { ttl: 60, channels: {} }, 'channels'],
    ['501 channels', { ttl: 60, channels: manyChannels(501) }, 'channels'],
    ['channels missing', { ttl: 60 }, 'channels'],
    ['channels an array', { ttl: 60, channels: [{ read: true, write: true }] }, 'channels'],
    ['a channel name of 251 characters', { ttl: 60, channels: { ['n'.repeat(251)]: channel } }, `channels.${'n'.repeat(251)}`],
    ['an empty channel name', { ttl: 60, channels: { '': channel } }, 'channels.'],
    ['a channel name starting with sw_', { ttl: 60, channels: { sw_x: channel } }, 'channels.sw_x'],
    ['read missing', { ttl: 60, channels: { lobby: { write: true } } }, 'channels.lobby.read'],
    ['write missing', { ttl: 60, channels: { lobby: { read: true } } }, 'channels.lobby.write'],
    ['read not a boolean', { ttl: 60, channels: { lobby: { read: 'true', write: true } } }, 'channels.lobby.read'],
    ['write not a boolean', { ttl: 60, channels: { lobby: { read: true, write: 1 } } }, 'channels.lobby.write'],
    ['a channel that is not an object', { ttl: 60, channels: { lobby: true } }, 'channels.lobby'],
    ['an unknown channel field', { ttl: 60, channels: { lobby: { ...channel, admin: true } } }, 'channels.lobby.admin'],
    ['member_id of 251 characters', { ...base, member_id: 'm'.repeat(251) }, 'member_id'],
    ['member_id not a string', { ...base, member_id: 42 }, 'member_id'],
    ['state of 2001 JSON characters', { ...base, state: stateOfLength(2001) }, 'state'],
    ['state an array', { ...base, state: [1, 2] }, 'state'],
    ['state a string', { ...base, state: '{"a":1}' }, 'state'],
    ['an unknown field', { ...base, extra: true }, 'extra'],
    ['a body that is an array', [base], 'body'],
  ];

  it.each(refused)('refuses %s with 422 VALIDATION_FAILED naming the field; the space is never called; audited as denied', async (_label, body, field) => {
    const before = sw.count();
    const { response, requestId } = await mint(agent.client, body);
    const error = expectError(response, 422, 'VALIDATION_FAILED');
    expect(error.details).toEqual(expect.arrayContaining([{ field, message: expect.any(String) }]));
    expect(sw.count()).toBe(before);
    const entry = await auditOf(requestId);
    expect(entry).toEqual(
      expect.objectContaining({ provider: 'signalwire-chat', outcome: 'denied', code: 'VALIDATION_FAILED', tokenFingerprint: null, subjectUserId: agent.id }),
    );
  });

  it('reports every violation of one body at once', async () => {
    const before = sw.count();
    const { response } = await mint(agent.client, { ttl: 0, channels: { sw_a: { read: 'yes' } }, member_id: 'm'.repeat(251), state: [], other: 1 });
    const error = expectError(response, 422, 'VALIDATION_FAILED');
    const fields = (error.details ?? []).map((detail) => detail.field);
    expect(fields).toEqual(expect.arrayContaining(['ttl', 'channels.sw_a', 'channels.sw_a.read', 'channels.sw_a.write', 'member_id', 'state', 'other']));
    expect(sw.count()).toBe(before);
  });
});

describe('configuration and access', () => {
  it('an org without signalwire credentials gets 400 SIGNALWIRE_NOT_CONFIGURED, audited as denied', async () => {
    const bare = await newOrg('No SignalWire Co');
    const before = sw.count();
    const { response, requestId } = await mint(bare.admin, { ttl: 60, channels: { lobby: { read: true, write: true } } });
    expectError(response, 400, 'SIGNALWIRE_NOT_CONFIGURED');
    expect(sw.count()).toBe(before);
    const entry = await auditOf(requestId, bare.admin);
    expect(entry).toEqual(expect.objectContaining({ outcome: 'denied', code: 'SIGNALWIRE_NOT_CONFIGURED', tokenFingerprint: null }));
  });

  it('CREATE_CHAT_TOKEN is required: an auditor gets 403 MISSING_SCOPE, the space is not called, the refusal is audited', async () => {
    const before = sw.count();
    const { response, requestId } = await mint(auditor.client, { ttl: 60, channels: { lobby: { read: true, write: true } } });
    expectError(response, 403, 'MISSING_SCOPE');
    expect(sw.count()).toBe(before);
    const entry = await auditOf(requestId);
    expect(entry).toEqual(expect.objectContaining({ provider: 'signalwire-chat', outcome: 'denied', code: 'MISSING_SCOPE', actor: { kind: 'user', id: auditor.id } }));

    // An API key without the scope is refused the same way.
    const key = await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'no chat');
    const byKey = await mint(tapped(key.token), { ttl: 60, channels: { lobby: { read: true, write: true } } });
    expectError(byKey.response, 403, 'MISSING_SCOPE');
    expect(sw.count()).toBe(before);
  });

  it('without a credential: 401, and nothing reaches the space', async () => {
    const before = sw.count();
    const response = await tapped(undefined).post(CHAT_PATH, { ttl: 60, channels: { lobby: { read: true, write: true } } });
    expectError(response, 401, 'UNAUTHORIZED');
    expect(sw.count()).toBe(before);
  });

  it('an API key may name a user of its org by ?userId= or by userId in the body; userId never reaches SignalWire', async () => {
    const key = await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'chat backend');
    const keyClient = tapped(key.token);
    const body = { ttl: 30, channels: { lobby: { read: true, write: true } } };

    const byQuery = await mint(keyClient, body, `${CHAT_PATH}?userId=${agent.id}`);
    expectStatus(byQuery.response, 200);
    expect(byQuery.response.body).toEqual({ token: lastIssued().token });
    expect(lastRequest().body).toStrictEqual({ ...body, member_id: expect.stringMatching(UUID_PATTERN) });
    expect(await auditOf(byQuery.requestId)).toEqual(expect.objectContaining({ outcome: 'issued', actor: { kind: 'api_key', id: key.id }, subjectUserId: agent.id }));

    const byBody = await mint(keyClient, { ...body, userId: agent.id });
    expectStatus(byBody.response, 200);
    expect(lastRequest().body).toStrictEqual({ ...body, member_id: expect.stringMatching(UUID_PATTERN) });
    expect(await auditOf(byBody.requestId)).toEqual(expect.objectContaining({ outcome: 'issued', actor: { kind: 'api_key', id: key.id }, subjectUserId: agent.id }));

    // No userId at all: a chat token names its member itself, so the key may mint without a subject.
    const anonymous = await mint(keyClient, body);
    expectStatus(anonymous.response, 200);
    expect(await auditOf(anonymous.requestId)).toEqual(expect.objectContaining({ outcome: 'issued', subjectUserId: null }));
  });

  it("another org's user, by query or body, is 404 for an API key, and the space is not called", async () => {
    const other = await newOrg('Other Chat Co');
    const stranger = await createUser(app, other.fixture, 'agent');
    const key = await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'chat backend 2');
    const keyClient = tapped(key.token);
    const body = { ttl: 30, channels: { lobby: { read: true, write: true } } };
    const before = sw.count();

    const byQuery = await mint(keyClient, body, `${CHAT_PATH}?userId=${stranger.id}`);
    expectError(byQuery.response, 404, 'NOT_FOUND');
    const byBody = await mint(keyClient, { ...body, userId: stranger.id });
    expectError(byBody.response, 404, 'NOT_FOUND');
    const unknown = await mint(keyClient, { ...body, userId: randomUUID() });
    expectError(unknown.response, 404, 'NOT_FOUND');
    expect(sw.count()).toBe(before);
    expect(await auditOf(byQuery.requestId)).toEqual(expect.objectContaining({ outcome: 'denied', code: 'NOT_FOUND' }));
    expect(await auditOf(byBody.requestId)).toEqual(expect.objectContaining({ outcome: 'denied', code: 'NOT_FOUND' }));
  });

  it('a user mints only for itself: its own id is fine, another user id is refused', async () => {
    const own = await mint(agent.client, { ttl: 30, channels: { lobby: { read: true, write: true } }, userId: agent.id });
    expectStatus(own.response, 200);
    const before = sw.count();
    const foreign = await mint(agent.client, { ttl: 30, channels: { lobby: { read: true, write: true } }, userId: org.adminId });
    expectError(foreign.response, 400, 'VALIDATION_FAILED');
    expect(sw.count()).toBe(before);
  });
});

describe('upstream failures', () => {
  const body = { ttl: 60, channels: { lobby: { read: true, write: true } } };

  async function expectFailure(status: number, code: string, requestId: string, response: Awaited<ReturnType<typeof mint>>['response']) {
    expectError(response, status, code);
    const entry = await auditOf(requestId);
    expect(entry).toEqual(
      expect.objectContaining({ provider: 'signalwire-chat', outcome: 'failed', code, tokenFingerprint: null, subjectUserId: agent.id, target: `signalwire:${sw.spaceUrl}` }),
    );
  }

  /** After an injected failure the space answers normally again, and so does the service. */
  async function expectRecovered() {
    const { response } = await mint(agent.client, body);
    expectStatus(response, 200);
    expect(response.body.token).toBe(lastIssued().token);
  }

  it('upstream 401 → 502 PROVIDER_AUTH_FAILED, audited as failed', async () => {
    sw.failNext('unauthorized', { path: UPSTREAM_PATH });
    const { response, requestId } = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_AUTH_FAILED', requestId, response);
    await expectRecovered();
  });

  it('upstream 403 → 502 PROVIDER_AUTH_FAILED, audited as failed', async () => {
    sw.failNext('forbidden', { path: UPSTREAM_PATH });
    const { response, requestId } = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_AUTH_FAILED', requestId, response);
    await expectRecovered();
  });

  it('a wrong apiToken (a real 401 from the space) → 502 PROVIDER_AUTH_FAILED', async () => {
    const wrong = await newOrg('Wrong Token Co');
    await putSignalWire(wrong.admin, { spaceUrl: sw.spaceUrl, projectId: sw.projectId, apiToken: `PT${randomUUID().replace(/-/g, '')}` });
    const before = sw.count();
    const { response, requestId } = await mint(wrong.admin, body);
    expectError(response, 502, 'PROVIDER_AUTH_FAILED');
    expect(sw.count()).toBe(before + 1);
    expect(lastRequest().authorized).toBe(false);
    expect(await auditOf(requestId, wrong.admin)).toEqual(expect.objectContaining({ outcome: 'failed', code: 'PROVIDER_AUTH_FAILED' }));
  });

  it('upstream 500 → 502 PROVIDER_UNAVAILABLE, audited as failed', async () => {
    sw.failNext('server-error', { path: UPSTREAM_PATH });
    const { response, requestId } = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_UNAVAILABLE', requestId, response);
    await expectRecovered();
  });

  it('a connection reset → 502 PROVIDER_UNAVAILABLE, audited as failed', async () => {
    sw.failNext('reset', { path: UPSTREAM_PATH });
    const { response, requestId } = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_UNAVAILABLE', requestId, response);
    await expectRecovered();
  });

  it('a hanging space → 502 PROVIDER_UNAVAILABLE once the provider timeout passes', async () => {
    // A second instance on the same database whose provider timeout is short (the 5 s default is the same
    // code path), so nothing here depends on how fast this machine is.
    const shortTimeout = await startSecondInstance(app, { config: { allowInsecureProviderUrls: true }, providerHttp: { timeoutMs: SHORT_TIMEOUT_MS } });
    try {
      sw.failNext('hang', { path: UPSTREAM_PATH });
      const before = sw.count();
      const started = performance.now();
      const { response, requestId } = await mint(tappedClient(shortTimeout.url, agent.token, responses), body);
      const elapsed = performance.now() - started;
      await expectFailure(502, 'PROVIDER_UNAVAILABLE', requestId, response);
      // The space was really called and the answer waited for the whole budget.
      expect(sw.count()).toBe(before + 1);
      expect(elapsed).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS);
    } finally {
      await shortTimeout.close();
    }
    await expectRecovered();
  });

  it('a redirect is not followed → 502 PROVIDER_ERROR, and the redirect target is never called', async () => {
    sw.failNext('redirect', { path: UPSTREAM_PATH });
    const { response, requestId } = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_ERROR', requestId, response);
    expect(sw.count('/redirected')).toBe(0);
    await expectRecovered();
    expect(sw.count('/redirected')).toBe(0);
  });

  it('an oversize body (with Content-Length, or chunked) → 502 PROVIDER_ERROR', async () => {
    sw.failNext('oversize', { path: UPSTREAM_PATH });
    const declared = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_ERROR', declared.requestId, declared.response);
    expect(declared.response.text.length).toBeLessThan(2000);

    sw.failNext('oversize-chunked', { path: UPSTREAM_PATH });
    const chunked = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_ERROR', chunked.requestId, chunked.response);
    expect(chunked.response.text.length).toBeLessThan(2000);
    await expectRecovered();
  });

  it('a 200 with a body that is not JSON → 502 PROVIDER_ERROR', async () => {
    sw.failNext('invalid-json', { path: UPSTREAM_PATH });
    const { response, requestId } = await mint(agent.client, body);
    await expectFailure(502, 'PROVIDER_ERROR', requestId, response);
    await expectRecovered();
  });
});

describe('the circuit breaker', () => {
  it('after repeated failures answers PROVIDER_UNAVAILABLE without calling the space, and audits each refusal', async () => {
    // A space of its own (its own origin, so its own breaker), for its own org.
    const failing = await startSignalWireFake();
    try {
      const breakerOrg = await newOrg('Breaker Co');
      await putSignalWire(breakerOrg.admin, { spaceUrl: failing.spaceUrl, projectId: failing.projectId, apiToken: failing.apiToken });
      const body = { ttl: 60, channels: { lobby: { read: true, write: true } } };
      failing.setMode('server-error');

      const calls: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { response, requestId } = await mint(breakerOrg.admin, body);
        expectError(response, 502, 'PROVIDER_UNAVAILABLE');
        expect(await auditOf(requestId, breakerOrg.admin)).toEqual(expect.objectContaining({ outcome: 'failed', code: 'PROVIDER_UNAVAILABLE' }));
        calls.push(failing.count());
      }
      expect(calls).toEqual([1, 2, 3, 4, 5]);

      // Open: fails fast, with Retry-After, and the space hears nothing more, even once it is healthy again
      // (fast because the space is not called at all: its count stays at 5).
      failing.setMode(null);
      for (let i = 0; i < 3; i++) {
        const { response, requestId } = await mint(breakerOrg.admin, body);
        expectError(response, 502, 'PROVIDER_UNAVAILABLE');
        expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(await auditOf(requestId, breakerOrg.admin)).toEqual(expect.objectContaining({ outcome: 'failed', code: 'PROVIDER_UNAVAILABLE' }));
      }
      expect(failing.count()).toBe(5);

      // The breaker is per space: this org's space being down does not stop the main org.
      const healthy = await mint(agent.client, body);
      expectStatus(healthy.response, 200);
    } finally {
      await failing.close();
    }
  });

  it('after the open period one probe goes through: a failing probe re-opens it, a healthy one closes it', async () => {
    // An instance of its own on a clock the test moves, so the 15 s open period passes without sleeping.
    const clock = new ManualClock(Date.now());
    // Its provider timeout is long beside a failing-fast answer (tens of ms) and short beside the 5 s default.
    const probeApp = await startTestApp({ config: { allowInsecureProviderUrls: true }, clock, providerHttp: { timeoutMs: PROBE_TIMEOUT_MS } });
    const space = await startSignalWireFake();
    try {
      const probeOrg = await createOrgWithAdmin(probeApp, 'Probe Co');
      const probeAdmin = tappedClient(probeApp.url, probeOrg.adminToken, responses);
      await putSignalWire(probeAdmin, { spaceUrl: space.spaceUrl, projectId: space.projectId, apiToken: space.apiToken });
      const body = { ttl: 60, channels: { lobby: { read: true, write: true } } };
      const attempt = async () => (await mint(probeAdmin, body)).response;

      space.setMode('server-error');
      for (let i = 0; i < 5; i++) expectError(await attempt(), 502, 'PROVIDER_UNAVAILABLE');
      expect(space.count()).toBe(5);
      expectError(await attempt(), 502, 'PROVIDER_UNAVAILABLE');
      clock.advance(14_000);
      expectError(await attempt(), 502, 'PROVIDER_UNAVAILABLE');
      expect(space.count()).toBe(5);

      // Half-open: of concurrent calls only one probe reaches the (now hanging) space, the others fail
      // fast meanwhile (all three answered while the probe still waits); the probe times out and the
      // breaker opens again.
      clock.advance(2_000);
      space.setMode('hang');
      let settled = 0;
      const timed = async () => {
        const started = performance.now();
        const response = await attempt();
        return { response, elapsed: performance.now() - started, pendingWhenDone: 4 - ++settled };
      };
      const results = await Promise.all([timed(), timed(), timed(), timed()]);
      for (const { response } of results) expectError(response, 502, 'PROVIDER_UNAVAILABLE');
      const bySettling = [...results].sort((a, b) => b.pendingWhenDone - a.pendingWhenDone);
      expect(bySettling.map((r) => r.pendingWhenDone)).toEqual([3, 2, 1, 0]);
      // The probe is the last to answer, after its whole timeout.
      expect(bySettling[3].elapsed).toBeGreaterThanOrEqual(PROBE_TIMEOUT_MS);
      expect(space.count()).toBe(6);
      space.setMode('server-error');
      expectError(await attempt(), 502, 'PROVIDER_UNAVAILABLE');
      expect(space.count()).toBe(6);

      // The space recovers; after the next open period the probe succeeds and closes the breaker.
      space.setMode(null);
      expectError(await attempt(), 502, 'PROVIDER_UNAVAILABLE');
      expect(space.count()).toBe(6);
      clock.advance(16_000);
      const probe = await attempt();
      expectStatus(probe, 200);
      expect(probe.body.token).toBe(space.issued[space.issued.length - 1].token);
      expectStatus(await attempt(), 200);
      expect(space.count()).toBe(8);
      expectNoSecrets('probe app.logs', probeApp.logs.join(''), secrets);
    } finally {
      await probeApp.close();
      await space.close();
    }
  }, 30_000);
});

describe('secrets', () => {
  it('no apiToken (nor its Basic header) appears in any response or log line', async () => {
    // The audit (config events, mint entries, the export) is read through the tapped admin, so it is scanned too.
    await readWholeAudit(admin);
    expect(responses.length).toBeGreaterThan(50);
    expect(secrets.length).toBeGreaterThan(0);
    expectNoSecrets('responses', responses.join('\n'), secrets);
    expectNoSecrets('app.logs', app.logs.join(''), secrets);
    // And the credentials are never shown back in full.
    const read = await admin.get('/api/credentials/signalwire');
    expectStatus(read, 200);
    expect(read.body.fields.apiToken).toBe(`••••${sw.apiToken.slice(-4)}`);
    expectNoSecrets('GET credentials', read.text, secrets);
  });

  it('the logs were captured at all (the check above is not vacuous)', () => {
    expect(app.logs.length).toBeGreaterThan(0);
  });
});
