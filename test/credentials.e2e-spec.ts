import { randomBytes, randomUUID } from 'node:crypto';
import { expectError, expectStatus, expectValidation, ISO_PATTERN } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, http, HttpResult } from './support/http';
import {
  createApiKey,
  dumpDatabase,
  expectNoSecrets,
  mintEntryOf,
  putSinchVoice,
  randomHex,
  randomSinchSecret,
  SINCH_TOKEN_PREFIX,
  verifySinchToken,
} from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

const SINCH_PATH = '/api/calls/token/sinch';

let app: TestApp;
let org: OrgFixture;

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Credentials Co');
});

afterAll(async () => {
  await app?.close();
});

function alnum(length: number): string {
  return randomBytes(length * 2)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, length);
}

/** A complete, valid body for each provider, with fresh random values; `secret` is that provider's secret field. */
function sampleBodies() {
  return {
    'sinch-voice': {
      body: { applicationKey: randomUUID(), applicationSecret: randomSinchSecret() },
      secretField: 'applicationSecret',
    },
    'sinch-project': {
      body: { projectId: randomUUID(), keyId: randomUUID(), keySecret: alnum(30), trunkId: randomUUID() },
      secretField: 'keySecret',
    },
    signalwire: {
      body: { spaceUrl: 'https://example-space.signalwire.com', projectId: randomUUID(), apiToken: `PT${randomHex(24)}` },
      secretField: 'apiToken',
    },
    twilio: {
      body: { accountSid: `AC${randomHex(16)}`, apiKeySid: `SK${randomHex(16)}`, apiKeySecret: alnum(32), twimlAppSid: `AP${randomHex(16)}` },
      secretField: 'apiKeySecret',
    },
  } as const;
}

type ProviderName = keyof ReturnType<typeof sampleBodies>;
const PROVIDERS: ProviderName[] = ['sinch-voice', 'sinch-project', 'signalwire', 'twilio'];

function masked(body: Record<string, string>, secretField: string): Record<string, string> {
  return { ...body, [secretField]: `••••${body[secretField].slice(-4)}` };
}

/** A credentials-unreadable answer: the stable code, a server-side status, and certainly no token. */
function expectUnreadable(response: HttpResult) {
  expect({ status: response.status, code: response.body?.code }).toEqual({ status: expect.any(Number), code: 'CREDENTIALS_UNREADABLE' });
  expect(response.status).toBeGreaterThanOrEqual(500);
  expect(response.body).toEqual({ success: false, error: expect.any(String), code: 'CREDENTIALS_UNREADABLE', requestId: response.headers.get('x-request-id') });
  expect(response.text).not.toContain(SINCH_TOKEN_PREFIX);
}

