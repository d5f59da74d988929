import { randomBytes, randomUUID } from 'node:crypto';
import { SignalWireFake, startSignalWireFake } from './fakes/signalwire.fake';
import { SinchFake, startSinchFake } from './fakes/sinch.fake';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { startSecondInstance } from './support/call-tokens';
import { Client } from './support/http';
import { allMintEntries, createApiKey, expectNoSecrets, randomSinchSecret } from './support/minting';
import { basicForms, readWholeAudit, ResponseSink, tappedClient } from './support/provider-e2e';
import { startTestApp, TestApp } from './support/test-app';

/**
 * POST /api/credentials/{provider}/verify for the four providers against loopback fakes, and the
 * outbound safety rules (https only unless allowed, no redirects, capped bodies) seen from outside.
 */

const PROVIDERS = ['sinch-voice', 'sinch-project', 'signalwire', 'twilio'] as const;
const TRUNK_ID = randomUUID();
const hex = (bytes: number) => randomBytes(bytes).toString('hex');

let app: TestApp;
let sinch: SinchFake;
let sw: SignalWireFake;
let org: OrgFixture;
let admin: Client;
const responses: ResponseSink = [];
const secrets: string[] = [];

const tapped = (token: string | undefined, on: TestApp = app) => tappedClient(on.url, token, responses);

const verifyPath = (provider: string) => `/api/credentials/${provider}/verify`;

/** The provider timeout of the instance that meets a hanging fake (instead of waiting out the 5 s default). */
const SHORT_TIMEOUT_MS = 300;

/** Runs `work` against a second instance on this database whose provider timeout is SHORT_TIMEOUT_MS. */
async function withShortTimeout(work: (admin: Client) => Promise<void>): Promise<void> {
  const short = await startSecondInstance(app, {
    config: { allowInsecureProviderUrls: true, sinchAuthUrl: app.config.sinchAuthUrl, sinchEstUrl: app.config.sinchEstUrl },
    providerHttp: { timeoutMs: SHORT_TIMEOUT_MS },
  });
  try {
    await work(tapped(org.adminToken, short));
  } finally {
    await short.close();
  }
}

async function verify(as: Client, provider: string) {
  const response = await as.post(verifyPath(provider));
  expectStatus(response, 200);
  expect(response.body).toStrictEqual({ ok: expect.any(Boolean), detail: expect.any(String) });
  expect(response.body.detail.length).toBeGreaterThan(0);
  return response.body as { ok: boolean; detail: string };
}

async function put(as: Client, provider: string, fields: Record<string, string>, status = 200) {
  for (const [name, value] of Object.entries(fields)) if (/secret|token/i.test(name)) secrets.push(value);
  if (fields.keyId && fields.keySecret) secrets.push(...basicForms(fields.keyId, fields.keySecret));
  if (fields.projectId && fields.apiToken) secrets.push(...basicForms(fields.projectId, fields.apiToken));
  const response = await as.put(`/api/credentials/${provider}`, fields);
  expectStatus(response, status);
  return response;
}

const sinchProject = (overrides: Record<string, string> = {}) => ({
  projectId: sinch.projectId,
  keyId: sinch.keyId,
  keySecret: sinch.keySecret,
  trunkId: TRUNK_ID,
  ...overrides,
});
const signalwire = (overrides: Record<string, string> = {}) => ({ spaceUrl: sw.spaceUrl, projectId: sw.projectId, apiToken: sw.apiToken, ...overrides });
const twilioFields = () => ({ accountSid: `AC${hex(16)}`, apiKeySid: `SK${hex(16)}`, apiKeySecret: hex(16), twimlAppSid: `AP${hex(16)}` });
const sinchVoiceFields = () => ({ applicationKey: randomUUID(), applicationSecret: randomSinchSecret() });

beforeAll(async () => {
  sinch = await startSinchFake({ trunks: [{ id: TRUNK_ID, name: 'main', hostName: 'main-trunk' }], numbers: [{ phoneNumber: '+14165550101', sipTrunkId: TRUNK_ID }] });
  sw = await startSignalWireFake();
  app = await startTestApp({ config: { allowInsecureProviderUrls: true, sinchAuthUrl: sinch.authUrl, sinchEstUrl: sinch.estUrl } });
  org = await createOrgWithAdmin(app, 'Verify Co');
  admin = tapped(org.adminToken);
});

