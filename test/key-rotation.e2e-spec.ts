import { createHmac, randomBytes } from 'node:crypto';
import pino from 'pino';
import { rotateKeys } from '../apps/cli/src/keys.command';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, HttpResult } from './support/http';
import { putSinchVoice, randomSinchSecret, twilioCredentials, verifySinchToken } from './support/minting';
import { startSecondInstance } from './support/call-tokens';
import { newMasterKey, startTestApp, TestApp } from './support/test-app';

/**
 * Master key rotation without downtime (issue: "keys:rotate re-encrypts every credential under the
 * primary key without downtime; old key ids keep decrypting until then"):
 *  1. the service runs with MASTER_KEYS=k1 and stores credentials of two orgs;
 *  2. an instance with MASTER_KEYS=k2,k1 (new primary first, old one kept) still decrypts them;
 *  3. `keys:rotate` rewraps every secret under k2, while that instance keeps minting;
 *  4. then an instance with only k2 works, one with only k1 fails clearly (never a token), and a second
 *     rotation has nothing to do.
 */

const SINCH_PATH = '/api/calls/token/sinch';
const TWILIO_PATH = '/api/calls/token/twilio';

const K1 = newMasterKey('k1');
const K2 = newMasterKey('k2');

interface OrgWithCredentials {
  org: OrgFixture;
  sinch: { applicationKey: string; applicationSecret: string };
}

interface StoredSecret {
  org_id: string;
  provider: string;
  field: string;
  kid: string;
  envelope: string;
}

const apps: TestApp[] = [];
let first: TestApp;
let orgA: OrgWithCredentials;
let orgB: OrgWithCredentials;
const twilioA = twilioCredentials();

async function start(masterKeys: string): Promise<TestApp> {
  const app = first ? await startSecondInstance(first, { config: { masterKeys } }) : await startTestApp({ config: { masterKeys } });
  apps.push(app);
  return app;
}

async function secrets(): Promise<StoredSecret[]> {
  return first.db.query<StoredSecret>(
    `SELECT c.org_id::text, c.provider, s.key AS field, s.value->>'kid' AS kid, s.value::text AS envelope
       FROM credentials c, jsonb_each(c.secrets) s ORDER BY 1, 2, 3`,
  );
}

async function setUp(app: TestApp, name: string): Promise<OrgWithCredentials> {
  const org = await createOrgWithAdmin(app, name);
  // The load during the rotation must never meet the default 600 mints per minute.
  expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { limits: { mintsPerMinute: 1_000_000 } }), 200);
  const sinch = { applicationKey: `${randomBytes(4).toString('hex')}-app-${name.toLowerCase().replace(/\W/g, '')}`, applicationSecret: randomSinchSecret() };
  await putSinchVoice(org.admin, sinch.applicationKey, sinch.applicationSecret);
  return { org, sinch };
}

/** The org's admin mints a Sinch token on `app`; the token must be signed with the org's real secret. */
async function mintSinch(app: TestApp, owner: OrgWithCredentials): Promise<HttpResult> {
  const response = await client(app.url, owner.org.adminToken).get(SINCH_PATH);
  expectStatus(response, 200);
  verifySinchToken(response.body.token, owner.sinch.applicationKey, owner.sinch.applicationSecret, owner.org.adminId);
  return response;
}

/** Twilio tokens are signed (HS256) with the API key secret: checks the decrypted secret is the stored one. */
async function mintTwilio(app: TestApp): Promise<void> {
  const response = await client(app.url, orgA.org.adminToken).get(TWILIO_PATH);
  expectStatus(response, 200);
  const [header, payload, signature] = (response.body.token as string).split('.');
  expect(createHmac('sha256', twilioA.apiKeySecret).update(`${header}.${payload}`).digest('base64url')).toBe(signature);
}

beforeAll(async () => {
  first = await start(K1);
  orgA = await setUp(first, 'Rotation Org A');
  orgB = await setUp(first, 'Rotation Org B');
  expectStatus(await orgA.org.admin.put('/api/credentials/twilio', twilioA), 200);
});

afterAll(async () => {
  // The first app owns the database: close it last.
  for (const app of apps.slice(1).reverse()) await app.close().catch(() => undefined);
  await first?.close();
});

