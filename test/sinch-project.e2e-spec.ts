import { randomBytes, randomUUID } from 'node:crypto';
import { ManualClock } from '../libs/common/src/clock';
import { SinchFake, startSinchFake } from './fakes/sinch.fake';
import { expectError, expectStatus, ISO_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD } from './support/fixtures';
import { startSecondInstance } from './support/call-tokens';
import { Client } from './support/http';
import { allMintEntries, dumpDatabase, expectNoSecrets, fingerprintOf } from './support/minting';
import { basicForms, readWholeAudit, RecordingProxy, ResponseSink, startRecordingProxy, tappedClient } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * sinch-project credentials end to end: the OAuth token (fetched once, audited as sinch-oauth by the
 * system, refetched when the credentials change or Sinch stops accepting it) and the trunk rule for
 * sinch caller IDs, against a loopback Sinch (OAuth + Elastic SIP Trunking). EST traffic passes a
 * recording proxy so the test knows the exact access tokens the service used.
 */

const TRUNK_ID = randomUUID();
const OTHER_TRUNK_ID = randomUUID();
const ON_TRUNK = ['+14165550101', '+14165550104', '+14165550105', '+14165550106', '+14165550107', '+14165550108', '+14165550109'];
const ON_TRUNK_MORE = ['+14165550111', '+14165550112', '+14165550113', '+14165550114', '+14165550115', '+14165550116', '+14165550117'];
const ON_OTHER_TRUNK = '+14165550102';
const UNASSIGNED = '+14165550103';
const UNKNOWN_TO_EST = '+14165550199';
const OAUTH_PATH = '/oauth2/token';
const EST_PATH = '/v1/';

let app: TestApp;
let sinch: SinchFake;
let proxy: RecordingProxy;
let org: OrgFixture;
let admin: Client;
const responses: ResponseSink = [];
const secrets: string[] = [];

const tapped = (token: string | undefined) => tappedClient(app.url, token, responses);

/** The provider timeout of the instance that meets a hanging Sinch (instead of waiting out the 5 s default). */
const SHORT_TIMEOUT_MS = 300;
const numbersPath = (userId: string) => `/api/users/${userId}/phone-numbers`;
const projectFields = (overrides: Record<string, string | undefined> = {}) => {
  const fields: Record<string, string | undefined> = { projectId: sinch.projectId, keyId: sinch.keyId, keySecret: sinch.keySecret, trunkId: TRUNK_ID, ...overrides };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Record<string, string>;
};

async function putProject(as: Client, fields: Record<string, string>) {
  secrets.push(fields.keySecret, ...basicForms(fields.keyId, fields.keySecret));
  const put = await as.put('/api/credentials/sinch-project', fields);
  expectStatus(put, 200);
  return put;
}

/** A user to hang caller IDs on (created, never logged in: the admin manages its numbers). */
async function newAgent(): Promise<string> {
  const created = await admin.post('/api/users', { email: `agent-${randomBytes(5).toString('hex')}@example.com`, password: PASSWORD, role: 'agent' });
  expectStatus(created, 201);
  return created.body.id;
}

async function addNumber(as: Client, userId: string, phoneNumber: string, provider: 'sinch' | 'twilio' = 'sinch', isDefault?: boolean) {
  return as.post(numbersPath(userId), { provider, phoneNumber, ...(isDefault ? { isDefault } : {}) });
}

async function storedNumbers(userId: string): Promise<string[]> {
  const list = await admin.get(numbersPath(userId));
  expectStatus(list, 200);
  return (list.body as Array<{ phoneNumber: string }>).map((n) => n.phoneNumber);
}

/** The org's sinch-oauth audit entries, oldest first. */
async function oauthEntries(reader: Client = admin): Promise<any[]> {
  return (await allMintEntries(reader, 'provider=sinch-oauth')).reverse();
}

const distinctBearers = () => [...new Set(proxy.bearers)];

beforeAll(async () => {
  sinch = await startSinchFake({
    trunks: [
      { id: TRUNK_ID, name: 'main', hostName: 'main-trunk' },
      { id: OTHER_TRUNK_ID, name: 'other', hostName: 'other-trunk' },
    ],
    numbers: [
      ...[...ON_TRUNK, ...ON_TRUNK_MORE].map((phoneNumber) => ({ phoneNumber, sipTrunkId: TRUNK_ID })),
      { phoneNumber: ON_OTHER_TRUNK, sipTrunkId: OTHER_TRUNK_ID },
      { phoneNumber: UNASSIGNED },
    ],
  });
  proxy = await startRecordingProxy(sinch.estUrl);
  app = await startTestApp({ config: { allowInsecureProviderUrls: true, sinchAuthUrl: sinch.authUrl, sinchEstUrl: proxy.url } });
  org = await createOrgWithAdmin(app, 'Sinch Project Co');
  admin = tapped(org.adminToken);
});

afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await sinch?.close();
});

describe('credentials and the OAuth token', () => {
  it('PUT sinch-project answers with the key secret masked, and fetches nothing yet', async () => {
    const put = await putProject(admin, projectFields());
    expect(put.body).toEqual({
      provider: 'sinch-project',
      fields: { projectId: sinch.projectId, keyId: sinch.keyId, keySecret: `••••${sinch.keySecret.slice(-4)}`, trunkId: TRUNK_ID },
      updatedAt: expect.stringMatching(ISO_PATTERN),
      updatedBy: { kind: 'user', id: org.adminId },
    });
    expect(sinch.tokensIssued()).toBe(0);
    expect(sinch.count()).toBe(0);
  });

  it('one access token serves many trunk checks; its fetch is audited as sinch-oauth by the system with a fingerprint, never the token', async () => {
    const agentId = await newAgent();
    for (const [i, phoneNumber] of ON_TRUNK.slice(0, 4).entries()) {
      const added = await addNumber(admin, agentId, phoneNumber, 'sinch', i === 0);
      expectStatus(added, 201);
    }
    expect(sinch.tokensIssued()).toBe(1);
    expect(await storedNumbers(agentId)).toEqual(ON_TRUNK.slice(0, 4));

    // The fake: one Basic form POST to the token endpoint, then bearer GETs of each number.
    const oauth = sinch.requests.filter((r) => r.path === OAUTH_PATH);
    expect(oauth).toHaveLength(1);
    expect(oauth[0]).toEqual(expect.objectContaining({ method: 'POST', auth: 'basic', authorized: true, body: { grant_type: 'client_credentials' } }));
    expect(oauth[0].contentType).toMatch(/^application\/x-www-form-urlencoded/);
    const est = sinch.requests.filter((r) => r.path.startsWith(EST_PATH));
    expect(est.map((r) => r.path)).toEqual(ON_TRUNK.slice(0, 4).map((n) => `/v1/projects/${sinch.projectId}/phoneNumbers/${n}`));
    for (const request of est) expect(request).toEqual(expect.objectContaining({ method: 'GET', auth: 'bearer', authorized: true }));
    expect(distinctBearers()).toHaveLength(1);
    const [accessToken] = distinctBearers();

    const entries = await oauthEntries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toEqual(
      expect.objectContaining({
        orgId: org.orgId,
        provider: 'sinch-oauth',
        actor: { kind: 'system', id: null },
        subjectUserId: null,
        outcome: 'issued',
        code: null,
        tokenFingerprint: fingerprintOf(accessToken),
        expiresAt: expect.stringMatching(ISO_PATTERN),
      }),
    );
    // Measured from the entry's own time, not this machine's clock now (no window for a slow run).
    const lifetime = Date.parse(entries[0].expiresAt) - Date.parse(entries[0].at);
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
    // Never the token: not in the audit answer, not anywhere in the database.
    expect(JSON.stringify(entries)).not.toContain(accessToken);
    expect(await dumpDatabase(app)).not.toContain(accessToken);
  });

  it('concurrent checks share one token too', async () => {
    const users = await Promise.all([newAgent(), newAgent(), newAgent()]);
    const before = sinch.tokensIssued();
    const added = await Promise.all(users.map((userId, i) => addNumber(admin, userId, ON_TRUNK[4 + i])));
    for (const response of added) expectStatus(response, 201);
    expect(sinch.tokensIssued()).toBe(before);
    expect(distinctBearers()).toHaveLength(1);
  });

  it('replacing the credentials (even with the same values) drops the cached token: the next check fetches a new one, audited too', async () => {
    await putProject(admin, projectFields());
    expect(sinch.tokensIssued()).toBe(1);
    const agentId = await newAgent();
    expectStatus(await addNumber(admin, agentId, ON_TRUNK_MORE[0]), 201);
    expect(sinch.tokensIssued()).toBe(2);
    expectStatus(await addNumber(admin, agentId, ON_TRUNK_MORE[1]), 201);
    expect(sinch.tokensIssued()).toBe(2);

    const bearers = distinctBearers();
    expect(bearers).toHaveLength(2);
    expect(proxy.bearers[proxy.bearers.length - 1]).toBe(bearers[1]);
    const entries = await oauthEntries();
    expect(entries.map((e) => e.tokenFingerprint)).toEqual(bearers.map(fingerprintOf));
    for (const entry of entries) expect(entry).toEqual(expect.objectContaining({ actor: { kind: 'system', id: null }, outcome: 'issued' }));
  });

  it('when EST stops accepting the token (401), the service fetches a fresh one and the check succeeds', async () => {
    const agentId = await newAgent();
    const issuedBefore = sinch.tokensIssued();
    const estBefore = sinch.count(EST_PATH);
    sinch.revokeTokens();
    const added = await addNumber(admin, agentId, ON_TRUNK_MORE[2]);
    expectStatus(added, 201);
    expect(sinch.tokensIssued()).toBe(issuedBefore + 1);
    const est = sinch.requests.filter((r) => r.path.startsWith(EST_PATH)).slice(estBefore);
    expect(est.map((r) => r.authorized)).toEqual([false, true]);
    const bearers = proxy.bearers.slice(-2);
    expect(bearers[0]).not.toBe(bearers[1]);
    const entries = await oauthEntries();
    expect(entries).toHaveLength(issuedBefore + 1);
    expect(entries[entries.length - 1].tokenFingerprint).toBe(fingerprintOf(bearers[1]));
  });
});