describe('PUT, GET, list and DELETE for every provider', () => {
  it.each(PROVIDERS)('%s: stores, masks the secret, reads back, lists, replaces and deletes', async (provider) => {
    const tenant = await createOrgWithAdmin(app, `CRUD ${provider}`);
    const { body, secretField } = sampleBodies()[provider];
    const secret = (body as Record<string, string>)[secretField];

    const put = await tenant.admin.put(`/api/credentials/${provider}`, body);
    expectStatus(put, 200);
    expect(put.body).toEqual({
      provider,
      fields: masked(body, secretField),
      updatedAt: expect.stringMatching(ISO_PATTERN),
      updatedBy: { kind: 'user', id: tenant.adminId },
    });
    expect(Math.abs(Date.parse(put.body.updatedAt) - Date.now())).toBeLessThan(60_000);
    expect(put.text).not.toContain(secret);

    const get = await tenant.admin.get(`/api/credentials/${provider}`);
    expectStatus(get, 200);
    expect(get.body).toEqual(put.body);

    const list = await tenant.admin.get('/api/credentials');
    expectStatus(list, 200);
    expect(list.body).toEqual([put.body]);

    // Replacing: the new values, a new updatedAt, by whoever replaced them.
    const replacement = sampleBodies()[provider].body as Record<string, string>;
    const key = await createApiKey(tenant.admin, ['MANAGE_CREDENTIALS'], 'credential rotation');
    const replaced = await client(app.url, key.token).put(`/api/credentials/${provider}`, replacement);
    expectStatus(replaced, 200);
    expect(replaced.body).toEqual({
      provider,
      fields: masked(replacement, secretField),
      updatedAt: expect.stringMatching(ISO_PATTERN),
      updatedBy: { kind: 'api_key', id: key.id },
    });
    expect(Date.parse(replaced.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(put.body.updatedAt));
    expect((await tenant.admin.get(`/api/credentials/${provider}`)).body).toEqual(replaced.body);
    expect((await tenant.admin.get('/api/credentials')).body).toEqual([replaced.body]);

    const removed = await tenant.admin.delete(`/api/credentials/${provider}`);
    expectStatus(removed, 204);
    expect(removed.text).toBe('');
    expectError(await tenant.admin.get(`/api/credentials/${provider}`), 404, 'NOT_CONFIGURED');
    expectError(await tenant.admin.delete(`/api/credentials/${provider}`), 404, 'NOT_CONFIGURED');
    expect((await tenant.admin.get('/api/credentials')).body).toEqual([]);
  });

  it('lists all four providers of an org at once, each masked', async () => {
    const tenant = await createOrgWithAdmin(app, 'All Four Co');
    const samples = sampleBodies();
    const expected: Record<string, unknown> = {};
    for (const provider of PROVIDERS) {
      const put = await tenant.admin.put(`/api/credentials/${provider}`, samples[provider].body);
      expectStatus(put, 200);
      expected[provider] = put.body;
    }
    const list = await tenant.admin.get('/api/credentials');
    expectStatus(list, 200);
    expect(list.body).toHaveLength(4);
    expect(Object.fromEntries(list.body.map((view: { provider: string }) => [view.provider, view]))).toEqual(expected);
    for (const provider of PROVIDERS) {
      const { body, secretField } = samples[provider];
      expect(list.text).not.toContain((body as Record<string, string>)[secretField]);
    }
  });

  it('an unconfigured provider is 404 NOT_CONFIGURED; an unknown provider name is refused', async () => {
    const tenant = await createOrgWithAdmin(app, 'Empty Co');
    for (const provider of PROVIDERS) {
      expectError(await tenant.admin.get(`/api/credentials/${provider}`), 404, 'NOT_CONFIGURED');
      expectError(await tenant.admin.delete(`/api/credentials/${provider}`), 404, 'NOT_CONFIGURED');
    }
    expect((await tenant.admin.get('/api/credentials')).body).toEqual([]);
    expectError(await tenant.admin.post('/api/credentials/sinch-voice/verify'), 404, 'NOT_CONFIGURED');
    expectValidation(await tenant.admin.put('/api/credentials/plivo', { authId: 'x', authToken: 'y' }), 'provider');
    for (const bad of ['plivo', 'SINCH-VOICE', 'sinch', '__proto__']) {
      const get = await tenant.admin.get(`/api/credentials/${bad}`);
      expect([400, 404]).toContain(get.status);
      expect(get.body.success).toBe(false);
    }
  });

  it("another org's credentials do not exist for you", async () => {
    const owner = await createOrgWithAdmin(app, 'Owner Co');
    const stranger = await createOrgWithAdmin(app, 'Stranger Co');
    const put = await putSinchVoice(owner.admin, randomUUID(), randomSinchSecret());
    expectError(await stranger.admin.get('/api/credentials/sinch-voice'), 404, 'NOT_CONFIGURED');
    expect((await stranger.admin.get('/api/credentials')).body).toEqual([]);
    expectError(await stranger.admin.delete('/api/credentials/sinch-voice'), 404, 'NOT_CONFIGURED');
    expect((await owner.admin.get('/api/credentials/sinch-voice')).body).toEqual(put.body);
    // The stranger minting is not configured: the owner's application is not used.
    expectError(await stranger.admin.get(SINCH_PATH), 400, 'SINCH_NOT_CONFIGURED');
  });
});

describe('validation', () => {
  const validSinch = () => ({ applicationKey: randomUUID(), applicationSecret: randomSinchSecret() });

  it('refuses a sinch-voice secret that is not padded standard base64, naming the field and not echoing the value', async () => {
    for (const bad of [
      'not base64!!',
      'abc',
      'YWI=YWI=',
      'ax8hTTQJF0OPXL32r1LHMA',
      'ax8h-TQJF0OPXL32r1LHMA==',
      'ax8h_TQJF0OPXL32r1LHMA==',
      ' ax8hTTQJF0OPXL32r1LHMA==',
      '====',
      'YR==',
    ]) {
      const response = await org.admin.put('/api/credentials/sinch-voice', { applicationKey: randomUUID(), applicationSecret: bad });
      const body = expectValidation(response, 'applicationSecret');
      if (bad.trim().length >= 8) expect(response.text).not.toContain(bad.trim());
      expect(body.details?.every((detail) => detail.field !== 'applicationKey')).toBe(true);
    }
    expectError(await org.admin.get('/api/credentials/sinch-voice'), 404, 'NOT_CONFIGURED');
  });

  it('refuses missing, empty, non-string and unknown fields, listing every problem at once', async () => {
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { applicationKey: randomUUID() }), 'applicationSecret');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { applicationSecret: randomSinchSecret() }), 'applicationKey');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', {}), 'applicationKey', 'applicationSecret');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { ...validSinch(), region: 'eu' }), 'region');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { ...validSinch(), applicationKey: '' }), 'applicationKey');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { ...validSinch(), applicationKey: '   ' }), 'applicationKey');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { ...validSinch(), applicationKey: 42 }), 'applicationKey');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { ...validSinch(), applicationSecret: null }), 'applicationSecret');
    expectValidation(await org.admin.put('/api/credentials/sinch-voice', { ...validSinch(), applicationKey: 'x'.repeat(5000) }), 'applicationKey');
    expectValidation(
      await org.admin.put('/api/credentials/twilio', {
        accountSid: 'AC123',
        apiKeySid: `AC${randomHex(16)}`,
        apiKeySecret: alnum(32),
        twimlAppSid: `AP${randomHex(15)}`,
        extra: '1',
      }),
      'accountSid',
      'apiKeySid',
      'twimlAppSid',
      'extra',
    );
    expectValidation(await org.admin.put('/api/credentials/sinch-project', { projectId: randomUUID(), keyId: randomUUID() }), 'keySecret');
    // A body that is not an object.
    for (const rawBody of ['[]', '"text"', '42', 'null']) {
      const response = await http(app.url, 'PUT', '/api/credentials/sinch-voice', { token: org.adminToken, rawBody });
      expectError(response, 400, 'VALIDATION_FAILED');
    }
    expectError(await org.admin.get('/api/credentials/sinch-voice'), 404, 'NOT_CONFIGURED');
  });

  it('requires an https spaceUrl for signalwire', async () => {
    const base = { projectId: randomUUID(), apiToken: `PT${randomHex(24)}` };
    for (const spaceUrl of [
      'http://example.signalwire.com',
      'example.signalwire.com',
      'ftp://example.signalwire.com',
      'https://user:pw@example.signalwire.com',
      'https:example.signalwire.com',
      'https://example.signalwire.com/?x=1',
      '',
    ]) {
      expectValidation(await org.admin.put('/api/credentials/signalwire', { ...base, spaceUrl }), 'spaceUrl');
    }
    const ok = await org.admin.put('/api/credentials/signalwire', { ...base, spaceUrl: 'https://example.signalwire.com/' });
    expectStatus(ok, 200);
    expect(ok.body.fields.spaceUrl).toMatch(/^https:\/\/example\.signalwire\.com\/?$/);
    expectStatus(await org.admin.delete('/api/credentials/signalwire'), 204);
  });

  it('a refused PUT leaves the stored credentials as they were', async () => {
    const tenant = await createOrgWithAdmin(app, 'Keep Co');
    const stored = await putSinchVoice(tenant.admin, randomUUID(), randomSinchSecret());
    expectValidation(await tenant.admin.put('/api/credentials/sinch-voice', { applicationKey: randomUUID(), applicationSecret: 'bad!' }), 'applicationSecret');
    expect((await tenant.admin.get('/api/credentials/sinch-voice')).body).toEqual(stored.body);
  });
});