describe('master key rotation', () => {
  it('before rotation: the k1 service mints, and every stored secret is under k1', async () => {
    await mintSinch(first, orgA);
    await mintSinch(first, orgB);
    await mintTwilio(first);
    const stored = await secrets();
    expect(stored.map((row) => `${row.provider}.${row.field}`).sort()).toEqual(
      ['sinch-voice.applicationSecret', 'sinch-voice.applicationSecret', 'twilio.apiKeySecret'].sort(),
    );
    expect(stored.every((row) => row.kid === 'k1')).toBe(true);
  });

  let rotating: TestApp;

  it('an instance with MASTER_KEYS=k2,k1 still decrypts the k1 secrets before any rotation', async () => {
    rotating = await start(`${K2},${K1}`);
    await mintSinch(rotating, orgA);
    await mintSinch(rotating, orgB);
    await mintTwilio(rotating);
    // Reading them back through the API works too (masked).
    const view = await client(rotating.url, orgB.org.adminToken).get('/api/credentials/sinch-voice');
    expectStatus(view, 200);
    expect(view.body.fields.applicationSecret).toBe(`••••${orgB.sinch.applicationSecret.slice(-4)}`);
    // Nothing was rewritten by merely reading.
    expect((await secrets()).every((row) => row.kid === 'k1')).toBe(true);
  });

  it('keys:rotate rewraps every secret under k2 while the service keeps minting', async () => {
    const before = await secrets();

    // Steady minting on the rotating instance during the rotation: every mint must succeed.
    let stop = false;
    const minted: number[] = [];
    const spans: Array<{ sent: number; done: number }> = [];
    const load = Promise.all(
      [orgA, orgB, orgA, orgB].map(async (owner) => {
        while (!stop) {
          const sent = performance.now();
          const response = await client(rotating.url, owner.org.adminToken).get(SINCH_PATH);
          spans.push({ sent, done: performance.now() });
          minted.push(response.status);
          if (response.status === 200) verifySinchToken(response.body.token, owner.sinch.applicationKey, owner.sinch.applicationSecret, owner.org.adminId);
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    // As `keys:rotate` runs it: the CLI, as the owner, beside the serving instance.
    const rotationStart = performance.now();
    const result = await rotateKeys(rotating.config, pino({ level: 'silent' }), rotating.db.url);
    const rotationEnd = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await load;

    // The mints really ran before, during and after the rotation (else "every mint succeeded" says little).
    expect(spans.filter((span) => span.done < rotationStart).length).toBeGreaterThan(0);
    expect(spans.filter((span) => span.sent < rotationEnd && span.done > rotationStart).length).toBeGreaterThan(0);
    expect(spans.filter((span) => span.sent > rotationEnd).length).toBeGreaterThan(0);

    expect(result).toEqual({ primaryKeyId: 'k2', rowsChecked: 3, rowsRewrapped: 3, secretsRewrapped: 3 });
    expect(minted.length).toBeGreaterThan(4);
    expect(minted.filter((status) => status !== 200)).toEqual([]);

    const after = await secrets();
    expect(after.map((row) => row.kid)).toEqual(['k2', 'k2', 'k2']);
    // Each envelope is really new (fresh nonce and ciphertext), for the same org, provider and field.
    expect(after.map(({ org_id, provider, field }) => ({ org_id, provider, field }))).toEqual(before.map(({ org_id, provider, field }) => ({ org_id, provider, field })));
    after.forEach((row, index) => expect(row.envelope).not.toBe(before[index].envelope));
    // The non-secret fields are untouched.
    const fields = await first.db.query<{ provider: string; fields: Record<string, string> }>('SELECT provider, fields FROM credentials WHERE org_id = $1 ORDER BY provider', [
      orgA.org.orgId,
    ]);
    expect(fields).toEqual([
      { provider: 'sinch-voice', fields: { applicationKey: orgA.sinch.applicationKey } },
      { provider: 'twilio', fields: { accountSid: twilioA.accountSid, apiKeySid: twilioA.apiKeySid, twimlAppSid: twilioA.twimlAppSid } },
    ]);
  });

  it('after rotation: the k2,k1 instance and an instance with only k2 mint with the same secrets', async () => {
    await mintSinch(rotating, orgA);
    await mintSinch(rotating, orgB);
    await mintTwilio(rotating);

    const onlyK2 = await start(K2);
    await mintSinch(onlyK2, orgA);
    await mintSinch(onlyK2, orgB);
    await mintTwilio(onlyK2);
  });

  it('after rotation: the instance with only k1 refuses to mint with a clear error, never a token', async () => {
    // It may serve its cached copy until the rotation's cache invalidation reaches it (milliseconds).
    let response: HttpResult | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      response = await client(first.url, orgB.org.adminToken).get(SINCH_PATH);
      if (response.status !== 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const body = expectError(response!, 500, 'CREDENTIALS_UNREADABLE');
    expect(body.error).toMatch(/cannot be decrypted/);
    expect(response!.text).not.toMatch(/"token"/);
    // The key material is never named in the answer or the log.
    for (const key of [K1, K2]) {
      expect(response!.text).not.toContain(key.split(':')[1]);
      expect(first.logs.join('')).not.toContain(key.split(':')[1]);
    }
    // Twilio too, and the refusal is audited as a failed mint.
    const twilio = await client(first.url, orgA.org.adminToken).get(TWILIO_PATH);
    expectError(twilio, 500, 'CREDENTIALS_UNREADABLE');
    const [entry] = await first.db.query<{ outcome: string; code: string; token_fingerprint: string | null }>(
      'SELECT outcome, code, token_fingerprint FROM mint_audit WHERE request_id = $1',
      [twilio.headers.get('x-request-id')],
    );
    expect(entry).toEqual({ outcome: 'failed', code: 'CREDENTIALS_UNREADABLE', token_fingerprint: null });
  });

  it('rotating again (keys:rotate from the CLI) rewraps nothing', async () => {
    const before = await secrets();
    const result = await rotateKeys(rotating.config, pino({ level: 'silent' }), rotating.db.url);
    expect(result).toEqual({ primaryKeyId: 'k2', rowsChecked: 3, rowsRewrapped: 0, secretsRewrapped: 0 });
    expect(await secrets()).toEqual(before);
    await mintSinch(rotating, orgA);
  });
});