describe('token lifetime', () => {
  it('a token close to its expiry is replaced by a fresh one before it is used again', async () => {
    // An instance of its own (same database, same keys) on a clock the test moves, so the token's lifetime
    // passes without sleeping; its token cache starts empty.
    const clock = new ManualClock(Date.now());
    const timed = await startSecondInstance(app, { clock, config: { allowInsecureProviderUrls: true, sinchAuthUrl: sinch.authUrl, sinchEstUrl: proxy.url } });
    const onTimed = tappedClient(timed.url, org.adminToken, responses);
    sinch.setExpiresIn(2);
    try {
      await putProject(onTimed, projectFields()); // drop any cached one-hour token
      const agentId = await newAgent();
      const issued = sinch.tokensIssued();
      expectStatus(await addNumber(onTimed, agentId, ON_TRUNK[0]), 201);
      expect(sinch.tokensIssued()).toBe(issued + 1);
      const entries = await oauthEntries();
      const lifetime = Date.parse(entries[entries.length - 1].expiresAt) - clock.nowMs();
      expect(lifetime).toBeLessThanOrEqual(2000);
      // Still fresh a moment later: the cached token is used, none fetched.
      clock.advance(500);
      const early = await addNumber(onTimed, agentId, ON_TRUNK[1]);
      expectStatus(early, 201);
      expect(sinch.tokensIssued()).toBe(issued + 1);
      expectStatus(await onTimed.delete(`${numbersPath(agentId)}/${early.body.id}`), 204);
      // Refreshed once half of a short lifetime has passed.
      clock.advance(700);
      expectStatus(await addNumber(onTimed, agentId, ON_TRUNK[1]), 201);
      expect(sinch.tokensIssued()).toBe(issued + 2);
    } finally {
      sinch.setExpiresIn(3600);
      await putProject(admin, projectFields());
      await timed.close();
    }
  });
});