describe('access', () => {
  it('requires MANAGE_CREDENTIALS: agents, auditors and narrower API keys get 403, no credential 401', async () => {
    const agent = await createUser(app, org, 'agent');
    const auditor = await createUser(app, org, 'auditor');
    const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN', 'READ_AUDIT'], 'no credentials scope');
    const body = { applicationKey: randomUUID(), applicationSecret: randomSinchSecret() };
    for (const caller of [agent.client, auditor.client, client(app.url, key.token)]) {
      expectError(await caller.put('/api/credentials/sinch-voice', body), 403, 'MISSING_SCOPE');
      expectError(await caller.get('/api/credentials/sinch-voice'), 403, 'MISSING_SCOPE');
      expectError(await caller.get('/api/credentials'), 403, 'MISSING_SCOPE');
      expectError(await caller.delete('/api/credentials/sinch-voice'), 403, 'MISSING_SCOPE');
      expectError(await caller.post('/api/credentials/sinch-voice/verify'), 403, 'MISSING_SCOPE');
    }
    const anonymous = client(app.url);
    expectError(await anonymous.put('/api/credentials/sinch-voice', body), 401, 'UNAUTHORIZED');
    expectError(await anonymous.get('/api/credentials'), 401, 'UNAUTHORIZED');
    // The operator token holds no tenant scopes.
    const operator = await client(app.url, app.operatorToken).put('/api/credentials/sinch-voice', body);
    expect([401, 403]).toContain(operator.status);
    // Nothing was stored by any of them.
    expectError(await org.admin.get('/api/credentials/sinch-voice'), 404, 'NOT_CONFIGURED');
  });
});

