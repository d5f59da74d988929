import type { LookupAddress, LookupOptions } from 'node:dns';
import type { OutboundLookup } from '../libs/common/src/dns-lookup';
import { startTelnyxFake, TelnyxFake } from './fakes/telnyx.fake';
import { expectError, expectStatus, expectValidation, ISO_PATTERN } from './support/assertions';
import { startSecondInstance } from './support/call-tokens';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { createApiKey, dumpDatabase, expectNoSecrets, fingerprintOf, mintEntryOf } from './support/minting';
import { postMint, readWholeAudit, ResponseSink, tappedClient, tappedUser } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/tokens/telnyx end to end: the real service on its own database against a loopback Telnyx API
 * (test/fakes/telnyx.fake.ts, written from Telnyx's documentation). One telephony credential per user,
 * made on first use (once, however many first mints race) and remembered; a credential Telnyx lost is
 * made again once; upstream failures answered as for SignalWire, never with Telnyx's body.
 */

const PATH = '/api/tokens/telnyx';
const CREATE_PATH = '/v2/telephony_credentials';
/** Telnyx's error texts and codes (the fake's), which must never reach a caller. */
const UPSTREAM_WORDS = /Authentication failed|Authorization failed|Unexpected error|Resource not found|Missing association|1000[0-9]|1001[0-9]/;
/** A public-looking name that the strict instance's DNS resolves to 127.0.0.1. */
const INWARD_NAME = 'telnyx-proxy.example.com';
/** The provider timeout of this file's service (the 5 s default would only slow the hanging case). */
const TIMEOUT_MS = 3000;

let app: TestApp;
let telnyx: TelnyxFake;
let org: OrgFixture;
let admin: Client;
let agent: { id: string; client: Client };
const responses: ResponseSink = [];

function tapped(token: string | undefined): Client {
  return tappedClient(app.url, token, responses);
}

const mint = (as: Client, body: unknown = {}) => postMint(as, PATH, body, 'telnyx');

const newUser = () => tappedUser(app, org, 'agent', responses);

/** What Mintline remembers for a user (read as the owner, past row-level security). */
async function rowOf(userId: string) {
  return (await app.db.query<Record<string, unknown>>('SELECT * FROM telnyx_credentials WHERE user_id = $1', [userId]))[0];
}

const createsFor = (userId: string) => telnyx.created.filter((credential) => credential.name === `mintline-${userId}`);

beforeAll(async () => {
  telnyx = await startTelnyxFake();
  app = await startTestApp({ config: { allowInsecureProviderUrls: true }, providerHttp: { timeoutMs: TIMEOUT_MS } });
  org = await createOrgWithAdmin(app, 'Telnyx Co');
  admin = tapped(org.adminToken);
  agent = await newUser();
  const put = await admin.put('/api/credentials/telnyx', { apiKey: telnyx.apiKey, connectionId: telnyx.connectionId, baseUrl: telnyx.url });
  expectStatus(put, 200);
  expect(put.body.fields).toEqual({ apiKey: `••••${telnyx.apiKey.slice(-4)}`, connectionId: telnyx.connectionId, baseUrl: telnyx.url });
});

afterAll(async () => {
  await app?.close();
  await telnyx?.close();
});

describe('one telephony credential per user', () => {
  it('the first mint makes it (Bearer apiKey, connection_id, tag mintline), remembers its id and SIP username but not its password, and answers the token Telnyx issued', async () => {
    const before = telnyx.requests.length;
    const { response, requestId } = await mint(agent.client);
    expectStatus(response, 200);
    const [made] = createsFor(agent.id);
    expect(response.body).toStrictEqual({ token: telnyx.tokens[telnyx.tokens.length - 1].token, sipUsername: made.sipUsername, userId: agent.id, expiresIn: 86_400 });
    expect(telnyx.issuedFor(response.body.token)).toBe(made.id);

    const upstream = telnyx.requests.slice(before);
    expect(upstream.map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${CREATE_PATH}`, `POST ${CREATE_PATH}/${made.id}/token`]);
    expect(upstream.every((r) => r.auth === 'bearer' && r.authorized)).toBe(true);
    expect(upstream[0].body).toStrictEqual({ connection_id: telnyx.connectionId, name: `mintline-${agent.id}`, tag: 'mintline' });

    const row = await rowOf(agent.id);
    expect(row).toEqual({
      org_id: org.orgId,
      user_id: agent.id,
      connection_id: telnyx.connectionId,
      credential_id: made.id,
      sip_username: made.sipUsername,
      created_at: expect.any(Date),
    });
    expect(JSON.stringify(row)).not.toContain(made.sipPassword);

    const entry = await mintEntryOf(admin, requestId);
    expect(entry).toEqual(
      expect.objectContaining({
        orgId: org.orgId,
        provider: 'telnyx',
        actor: { kind: 'user', id: agent.id },
        subjectUserId: agent.id,
        target: `telnyx:connection:${telnyx.connectionId}`,
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(response.body.token),
        expiresAt: expect.stringMatching(ISO_PATTERN),
        requestId,
      }),
    );
    const lifetimeMs = Date.parse(entry.expiresAt) - Date.parse(entry.at);
    expect(lifetimeMs).toBeGreaterThan(86_395_000);
    expect(lifetimeMs).toBeLessThanOrEqual(86_400_000);
  });

  it('the next mint reuses it: a token request only, the same SIP username', async () => {
    const [made] = createsFor(agent.id);
    const before = telnyx.requests.length;
    const { response } = await mint(agent.client);
    expectStatus(response, 200);
    expect(response.body.sipUsername).toBe(made.sipUsername);
    expect(telnyx.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([`POST ${CREATE_PATH}/${made.id}/token`]);
    expect(createsFor(agent.id)).toHaveLength(1);
  });

  it('five concurrent first mints of one user make one credential (Telnyx saw exactly one create)', async () => {
    const user = await newUser();
    telnyx.setCreateDelay(300);
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => mint(user.client)));
      for (const { response } of answers) expectStatus(response, 200);
      expect(createsFor(user.id)).toHaveLength(1);
      expect(new Set(answers.map(({ response }) => response.body.sipUsername))).toEqual(new Set([createsFor(user.id)[0].sipUsername]));
      expect(new Set(answers.map(({ response }) => response.body.token)).size).toBe(5);
    } finally {
      telnyx.setCreateDelay(0);
    }
  });

  it('concurrent first mints of one user on two instances (one database) make one credential too', async () => {
    const second = await startSecondInstance(app, { config: { allowInsecureProviderUrls: true }, providerHttp: { timeoutMs: TIMEOUT_MS } });
    try {
      const created = await createUser(app, org, 'agent');
      const onSecond = tappedClient(second.url, created.token, responses);
      telnyx.setCreateDelay(300);
      const answers = await Promise.all([0, 1, 2, 3].map((i) => mint(i % 2 ? onSecond : tapped(created.token))));
      for (const { response } of answers) expectStatus(response, 200);
      expect(createsFor(created.id)).toHaveLength(1);
      expect(new Set(answers.map(({ response }) => response.body.sipUsername)).size).toBe(1);
    } finally {
      telnyx.setCreateDelay(0);
      await second.close();
    }
  });

  it('first mints of different users are not held up by each other', async () => {
    const users = await Promise.all([newUser(), newUser(), newUser()]);
    telnyx.setCreateDelay(1500);
    try {
      const started = Date.now();
      const answers = await Promise.all(users.map((user) => mint(user.client)));
      for (const { response } of answers) expectStatus(response, 200);
      // Serialized they would take 3 × 1500 ms at least; side by side one 1500 ms and the rest.
      expect(Date.now() - started).toBeLessThan(3500);
      for (const user of users) expect(createsFor(user.id)).toHaveLength(1);
    } finally {
      telnyx.setCreateDelay(0);
    }
  });

  it('a credential Telnyx lost (404) is made again once, and the new one remembered', async () => {
    const user = await newUser();
    expectStatus((await mint(user.client)).response, 200);
    const [lost] = createsFor(user.id);
    telnyx.forget(lost.id);

    const { response } = await mint(user.client);
    expectStatus(response, 200);
    const remade = createsFor(user.id);
    expect(remade).toHaveLength(2);
    expect(response.body.sipUsername).toBe(remade[1].sipUsername);
    expect(telnyx.issuedFor(response.body.token)).toBe(remade[1].id);
    expect((await rowOf(user.id)).credential_id).toBe(remade[1].id);

    // Remembered: the next mint asks for a token only.
    const before = telnyx.requests.length;
    expectStatus((await mint(user.client)).response, 200);
    expect(telnyx.requests.slice(before).map((r) => r.path)).toEqual([`${CREATE_PATH}/${remade[1].id}/token`]);
  });

  it('concurrent mints that all meet the lost credential make one new one', async () => {
    const user = await newUser();
    expectStatus((await mint(user.client)).response, 200);
    telnyx.forget(createsFor(user.id)[0].id);
    telnyx.setCreateDelay(200);
    try {
      const answers = await Promise.all(Array.from({ length: 4 }, () => mint(user.client)));
      for (const { response } of answers) expectStatus(response, 200);
      expect(createsFor(user.id)).toHaveLength(2);
    } finally {
      telnyx.setCreateDelay(0);
    }
  });

  it('lost again right after it was made: 502 PROVIDER_ERROR after one remake, audited as failed', async () => {
    const user = await newUser();
    expectStatus((await mint(user.client)).response, 200);
    telnyx.forget(createsFor(user.id)[0].id);
    telnyx.forgetEveryNewCredential(true);
    try {
      const { response, requestId } = await mint(user.client);
      const error = expectError(response, 502, 'PROVIDER_ERROR');
      expect(error.error).not.toMatch(UPSTREAM_WORDS);
      expect(createsFor(user.id)).toHaveLength(2);
      expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'telnyx', outcome: 'failed', code: 'PROVIDER_ERROR', tokenFingerprint: null }));
    } finally {
      telnyx.forgetEveryNewCredential(false);
    }
    expectStatus((await mint(user.client)).response, 200);
  });

  it('goes with its user', async () => {
    const user = await newUser();
    expectStatus((await mint(user.client)).response, 200);
    expect(await rowOf(user.id)).toBeDefined();
    expectStatus(await admin.delete(`/api/users/${user.id}`), 204);
    expect(await rowOf(user.id)).toBeUndefined();
  });
});

describe('upstream failures, answered as for SignalWire and never with Telnyx body', () => {
  it('401 and 403 → 502 PROVIDER_AUTH_FAILED', async () => {
    for (const mode of ['unauthorized', 'forbidden'] as const) {
      telnyx.failNext(mode);
      const { response, requestId } = await mint(agent.client);
      expect(expectError(response, 502, 'PROVIDER_AUTH_FAILED').error).not.toMatch(UPSTREAM_WORDS);
      expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ outcome: 'failed', code: 'PROVIDER_AUTH_FAILED' }));
    }
    // A key Telnyx does not know, stored by another org.
    const other = await createOrgWithAdmin(app, 'Wrong Key Co');
    expectStatus(await other.admin.put('/api/credentials/telnyx', { apiKey: 'KEYwrong', connectionId: telnyx.connectionId, baseUrl: telnyx.url }), 200);
    expect(expectError((await mint(other.admin)).response, 502, 'PROVIDER_AUTH_FAILED').error).not.toMatch(UPSTREAM_WORDS);
  });

  it('5xx, a reset connection and a timeout → 502 PROVIDER_UNAVAILABLE, on making the credential and on the token', async () => {
    const fresh = await newUser();
    for (const [mode, who, path] of [
      ['server-error', agent, `${CREATE_PATH}/`],
      ['reset', agent, `${CREATE_PATH}/`],
      ['server-error', fresh, CREATE_PATH],
    ] as const) {
      telnyx.failNext(mode, { path });
      const { response, requestId } = await mint(who.client);
      expect(expectError(response, 502, 'PROVIDER_UNAVAILABLE').error).not.toMatch(UPSTREAM_WORDS);
      expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ outcome: 'failed', code: 'PROVIDER_UNAVAILABLE' }));
    }
    // Nothing was remembered for the user whose credential could not be made.
    expect(await rowOf(fresh.id)).toBeUndefined();

    telnyx.failNext('hang');
    const started = Date.now();
    const { response } = await mint(agent.client);
    expectError(response, 502, 'PROVIDER_UNAVAILABLE');
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2000);
    // And it works again (this also closes the circuit for the tests after).
    expectStatus((await mint(agent.client)).response, 200);
    expectStatus((await mint(fresh.client)).response, 200);
    expect(createsFor(fresh.id)).toHaveLength(1);
  });

  it('a connection Telnyx does not know (422) → 502 PROVIDER_ERROR', async () => {
    const other = await createOrgWithAdmin(app, 'Wrong Connection Co');
    expectStatus(await other.admin.put('/api/credentials/telnyx', { apiKey: telnyx.apiKey, connectionId: '1234', baseUrl: telnyx.url }), 200);
    expect(expectError((await mint(other.admin)).response, 502, 'PROVIDER_ERROR').error).not.toMatch(UPSTREAM_WORDS);
  });
});

describe('the request', () => {
  it('takes only userId: a lifetime or any other field is refused (Telnyx tokens live 24 hours)', async () => {
    expectValidation((await mint(agent.client, { ttlSeconds: 3600 })).response, 'ttlSeconds');
    expectValidation((await mint(agent.client, { connectionId: '1' })).response, 'connectionId');
  });

  it('needs CREATE_CALL_TOKEN (403 MISSING_SCOPE, audited as denied)', async () => {
    const auditor = await createUser(app, org, 'auditor');
    const { response, requestId } = await mint(tapped(auditor.token));
    expectError(response, 403, 'MISSING_SCOPE');
    expect(await mintEntryOf(admin, requestId)).toEqual(expect.objectContaining({ provider: 'telnyx', outcome: 'denied', code: 'MISSING_SCOPE' }));
    const chatKey = await createApiKey(admin, ['CREATE_CHAT_TOKEN'], 'telnyx chat');
    expectError((await mint(tapped(chatKey.token), { userId: agent.id })).response, 403, 'MISSING_SCOPE');
  });

  it("an API key names a user of its org; another org's user is 404 and makes nothing", async () => {
    const key = await createApiKey(admin, ['CREATE_CALL_TOKEN'], 'telnyx backend');
    const backend = tapped(key.token);
    const { response } = await mint(backend, { userId: agent.id });
    expectStatus(response, 200);
    expect(response.body.sipUsername).toBe(createsFor(agent.id)[0].sipUsername);
    expectValidation((await mint(backend)).response, 'userId');
    const other = await createOrgWithAdmin(app, 'Other Telnyx Co');
    const creates = telnyx.created.length;
    expectError((await mint(backend, { userId: other.adminId })).response, 404, 'NOT_FOUND');
    expect(telnyx.created.length).toBe(creates);
  });

  it('an org without telnyx credentials: 400 TELNYX_NOT_CONFIGURED', async () => {
    const bare = await createOrgWithAdmin(app, 'No Telnyx Co');
    expectError((await mint(bare.admin)).response, 400, 'TELNYX_NOT_CONFIGURED');
  });
});

describe('verify', () => {
  it('asks Telnyx for the balance with the key: ok for a working one, not for a rejected one; makes nothing', async () => {
    const creates = telnyx.created.length;
    const before = telnyx.requests.length;
    const verified = await admin.post('/api/credentials/telnyx/verify');
    expectStatus(verified, 200);
    expect(verified.body).toStrictEqual({ ok: true, detail: expect.any(String) });
    expect(telnyx.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.authorized}`)).toEqual(['GET /v2/balance true']);

    const other = await createOrgWithAdmin(app, 'Verify Telnyx Co');
    expectStatus(await other.admin.put('/api/credentials/telnyx', { apiKey: 'KEYnope', connectionId: '1', baseUrl: telnyx.url }), 200);
    const refused = await other.admin.post('/api/credentials/telnyx/verify');
    expectStatus(refused, 200);
    expect(refused.body.ok).toBe(false);
    expect(refused.text).not.toMatch(UPSTREAM_WORDS);
    expect(telnyx.created.length).toBe(creates);
  });
});