describe('the trunk rule for sinch caller IDs', () => {
  it('a sinch number on the trunk → 201', async () => {
    const agentId = await newAgent();
    const added = await addNumber(admin, agentId, ON_TRUNK_MORE[3], 'sinch', true);
    expectStatus(added, 201);
    expect(added.body).toEqual(expect.objectContaining({ provider: 'sinch', phoneNumber: ON_TRUNK_MORE[3], isDefault: true }));
  });

  it.each([
    ['on another trunk', ON_OTHER_TRUNK],
    ['on no trunk', UNASSIGNED],
    ['unknown to EST', UNKNOWN_TO_EST],
  ])('a sinch number %s → 422 NUMBER_NOT_ON_TRUNK, and it is not stored', async (_label, phoneNumber) => {
    const agentId = await newAgent();
    const estBefore = sinch.count(EST_PATH);
    const refused = await addNumber(admin, agentId, phoneNumber, 'sinch', true);
    expectError(refused, 422, 'NUMBER_NOT_ON_TRUNK');
    expect(sinch.count(EST_PATH)).toBe(estBefore + 1);
    expect(await storedNumbers(agentId)).toEqual([]);
  });

  it('a twilio number is not checked against the trunk (EST is not called)', async () => {
    const agentId = await newAgent();
    const before = sinch.count();
    const added = await addNumber(admin, agentId, UNKNOWN_TO_EST, 'twilio', true);
    expectStatus(added, 201);
    expect(sinch.count()).toBe(before);
  });

  it('without trunkId any valid sinch number is accepted, with no call to Sinch at all', async () => {
    const noTrunk = await createOrgWithAdmin(app, 'No Trunk Co');
    const noTrunkAdmin = tapped(noTrunk.adminToken);
    await putProject(noTrunkAdmin, projectFields({ trunkId: undefined }));
    const user = await createUser(app, noTrunk, 'agent');
    const before = sinch.count();
    for (const phoneNumber of [UNKNOWN_TO_EST, ON_OTHER_TRUNK, UNASSIGNED, ON_TRUNK[0]]) {
      expectStatus(await addNumber(noTrunkAdmin, user.id, phoneNumber), 201);
    }
    expect(sinch.count()).toBe(before);
    // Invalid numbers are still refused on their form.
    expectError(await addNumber(noTrunkAdmin, user.id, '+1416555'), 400, 'VALIDATION_FAILED');
  });

  it('an org without sinch-project credentials accepts any valid sinch number', async () => {
    const bare = await createOrgWithAdmin(app, 'No Project Co');
    const user = await createUser(app, bare, 'agent');
    const before = sinch.count();
    expectStatus(await addNumber(tapped(bare.adminToken), user.id, UNKNOWN_TO_EST), 201);
    expect(sinch.count()).toBe(before);
  });
});