describe('minting follows the stored credentials at once', () => {
  it('replacing the sinch-voice credentials changes the next token immediately; deleting them stops minting', async () => {
    const tenant = await createOrgWithAdmin(app, 'Rotation Co');
    const agent = await createUser(app, tenant, 'agent');
    const first = { key: randomUUID(), secret: randomSinchSecret() };
    await putSinchVoice(tenant.admin, first.key, first.secret);
    const before = await agent.client.get(SINCH_PATH);
    expectStatus(before, 200);
    expect(before.body.applicationKey).toBe(first.key);
    verifySinchToken(before.body.token, first.key, first.secret, agent.id);

    const second = { key: randomUUID(), secret: randomSinchSecret() };
    await putSinchVoice(tenant.admin, second.key, second.secret);
    const after = await agent.client.get(SINCH_PATH);
    expectStatus(after, 200);
    expect(after.body.applicationKey).toBe(second.key);
    verifySinchToken(after.body.token, second.key, second.secret, agent.id);

    expectStatus(await tenant.admin.delete('/api/credentials/sinch-voice'), 204);
    expectError(await agent.client.get(SINCH_PATH), 400, 'SINCH_NOT_CONFIGURED');

    const third = { key: randomUUID(), secret: randomSinchSecret() };
    await putSinchVoice(tenant.admin, third.key, third.secret);
    const again = await agent.client.get(SINCH_PATH);
    expectStatus(again, 200);
    verifySinchToken(again.body.token, third.key, third.secret, agent.id);
  });

  it('a change made while mints are reading the credentials is not undone by what they read (no stale cache)', async () => {
    const tenant = await createOrgWithAdmin(app, 'Rotation Under Load Co');
    const agent = await createUser(app, tenant, 'agent');
    expectStatus(await tenant.operator.patch(`/api/orgs/${tenant.orgId}`, { limits: { mintsPerMinute: 100_000 } }), 200);
    await putSinchVoice(tenant.admin, randomUUID(), randomSinchSecret());
    const stale: string[] = [];
    for (let trial = 0; trial < 15; trial++) {
      let running = true;
      const worker = async () => {
        while (running) await agent.client.get(SINCH_PATH);
      };
      const workers = Array.from({ length: 10 }, worker);
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Two changes back to back: mints that missed the cache after the first are still reading when the second lands.
      await putSinchVoice(tenant.admin, randomUUID(), randomSinchSecret());
      const latest = { key: randomUUID(), secret: randomSinchSecret() };
      await putSinchVoice(tenant.admin, latest.key, latest.secret);
      running = false;
      await Promise.all(workers);
      const after = await agent.client.get(SINCH_PATH);
      expectStatus(after, 200);
      if (after.body.applicationKey !== latest.key) stale.push(`trial ${trial}`);
      else verifySinchToken(after.body.token, latest.key, latest.secret, agent.id);
    }
    expect(stale).toEqual([]);
  });
});