afterAll(async () => {
  await app?.close();
  await sinch?.close();
  await sw?.close();
});

describe('not configured, unknown provider, scopes', () => {
  it.each(PROVIDERS)('%s without credentials → 404 NOT_CONFIGURED, and no provider is called', async (provider) => {
    const before = sinch.count() + sw.count();
    expectError(await admin.post(verifyPath(provider)), 404, 'NOT_CONFIGURED');
    expect(sinch.count() + sw.count()).toBe(before);
  });

  it('an unknown provider → 400 VALIDATION_FAILED', async () => {
    expectError(await admin.post(verifyPath('nexmo')), 400, 'VALIDATION_FAILED');
  });

  it('MANAGE_CREDENTIALS is required: agent and auditor 403, an API key with the scope may, without it 403, no credential 401', async () => {
    await put(admin, 'twilio', twilioFields());
    const agent = await createUser(app, org, 'agent');
    const auditor = await createUser(app, org, 'auditor');
    expectError(await tapped(agent.token).post(verifyPath('twilio')), 403, 'MISSING_SCOPE');
    expectError(await tapped(auditor.token).post(verifyPath('twilio')), 403, 'MISSING_SCOPE');
    const manager = await createApiKey(admin, ['MANAGE_CREDENTIALS'], 'credentials bot');
    expect((await verify(tapped(manager.token), 'twilio')).ok).toBe(true);
    const other = await createApiKey(admin, ['CREATE_CALL_TOKEN', 'READ_AUDIT'], 'not a manager');
    expectError(await tapped(other.token).post(verifyPath('twilio')), 403, 'MISSING_SCOPE');
    expectError(await tapped(undefined).post(verifyPath('twilio')), 401, 'UNAUTHORIZED');
    expectError(await tapped(app.operatorToken).post(verifyPath('twilio')), 403, 'MISSING_SCOPE');
  });

  it("verify only looks at the caller's own org", async () => {
    const other = await createOrgWithAdmin(app, 'Other Verify Co');
    // This org has twilio credentials (previous test); the other org has none.
    expectError(await tapped(other.adminToken).post(verifyPath('twilio')), 404, 'NOT_CONFIGURED');
  });
});

describe('format checks (sinch-voice, twilio)', () => {
  it('sinch-voice: ok true for well-formed credentials, no request to any provider', async () => {
    await put(admin, 'sinch-voice', sinchVoiceFields());
    const before = sinch.count() + sw.count();
    expect((await verify(admin, 'sinch-voice')).ok).toBe(true);
    expect(sinch.count() + sw.count()).toBe(before);
  });

  it('twilio: ok true for well-formed credentials', async () => {
    await put(admin, 'twilio', twilioFields());
    expect((await verify(admin, 'twilio')).ok).toBe(true);
  });
});