describe('upstream failures on the caller-ID POST', () => {
  /** Forces the next check to fetch a token (credentials replaced → cache dropped). */
  async function dropCachedToken() {
    await putProject(admin, projectFields());
  }

  async function expectNotStored(userId: string) {
    expect(await storedNumbers(userId)).toEqual([]);
  }

  it('OAuth answering 401 → 502 PROVIDER_AUTH_FAILED, and EST is not called', async () => {
    await dropCachedToken();
    const agentId = await newAgent();
    sinch.failNext('unauthorized', { path: OAUTH_PATH });
    const estBefore = sinch.count(EST_PATH);
    const refused = await addNumber(admin, agentId, ON_TRUNK_MORE[4]);
    expectError(refused, 502, 'PROVIDER_AUTH_FAILED');
    expect(sinch.count(EST_PATH)).toBe(estBefore);
    await expectNotStored(agentId);
    // The next try fetches again and succeeds.
    expectStatus(await addNumber(admin, agentId, ON_TRUNK_MORE[4]), 201);
  });

  it('a wrong keySecret (a real 401 from Sinch) → 502 PROVIDER_AUTH_FAILED; no token is issued or audited', async () => {
    const issued = sinch.tokensIssued();
    const audited = (await oauthEntries()).length;
    await putProject(admin, projectFields({ keySecret: randomBytes(18).toString('base64url') }));
    const agentId = await newAgent();
    const refused = await addNumber(admin, agentId, ON_TRUNK_MORE[5]);
    expectError(refused, 502, 'PROVIDER_AUTH_FAILED');
    const last = sinch.requests[sinch.requests.length - 1];
    expect(last).toEqual(expect.objectContaining({ path: OAUTH_PATH, authorized: false }));
    expect(sinch.tokensIssued()).toBe(issued);
    expect(await oauthEntries()).toHaveLength(audited);
    await putProject(admin, projectFields());
  });

  it('OAuth answering 500 → 502 PROVIDER_UNAVAILABLE', async () => {
    await dropCachedToken();
    const agentId = await newAgent();
    sinch.failNext('server-error', { path: OAUTH_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK_MORE[5]), 502, 'PROVIDER_UNAVAILABLE');
    await expectNotStored(agentId);
    expectStatus(await addNumber(admin, agentId, ON_TRUNK_MORE[5]), 201);
  });

  it('OAuth hanging → 502 PROVIDER_UNAVAILABLE once the provider timeout passes', async () => {
    await dropCachedToken();
    const agentId = await newAgent();
    // A second instance with a short provider timeout (the 5 s default is the same code path).
    const short = await startSecondInstance(app, {
      config: { allowInsecureProviderUrls: true, sinchAuthUrl: sinch.authUrl, sinchEstUrl: proxy.url },
      providerHttp: { timeoutMs: SHORT_TIMEOUT_MS },
    });
    try {
      sinch.failNext('hang', { path: OAUTH_PATH });
      const started = performance.now();
      const refused = await addNumber(tappedClient(short.url, org.adminToken, responses), agentId, ON_TRUNK_MORE[6]);
      const elapsed = performance.now() - started;
      expectError(refused, 502, 'PROVIDER_UNAVAILABLE');
      expect(elapsed).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS);
    } finally {
      await short.close();
    }
    await expectNotStored(agentId);
  });

  it('OAuth redirecting → 502 PROVIDER_ERROR, and the redirect target is never called', async () => {
    await dropCachedToken();
    const agentId = await newAgent();
    sinch.failNext('redirect', { path: OAUTH_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK_MORE[6]), 502, 'PROVIDER_ERROR');
    expect(sinch.count('/redirected')).toBe(0);
    await expectNotStored(agentId);
  });

  it('EST answering 500 → 502 PROVIDER_UNAVAILABLE', async () => {
    const agentId = await newAgent();
    expectStatus(await addNumber(admin, agentId, ON_TRUNK_MORE[6]), 201); // a token is cached again
    sinch.failNext('server-error', { path: EST_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK[0]), 502, 'PROVIDER_UNAVAILABLE');
    expect(await storedNumbers(agentId)).toEqual([ON_TRUNK_MORE[6]]);
  });

  it('EST resetting the connection → 502 PROVIDER_UNAVAILABLE', async () => {
    const agentId = await newAgent();
    sinch.failNext('reset', { path: EST_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK[0]), 502, 'PROVIDER_UNAVAILABLE');
    await expectNotStored(agentId);
    expectStatus(await addNumber(admin, agentId, ON_TRUNK[0]), 201);
  });

  it('EST refusing the fresh token too (401 twice) → 502 PROVIDER_AUTH_FAILED after exactly one refetch', async () => {
    const agentId = await newAgent();
    expectStatus(await addNumber(admin, agentId, ON_TRUNK[2]), 201); // a token is cached
    const issued = sinch.tokensIssued();
    const estBefore = sinch.count(EST_PATH);
    sinch.failNext('unauthorized', { path: EST_PATH, times: 2 });
    expectError(await addNumber(admin, agentId, ON_TRUNK[3]), 502, 'PROVIDER_AUTH_FAILED');
    expect(sinch.count(EST_PATH)).toBe(estBefore + 2);
    expect(sinch.tokensIssued()).toBe(issued + 1);
    expect(await storedNumbers(agentId)).toEqual([ON_TRUNK[2]]);
  });

  it('EST answering 403 → 502 PROVIDER_AUTH_FAILED', async () => {
    const agentId = await newAgent();
    sinch.failNext('forbidden', { path: EST_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK[1]), 502, 'PROVIDER_AUTH_FAILED');
    await expectNotStored(agentId);
  });

  it('EST redirecting → 502 PROVIDER_ERROR, not followed; an oversize EST body → 502 PROVIDER_ERROR', async () => {
    const agentId = await newAgent();
    sinch.failNext('redirect', { path: EST_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK[1]), 502, 'PROVIDER_ERROR');
    expect(sinch.count('/redirected')).toBe(0);
    sinch.failNext('oversize', { path: EST_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK[1]), 502, 'PROVIDER_ERROR');
    sinch.failNext('oversize-chunked', { path: EST_PATH });
    expectError(await addNumber(admin, agentId, ON_TRUNK[1]), 502, 'PROVIDER_ERROR');
    await expectNotStored(agentId);
    expectStatus(await addNumber(admin, agentId, ON_TRUNK[1]), 201);
  });
});

describe('secrets', () => {
  it('no keySecret (nor its Basic header) and no access token appears in any response or log line', async () => {
    const accessTokens = distinctBearers();
    expect(accessTokens.length).toBeGreaterThanOrEqual(3);
    // The audit (config events, mint entries, the export) is read through the tapped admin, so it is scanned too.
    await readWholeAudit(admin);
    expect(responses.length).toBeGreaterThan(30);
    expect(app.logs.length).toBeGreaterThan(0);
    expectNoSecrets('responses', responses.join('\n'), [...secrets, ...accessTokens]);
    expectNoSecrets('app.logs', app.logs.join(''), [...secrets, ...accessTokens]);
    const dump = await dumpDatabase(app);
    for (const token of accessTokens) expect(dump).not.toContain(token);
    expect(dump).not.toContain(sinch.keySecret);
  });
});