describe('a tenant-supplied baseUrl pointing inward', () => {
  let strict: TestApp;
  let strictAdmin: Client;

  beforeAll(async () => {
    const lookup: OutboundLookup = (hostname: string, options: LookupOptions, callback) => {
      if (hostname !== INWARD_NAME) {
        const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        setImmediate(() => callback(error, options.all ? [] : '', undefined));
        return;
      }
      const entry: LookupAddress = { address: '127.0.0.1', family: 4 };
      setImmediate(() => (options.all ? callback(null, [entry]) : callback(null, entry.address, entry.family)));
    };
    strict = await startTestApp({
      db: app.db,
      dnsLookup: lookup,
      config: { allowInsecureProviderUrls: false, masterKeys: app.config.masterKeys, jwtSecret: app.config.jwtSecret },
    });
    strictAdmin = client(strict.url, org.adminToken);
  });

  afterAll(async () => {
    await strict?.close();
  });

  it('is refused at PUT (400 naming baseUrl), in any spelling', async () => {
    const port = new URL(telnyx.url).port;
    for (const baseUrl of [
      `https://127.0.0.1:${port}`,
      `https://[::1]:${port}`,
      'https://2130706433',
      'https://10.0.0.1',
      'https://169.254.169.254',
      `http://${INWARD_NAME}`,
    ]) {
      expectValidation(await strictAdmin.put('/api/credentials/telnyx', { apiKey: telnyx.apiKey, connectionId: telnyx.connectionId, baseUrl }), 'baseUrl');
    }
  });

  it('a public name that resolves inward: 502 PROVIDER_ERROR at connection time, and no request reaches it', async () => {
    const bareOrg = await createOrgWithAdmin(strict, 'Inward Telnyx Co');
    const baseUrl = `https://${INWARD_NAME}:${new URL(telnyx.url).port}`;
    expectStatus(await bareOrg.admin.put('/api/credentials/telnyx', { apiKey: telnyx.apiKey, connectionId: telnyx.connectionId, baseUrl }), 200);
    const before = telnyx.requests.length;
    const minted = await bareOrg.admin.post(PATH, {});
    expect(expectError(minted, 502, 'PROVIDER_ERROR').error).not.toContain('127.0.0.1');
    const verified = await bareOrg.admin.post('/api/credentials/telnyx/verify');
    expectStatus(verified, 200);
    expect(verified.body.ok).toBe(false);
    expect(telnyx.requests.length).toBe(before);
  });
});

describe('secrets', () => {
  it('the API key and the SIP passwords appear in no answer, log line, audit entry or database row', async () => {
    await readWholeAudit(admin);
    const secrets = [telnyx.apiKey, ...telnyx.created.map((credential) => credential.sipPassword)];
    expectNoSecrets('responses', responses.join('\n'), secrets);
    expectNoSecrets('app.logs', app.logs.join(''), secrets);
    expectNoSecrets('database', await dumpDatabase(app), secrets);
    expect(telnyx.created.length).toBeGreaterThan(5);
    expect(app.logs.length).toBeGreaterThan(0);
  });
});