describe('secrets never leak', () => {
  it('no secret value in any response, log line, config event, mint audit row or anywhere in the database', async () => {
    const tenant = await createOrgWithAdmin(app, 'Leak Check Co');
    const agent = await createUser(app, tenant, 'agent');
    const samples = sampleBodies();
    const secrets: string[] = PROVIDERS.map((provider) => (samples[provider].body as Record<string, string>)[samples[provider].secretField]);
    const responses: HttpResult[] = [];
    const keep = (response: HttpResult) => {
      responses.push(response);
      return response;
    };

    for (const provider of PROVIDERS) expectStatus(keep(await tenant.admin.put(`/api/credentials/${provider}`, samples[provider].body)), 200);
    for (const provider of PROVIDERS) expectStatus(keep(await tenant.admin.get(`/api/credentials/${provider}`)), 200);
    expectStatus(keep(await tenant.admin.get('/api/credentials')), 200);

    // Minting with them (the secret is used: the token verifies with it).
    const sinch = samples['sinch-voice'].body;
    const minted = keep(await agent.client.get(SINCH_PATH));
    expectStatus(minted, 200);
    verifySinchToken(minted.body.token, sinch.applicationKey, sinch.applicationSecret, agent.id);

    const twilioToken = keep(await agent.client.get('/api/calls/token/twilio'));
    expectStatus(twilioToken, 200);
    // Checking the stored credentials (format checks only for these two: no network).
    for (const provider of ['sinch-voice', 'twilio']) {
      const verified = keep(await tenant.admin.post(`/api/credentials/${provider}/verify`));
      expectStatus(verified, 200);
      expect(verified.body).toEqual({ ok: true, detail: expect.any(String) });
    }

    // Replace one, so old and new values have both been through the service.
    const rotated = randomSinchSecret();
    secrets.push(rotated);
    expectStatus(keep(await tenant.admin.put('/api/credentials/sinch-voice', { applicationKey: sinch.applicationKey, applicationSecret: rotated })), 200);
    expectStatus(keep(await agent.client.get(SINCH_PATH)), 200);

    // Refused bodies that carry a secret: the error does not repeat it.
    const refusedSecret = randomSinchSecret();
    secrets.push(refusedSecret);
    expectValidation(
      keep(await tenant.admin.put('/api/credentials/sinch-voice', { applicationKey: sinch.applicationKey, applicationSecret: refusedSecret, colour: 'red' })),
      'colour',
    );
    const badTwilioSecret = alnum(32);
    secrets.push(badTwilioSecret);
    expectValidation(
      keep(await tenant.admin.put('/api/credentials/twilio', { accountSid: 'nope', apiKeySid: 'nope', apiKeySecret: badTwilioSecret, twimlAppSid: 'nope' })),
      'accountSid',
    );
    // A secret that is itself invalid is not echoed either.
    const invalidSecret = `${randomSinchSecret().slice(0, 20)}!!`;
    expectValidation(
      keep(await tenant.admin.put('/api/credentials/sinch-voice', { applicationKey: sinch.applicationKey, applicationSecret: invalidSecret })),
      'applicationSecret',
    );
    expect(responses[responses.length - 1].text).not.toContain(invalidSecret);

    // The audit views.
    expectStatus(keep(await tenant.admin.get('/api/audit/events?limit=500')), 200);
    expectStatus(keep(await tenant.admin.get('/api/audit/mints?limit=500')), 200);

    for (const response of responses) {
      expectNoSecrets(`response ${response.status} ${response.headers.get('x-request-id')}`, response.text, secrets);
      expectNoSecrets('response headers', JSON.stringify([...response.headers.entries()]), secrets);
    }
    expectNoSecrets('logs', app.logs.join(''), secrets);

    const events = await app.db.query<{ row: string }>('SELECT t::text AS row FROM config_events t WHERE org_id = $1', [tenant.orgId]);
    expect(events.length).toBeGreaterThan(0);
    expectNoSecrets('config_events', events.map((e) => e.row).join('\n'), secrets);
    const credentialEvents = await app.db.query<{ action: string; details: Record<string, unknown> }>(
      `SELECT action, details FROM config_events WHERE org_id = $1 AND target_type = 'credentials' ORDER BY at`,
      [tenant.orgId],
    );
    expect(credentialEvents.map((e) => e.action)).toEqual([
      'credentials.created',
      'credentials.created',
      'credentials.created',
      'credentials.created',
      'credentials.replaced',
    ]);

    const audit = await app.db.query<{ row: string }>('SELECT t::text AS row FROM mint_audit t');
    expect(audit.length).toBeGreaterThan(0);
    expectNoSecrets('mint_audit', audit.map((a) => a.row).join('\n'), secrets);

    const dump = await dumpDatabase(app);
    // The dump is real: it holds this org's credentials row with its non-secret fields.
    expect(dump).toContain(tenant.orgId);
    expect(dump).toContain(sinch.applicationKey);
    expect(dump).toContain(samples.twilio.body.accountSid);
    expectNoSecrets('database dump', dump, secrets);
  });
});