describe('sinch-project', () => {
  it('good credentials with a trunk → ok true: a token was issued (and audited) and the trunk was read', async () => {
    await put(admin, 'sinch-project', sinchProject());
    const before = sinch.requests.length;
    const result = await verify(admin, 'sinch-project');
    expect(result.ok).toBe(true);
    const seen = sinch.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.auth} ${r.authorized}`);
    expect(seen).toEqual([`POST /oauth2/token basic true`, `GET /v1/projects/${sinch.projectId}/trunks/${TRUNK_ID} bearer true`]);
    const oauth = await allMintEntries(admin, 'provider=sinch-oauth');
    expect(oauth).toHaveLength(1);
    expect(oauth[0]).toEqual(expect.objectContaining({ actor: { kind: 'system', id: null }, outcome: 'issued', tokenFingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) }));
  });

  it('good credentials without a trunk → ok true', async () => {
    const { trunkId: _ignored, ...withoutTrunk } = sinchProject();
    await put(admin, 'sinch-project', withoutTrunk);
    expect((await verify(admin, 'sinch-project')).ok).toBe(true);
  });

  it('a wrong keySecret → ok false (Sinch answered 401), and the detail holds no secret', async () => {
    const wrong = randomBytes(18).toString('base64url');
    await put(admin, 'sinch-project', sinchProject({ keySecret: wrong }));
    const before = sinch.requests.length;
    const result = await verify(admin, 'sinch-project');
    expect(result.ok).toBe(false);
    expect(sinch.requests.slice(before).map((r) => [r.path, r.authorized])).toEqual([['/oauth2/token', false]]);
    expect(result.detail).not.toContain(wrong);
  });

  it('a wrong keyId → ok false', async () => {
    await put(admin, 'sinch-project', sinchProject({ keyId: randomUUID() }));
    expect((await verify(admin, 'sinch-project')).ok).toBe(false);
  });

  it('an unknown trunkId → ok false', async () => {
    const unknown = randomUUID();
    await put(admin, 'sinch-project', sinchProject({ trunkId: unknown }));
    const result = await verify(admin, 'sinch-project');
    expect(result.ok).toBe(false);
    expect(sinch.requests[sinch.requests.length - 1]).toEqual(expect.objectContaining({ path: `/v1/projects/${sinch.projectId}/trunks/${unknown}`, authorized: true }));
  });

  it('another project (the key may not read it) → ok false', async () => {
    await put(admin, 'sinch-project', sinchProject({ projectId: randomUUID() }));
    expect((await verify(admin, 'sinch-project')).ok).toBe(false);
  });

  it('Sinch auth down (500) or hanging → ok false, within the timeout', async () => {
    await put(admin, 'sinch-project', sinchProject());
    sinch.failNext('server-error', { path: '/oauth2/token' });
    expect((await verify(admin, 'sinch-project')).ok).toBe(false);

    await put(admin, 'sinch-project', sinchProject());
    sinch.failNext('hang', { path: '/oauth2/token' });
    await withShortTimeout(async (short) => {
      const started = performance.now();
      expect((await verify(short, 'sinch-project')).ok).toBe(false);
      expect(performance.now() - started).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS);
    });

    // Healthy again.
    expect((await verify(admin, 'sinch-project')).ok).toBe(true);
  }, 30_000);
});

describe('signalwire', () => {
  it('good credentials → ok true: an authenticated request to the space, which mints nothing', async () => {
    await put(admin, 'signalwire', signalwire());
    const before = sw.requests.length;
    const issued = sw.issued.length;
    const result = await verify(admin, 'signalwire');
    expect(result.ok).toBe(true);
    const seen = sw.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual(expect.objectContaining({ method: 'POST', path: '/api/chat/tokens', auth: 'basic', authorized: true }));
    expect(sw.issued.length).toBe(issued);
  });

  it('a wrong apiToken → ok false', async () => {
    await put(admin, 'signalwire', signalwire({ apiToken: `PT${hex(24)}` }));
    const result = await verify(admin, 'signalwire');
    expect(result.ok).toBe(false);
    expect(sw.requests[sw.requests.length - 1].authorized).toBe(false);
  });

  it('a hanging space → ok false within the timeout', async () => {
    await put(admin, 'signalwire', signalwire());
    sw.failNext('hang');
    const before = sw.requests.length;
    await withShortTimeout(async (short) => {
      const started = performance.now();
      const result = await verify(short, 'signalwire');
      const elapsed = performance.now() - started;
      expect(result.ok).toBe(false);
      expect(elapsed).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS);
    });
    expect(sw.requests.length).toBe(before + 1);
    expect((await verify(admin, 'signalwire')).ok).toBe(true);
  });

  it('a space that is down (connection refused) or answers 500 → ok false, promptly', async () => {
    const gone = await startSignalWireFake();
    const { spaceUrl, projectId, apiToken } = gone;
    await gone.close();
    await put(admin, 'signalwire', { spaceUrl, projectId, apiToken });
    // Promptly: an instance whose provider timeout is far beyond this test's own timeout still answers, so
    // the refusal did not wait for a timeout.
    const patient = await startSecondInstance(app, { config: { allowInsecureProviderUrls: true }, providerHttp: { timeoutMs: 10 * 60_000 } });
    try {
      expect((await verify(tapped(org.adminToken, patient), 'signalwire')).ok).toBe(false);
    } finally {
      await patient.close();
    }

    await put(admin, 'signalwire', signalwire());
    sw.failNext('server-error');
    expect((await verify(admin, 'signalwire')).ok).toBe(false);
    expect((await verify(admin, 'signalwire')).ok).toBe(true);
  });

  it('a redirecting space → ok false and the redirect is not followed; an oversize answer → ok false', async () => {
    sw.failNext('redirect');
    expect((await verify(admin, 'signalwire')).ok).toBe(false);
    expect(sw.count('/redirected')).toBe(0);
    sw.failNext('oversize');
    expect((await verify(admin, 'signalwire')).ok).toBe(false);
    expect((await verify(admin, 'signalwire')).ok).toBe(true);
  });
});

describe('https only, unless insecure provider URLs are allowed', () => {
  let strict: TestApp;
  let strictAdmin: Client;

  beforeAll(async () => {
    // The same database and keys as the main app, but http provider URLs are not allowed.
    strict = await startTestApp({
      db: app.db,
      config: {
        allowInsecureProviderUrls: false,
        sinchAuthUrl: sinch.authUrl,
        sinchEstUrl: sinch.estUrl,
        masterKeys: app.config.masterKeys,
        jwtSecret: app.config.jwtSecret,
      },
    });
    strictAdmin = tapped(org.adminToken, strict);
  });

  afterAll(async () => {
    await strict?.close();
  });

  it('PUT signalwire with an http spaceUrl → 400 VALIDATION_FAILED naming spaceUrl; https is accepted', async () => {
    const refused = await strictAdmin.put('/api/credentials/signalwire', signalwire());
    const error = expectError(refused, 400, 'VALIDATION_FAILED');
    expect(error.details).toEqual(expect.arrayContaining([{ field: 'spaceUrl', message: expect.any(String) }]));
    const accepted = await put(strictAdmin, 'signalwire', signalwire({ spaceUrl: 'https://example.signalwire.com' }));
    expect(accepted.body.fields.spaceUrl).toBe('https://example.signalwire.com');
  });

  it('an http space stored where it was allowed is never called from an instance that forbids it: chat 502, verify ok false', async () => {
    // Stored through the permissive instance.
    await put(admin, 'signalwire', signalwire());
    const before = sw.count();
    const chat = await strictAdmin.post('/api/chat/tokens', { ttl: 10, channels: { lobby: { read: true, write: true } } });
    expectError(chat, 502, 'PROVIDER_ERROR');
    expect((await verify(strictAdmin, 'signalwire')).ok).toBe(false);
    expect(sw.count()).toBe(before);
    // The permissive instance still reaches it.
    expect((await verify(admin, 'signalwire')).ok).toBe(true);
  });

  it('http Sinch endpoints are refused too: verify ok false and the trunk check 502, with no request to Sinch', async () => {
    await put(strictAdmin, 'sinch-project', sinchProject());
    const before = sinch.count();
    expect((await verify(strictAdmin, 'sinch-project')).ok).toBe(false);
    const agent = await createUser(app, org, 'agent');
    const added = await strictAdmin.post(`/api/users/${agent.id}/phone-numbers`, { provider: 'sinch', phoneNumber: '+14165550101' });
    expectError(added, 502, 'PROVIDER_ERROR');
    expect(sinch.count()).toBe(before);
  });

  it('no secret in the strict instance logs', () => {
    expect(strict.logs.length).toBeGreaterThan(0);
    expectNoSecrets('strict app.logs', strict.logs.join(''), secrets);
  });
});

describe('secrets', () => {
  it('no keySecret, apiToken, apiKeySecret or applicationSecret appears in any response or log line', async () => {
    expect(secrets.length).toBeGreaterThan(10);
    // The audit (config events, mint entries, the export) is read through the tapped admin, so it is scanned too.
    await readWholeAudit(admin);
    expect(responses.length).toBeGreaterThan(40);
    expectNoSecrets('responses', responses.join('\n'), secrets);
    expectNoSecrets('app.logs', app.logs.join(''), secrets);
    const list = await admin.get('/api/credentials');
    expectStatus(list, 200);
    expect(list.body).toHaveLength(4);
    expectNoSecrets('GET /api/credentials', list.text, secrets);
  });
});