describe('encryption at rest', () => {
  async function mintFailsUnreadable(tenant: OrgFixture) {
    const response = await tenant.admin.get(SINCH_PATH);
    expectUnreadable(response);
    const entry = await mintEntryOf(tenant.admin, response.headers.get('x-request-id'));
    expect(entry).toMatchObject({ outcome: 'failed', code: 'CREDENTIALS_UNREADABLE', tokenFingerprint: null });
    return response;
  }

  it('a flipped character of a stored ciphertext makes GET, list and mint fail with CREDENTIALS_UNREADABLE; storing again recovers', async () => {
    const tenant = await createOrgWithAdmin(app, 'Tamper Co');
    const secret = randomSinchSecret();
    const applicationKey = randomUUID();
    await putSinchVoice(tenant.admin, applicationKey, secret);
    // Tamper before anything reads (and caches) this org's credentials.
    const [row] = await app.db.query<{ ct: string }>(`SELECT secrets->'applicationSecret'->>'ct' AS ct FROM credentials WHERE org_id = $1 AND provider = 'sinch-voice'`, [
      tenant.orgId,
    ]);
    expect(row.ct).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const flipped = (row.ct[0] === 'A' ? 'B' : 'A') + row.ct.slice(1);
    await app.db.query(`UPDATE credentials SET secrets = jsonb_set(secrets, '{applicationSecret,ct}', to_jsonb($2::text)) WHERE org_id = $1 AND provider = 'sinch-voice'`, [
      tenant.orgId,
      flipped,
    ]);

    expectUnreadable(await tenant.admin.get('/api/credentials/sinch-voice'));
    expectUnreadable(await tenant.admin.get('/api/credentials'));
    expectUnreadable(await tenant.admin.post('/api/credentials/sinch-voice/verify'));
    await mintFailsUnreadable(tenant);
    const logs = app.logs.join('');
    expect(logs).not.toContain(secret);

    // Storing them again repairs it.
    await putSinchVoice(tenant.admin, applicationKey, secret);
    const minted = await tenant.admin.get(SINCH_PATH);
    expectStatus(minted, 200);
    verifySinchToken(minted.body.token, applicationKey, secret, tenant.adminId);
  });

  it('a tampered tag, an unknown key id or a malformed envelope is refused the same way', async () => {
    const edits: Array<[string, string]> = [
      ['tag', `jsonb_set(secrets, '{applicationSecret,tag}', to_jsonb('AAAAAAAAAAAAAAAAAAAAAA=='::text))`],
      ['nonce', `jsonb_set(secrets, '{applicationSecret,nonce}', to_jsonb('AAAAAAAAAAAAAAAA'::text))`],
      ['kid', `jsonb_set(secrets, '{applicationSecret,kid}', to_jsonb('nosuchkey'::text))`],
      ['plaintext', `jsonb_set(secrets, '{applicationSecret}', to_jsonb('ax8hTTQJF0OPXL32r1LHMA=='::text))`],
      ['truncated ct', `jsonb_set(secrets, '{applicationSecret,ct}', to_jsonb(left(secrets->'applicationSecret'->>'ct', 8)))`],
      ['missing', `secrets - 'applicationSecret'`],
    ];
    for (const [label, expression] of edits) {
      const tenant = await createOrgWithAdmin(app, `Tamper ${label}`);
      await putSinchVoice(tenant.admin, randomUUID(), randomSinchSecret());
      await app.db.query(`UPDATE credentials SET secrets = ${expression} WHERE org_id = $1 AND provider = 'sinch-voice'`, [tenant.orgId]);
      const response = await tenant.admin.get(SINCH_PATH);
      if (label === 'missing') {
        // No secret at all: never a token signed with nothing.
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.text).not.toContain(SINCH_TOKEN_PREFIX);
        continue;
      }
      expect({ label, code: response.body.code }).toEqual({ label, code: 'CREDENTIALS_UNREADABLE' });
      expectUnreadable(response);
      expectUnreadable(await tenant.admin.get('/api/credentials/sinch-voice'));
    }
  });

  it("one org's secrets copied onto another org's row do not decrypt there (associated data binds the org)", async () => {
    const source = await createOrgWithAdmin(app, 'Source Co');
    const target = await createOrgWithAdmin(app, 'Target Co');
    const sourceSecret = randomSinchSecret();
    const sourceKey = randomUUID();
    await putSinchVoice(source.admin, sourceKey, sourceSecret);
    await putSinchVoice(target.admin, randomUUID(), randomSinchSecret());
    await app.db.query(
      `UPDATE credentials SET secrets = (SELECT secrets FROM credentials WHERE org_id = $1 AND provider = 'sinch-voice')
        WHERE org_id = $2 AND provider = 'sinch-voice'`,
      [source.orgId, target.orgId],
    );
    expectUnreadable(await target.admin.get('/api/credentials/sinch-voice'));
    const response = await mintFailsUnreadable(target);
    expect(response.text).not.toContain(sourceKey);

    // The source org is untouched.
    expectStatus(await source.admin.get('/api/credentials/sinch-voice'), 200);
    const minted = await source.admin.get(SINCH_PATH);
    expectStatus(minted, 200);
    verifySinchToken(minted.body.token, sourceKey, sourceSecret, source.adminId);
  });

  it("a secret moved to another provider's or field's slot does not decrypt there either", async () => {
    const tenant = await createOrgWithAdmin(app, 'Field Swap Co');
    await putSinchVoice(tenant.admin, randomUUID(), randomSinchSecret());
    const twilio = sampleBodies().twilio.body;
    expectStatus(await tenant.admin.put('/api/credentials/twilio', twilio), 200);
    await app.db.query(
      `UPDATE credentials SET secrets = jsonb_build_object('applicationSecret',
          (SELECT secrets->'apiKeySecret' FROM credentials WHERE org_id = $1 AND provider = 'twilio'))
        WHERE org_id = $1 AND provider = 'sinch-voice'`,
      [tenant.orgId],
    );
    expectUnreadable(await tenant.admin.get('/api/credentials/sinch-voice'));
    await mintFailsUnreadable(tenant);
    // The twilio row itself still reads.
    expectStatus(await tenant.admin.get('/api/credentials/twilio'), 200);
  });

  it('stores each secret as an AES-GCM envelope, with a fresh nonce each time', async () => {
    const tenant = await createOrgWithAdmin(app, 'Envelope Co');
    const secret = randomSinchSecret();
    const applicationKey = randomUUID();
    await putSinchVoice(tenant.admin, applicationKey, secret);
    const [first] = await app.db.query<{ fields: Record<string, string>; secrets: Record<string, Record<string, unknown>> }>(
      `SELECT fields, secrets FROM credentials WHERE org_id = $1 AND provider = 'sinch-voice'`,
      [tenant.orgId],
    );
    expect(first.fields).toEqual({ applicationKey });
    expect(Object.keys(first.secrets)).toEqual(['applicationSecret']);
    expect(first.secrets.applicationSecret).toEqual({ v: 1, kid: expect.any(String), nonce: expect.any(String), ct: expect.any(String), tag: expect.any(String) });
    await putSinchVoice(tenant.admin, applicationKey, secret);
    const [second] = await app.db.query<{ secrets: Record<string, Record<string, unknown>> }>(
      `SELECT secrets FROM credentials WHERE org_id = $1 AND provider = 'sinch-voice'`,
      [tenant.orgId],
    );
    expect(second.secrets.applicationSecret.nonce).not.toBe(first.secrets.applicationSecret.nonce);
    expect(second.secrets.applicationSecret.ct).not.toBe(first.secrets.applicationSecret.ct);
  });
});
