import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { startSignalWireFake, SignalWireFake } from './fakes/signalwire.fake';
import { startTelnyxFake, TelnyxFake } from './fakes/telnyx.fake';
import { expectError, expectStatus } from './support/assertions';
import { AuditRefusal, chainSeqs, mintAuditCount, mintMetrics, refuseAuditWrites, restoreAuditWrites } from './support/audit-outage';
import { createEndpoint, mintCallToken, setOrg } from './support/call-tokens';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, HttpResult } from './support/http';
import { putSinchVoice, randomSinchSecret, SINCH_TOKEN_PREFIX, twilioCredentials } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * "A token is never handed out unless its audit entry is committed first" (API.md, Minting), on every
 * path that hands something out or changes a token's fate: Sinch and Twilio voice, the token routes (Twilio, LiveKit, Vonage, Agora, Telnyx), SignalWire chat, call
 * token mint, revoke and redeem. The audit storage refuses writes through a real PostgreSQL trigger; each
 * path must answer 503 UNAVAILABLE, show the token neither in the answer nor in the log, change nothing
 * (audit entries, mint metrics, the token's state), and work again, without a hole in the chain, once the
 * audit is back.
 */

const REFUSALS: AuditRefusal[] = [
  { table: 'mint_audit', operation: 'INSERT' },
  { table: 'audit_chain_heads', operation: 'UPDATE' },
];
const CALL_TOKEN = /mct_[A-Za-z0-9_-]{43}/;

let app: TestApp;
let sw: SignalWireFake;
let telnyx: TelnyxFake;
let org: OrgFixture;
let endpointId: string;
/** The header segment of this org's Twilio tokens (the same for every token of these credentials). */
let twilioHeader: string;

beforeAll(async () => {
  sw = await startSignalWireFake();
  telnyx = await startTelnyxFake();
  app = await startTestApp({ config: { allowInsecureProviderUrls: true } });
  org = await createOrgWithAdmin(app, 'Fail Closed Co');
  await setOrg(org, { features: { webrtc: true } });
  endpointId = await createEndpoint(org.admin);
  await putSinchVoice(org.admin, 'a32e5a8d-f7d8-411c-9645-9038e8dd051d', randomSinchSecret());
  expectStatus(await org.admin.put('/api/credentials/twilio', twilioCredentials()), 200);
  expectStatus(await org.admin.put('/api/credentials/signalwire', { spaceUrl: sw.spaceUrl, projectId: sw.projectId, apiToken: sw.apiToken }), 200);
  expectStatus(await org.admin.put('/api/credentials/livekit', { url: 'wss://example.livekit.cloud', apiKey: 'APIfailclosed', apiSecret: 'fail-closed-livekit-secret' }), 200);
  const vonageKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  expectStatus(await org.admin.put('/api/credentials/vonage', { applicationId: randomUUID(), privateKey: vonageKey }), 200);
  expectStatus(await org.admin.put('/api/credentials/agora', { appId: randomBytes(16).toString('hex'), appCertificate: randomBytes(16).toString('hex') }), 200);
  expectStatus(await org.admin.put('/api/credentials/telnyx', { apiKey: telnyx.apiKey, connectionId: telnyx.connectionId, baseUrl: telnyx.url }), 200);
  const twilio = await org.admin.get('/api/calls/token/twilio');
  expectStatus(twilio, 200);
  twilioHeader = twilio.body.token.split('.')[0];
});

afterAll(async () => {
  await restoreAuditWrites(app);
  await app?.close();
  await sw?.close();
  await telnyx?.close();
});

afterEach(async () => {
  await restoreAuditWrites(app);
});

/** One path that must fail closed. */
interface Path {
  name: string;
  /** The metric provider label of a mint path (revoke and redeem are no mints). */
  provider?: string;
  /** What the attempt needs, made before the audit goes away (e.g. a call token to redeem). */
  prepare(): Promise<{ id: string; token: string } | undefined>;
  attempt(prepared: { id: string; token: string } | undefined): Promise<HttpResult>;
  /** Strings that must appear neither in the refused answer nor in the log written meanwhile. */
  secrets(prepared: { id: string; token: string } | undefined): string[];
  /** Patterns likewise. */
  patterns: RegExp[];
  /** The status of the same call once the audit is back. */
  success: number;
  /** The call token's status the refusal must leave, and the one success gives it. */
  tokenStatus?: { after: string; then: string };
}

const PATHS: Path[] = [
  {
    name: 'Sinch voice (GET /api/calls/token/sinch)',
    provider: 'sinch',
    prepare: async () => undefined,
    attempt: () => org.admin.get('/api/calls/token/sinch'),
    secrets: () => [SINCH_TOKEN_PREFIX],
    patterns: [],
    success: 200,
  },
  {
    name: 'Twilio voice (GET /api/calls/token/twilio)',
    provider: 'twilio',
    prepare: async () => undefined,
    attempt: () => org.admin.get('/api/calls/token/twilio'),
    secrets: () => [twilioHeader],
    patterns: [],
    success: 200,
  },
  {
    name: 'Twilio (POST /api/tokens/twilio)',
    provider: 'twilio',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/tokens/twilio', { video: { room: 'fail-closed' } }),
    secrets: () => [twilioHeader],
    patterns: [],
    success: 200,
  },
  {
    name: 'LiveKit (POST /api/tokens/livekit)',
    provider: 'livekit',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/tokens/livekit', { room: 'fail-closed' }),
    // The start of every LiveKit join token's claims: {"video":{"roomJoin":
    secrets: () => [Buffer.from('{"video":{"roomJoin":').toString('base64url').slice(0, 24)],
    patterns: [],
    success: 200,
  },
  {
    name: 'Vonage (POST /api/tokens/vonage)',
    provider: 'vonage',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/tokens/vonage', {}),
    // The start of every Vonage Client SDK token's claims: {"application_id":
    secrets: () => [Buffer.from('{"application_id":').toString('base64url').slice(0, 20)],
    patterns: [],
    success: 200,
  },
  {
    name: 'Agora (POST /api/tokens/agora)',
    provider: 'agora',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/tokens/agora', { channel: 'fail-closed' }),
    secrets: () => [],
    // Every AccessToken2: "007" and base64 of a zlib stream (which starts 0x78 0x9c, "eJ").
    patterns: [/007eJ[A-Za-z0-9+/]{16}/],
    success: 200,
  },
  {
    name: 'Telnyx (POST /api/tokens/telnyx)',
    provider: 'telnyx',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/tokens/telnyx', {}),
    // Filled in by the test from what Telnyx issued meanwhile.
    secrets: () => [],
    patterns: [],
    success: 200,
  },
  {
    name: 'SignalWire chat (POST /api/chat/tokens)',
    provider: 'signalwire-chat',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/chat/tokens', { ttl: 5, channels: { support: { read: true, write: true } } }),
    // Filled in by the test from what the space issued meanwhile.
    secrets: () => [],
    patterns: [],
    success: 200,
  },
  {
    name: 'call-token mint (POST /api/call-tokens)',
    provider: 'call-token',
    prepare: async () => undefined,
    attempt: () => org.admin.post('/api/call-tokens', { endpointId }),
    secrets: () => [],
    patterns: [CALL_TOKEN],
    success: 201,
  },
  {
    name: 'call-token revoke (DELETE /api/call-tokens/{id})',
    prepare: () => mintCallToken(org.admin, endpointId),
    attempt: (prepared) => org.admin.delete(`/api/call-tokens/${prepared!.id}`),
    secrets: (prepared) => [prepared!.token],
    patterns: [],
    success: 204,
    tokenStatus: { after: 'active', then: 'revoked' },
  },
  {
    name: 'call-token redeem (POST /api/call-tokens/redeem)',
    prepare: () => mintCallToken(org.admin, endpointId),
    attempt: (prepared) => client(app.url).post('/api/call-tokens/redeem', { token: prepared!.token }),
    secrets: (prepared) => [prepared!.token],
    patterns: [],
    success: 200,
    tokenStatus: { after: 'active', then: 'redeemed' },
  },
];

async function tokenState(id: string): Promise<{ status: string; row: { redeemed_at: Date | null; revoked_at: Date | null; session_id: string | null } }> {
  const state = await org.admin.get(`/api/call-tokens/${id}`);
  expectStatus(state, 200);
  const [row] = await app.db.query<{ redeemed_at: Date | null; revoked_at: Date | null; session_id: string | null }>(
    'SELECT redeemed_at, revoked_at, session_id FROM call_tokens WHERE id = $1',
    [id],
  );
  return { status: state.body.status, row };
}

describe.each(PATHS)('$name fails closed', (path) => {
  it.each(REFUSALS)('when $operation on $table is refused: 503, no token anywhere, nothing changed, and it works again', async (refusal) => {
    const prepared = await path.prepare();
    const auditBefore = await mintAuditCount(app, org.orgId);
    const metricsBefore = await mintMetrics(app);
    const issuedUpstreamBefore = sw.issued.length;
    const telnyxIssuedBefore = telnyx.tokens.length;
    const logsBefore = app.logs.length;

    await refuseAuditWrites(app, refusal);
    // Two at once for the mints (one audit batch), one for revoke and redeem (one token).
    const attempts = await Promise.all(Array.from({ length: path.provider ? 2 : 1 }, () => path.attempt(prepared)));
    const logged = app.logs.slice(logsBefore).join('');

    const secrets = [...path.secrets(prepared)];
    if (path.provider === 'signalwire-chat') {
      // The space did issue tokens: they exist upstream and must go no further.
      const issued = sw.issued.slice(issuedUpstreamBefore).map((item) => item.token);
      expect(issued).toHaveLength(attempts.length);
      secrets.push(...issued);
    }
    if (path.provider === 'telnyx') {
      // Telnyx did issue tokens for the user's credential: they must go no further either.
      const issued = telnyx.tokens.slice(telnyxIssuedBefore).map((item) => item.token);
      expect(issued).toHaveLength(attempts.length);
      secrets.push(...issued);
    }
    for (const response of attempts) {
      expectError(response, 503, 'UNAVAILABLE');
      expect(response.body.token).toBeUndefined();
      expect(response.body.sessionId).toBeUndefined();
      for (const secret of secrets) expect(response.text).not.toContain(secret);
      for (const pattern of path.patterns) expect(response.text).not.toMatch(pattern);
    }
    for (const secret of secrets) expect(logged).not.toContain(secret);
    for (const pattern of path.patterns) expect(logged).not.toMatch(pattern);

    expect(await mintAuditCount(app, org.orgId)).toBe(auditBefore);
    expect(await mintMetrics(app)).toEqual(metricsBefore);
    if (path.tokenStatus) {
      // The refused revocation or redemption did not happen: the token is still to be used.
      expect(await tokenState(prepared!.id)).toEqual({ status: path.tokenStatus.after, row: { redeemed_at: null, revoked_at: null, session_id: null } });
    }

    await restoreAuditWrites(app);
    const again = await path.attempt(prepared);
    expectStatus(again, path.success);
    if (path.tokenStatus) expect((await tokenState(prepared!.id)).status).toBe(path.tokenStatus.then);
    // Exactly the one successful call was audited (and counted, for a mint).
    expect(await mintAuditCount(app, org.orgId)).toBe(auditBefore + 1);
    if (path.provider) {
      const key = `${path.provider}/issued`;
      expect(await mintMetrics(app)).toEqual({ ...metricsBefore, [key]: (metricsBefore[key] ?? 0) + 1 });
    }

    // More mints after the outage, and the chain has no hole and verifies.
    expectStatus(await org.admin.get('/api/calls/token/sinch'), 200);
    const seqs = await chainSeqs(app, org.orgId);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    const verified = await org.admin.get('/api/audit/verify');
    expectStatus(verified, 200);
    expect(verified.body).toMatchObject({ ok: true, checked: seqs.length, firstBrokenId: null });
  });
});

describe('a redemption whose audit failed', () => {
  it('leaves the token redeemable exactly once, also when many try at once after the audit is back', async () => {
    const minted = await mintCallToken(org.admin, endpointId);
    await refuseAuditWrites(app);
    const refused = await Promise.all(Array.from({ length: 5 }, () => client(app.url).post('/api/call-tokens/redeem', { token: minted.token })));
    for (const response of refused) expectError(response, 503, 'UNAVAILABLE');
    await restoreAuditWrites(app);
    const results = await Promise.all(Array.from({ length: 10 }, () => client(app.url).post('/api/call-tokens/redeem', { token: minted.token })));
    expect(results.filter((response) => response.status === 200)).toHaveLength(1);
    for (const response of results.filter((item) => item.status !== 200)) expectError(response, 401, 'TOKEN_REDEEMED');
    expect((await tokenState(minted.id)).status).toBe('redeemed');
  });

  it('relies on no undo: the redemption rolls back with its audit even where un-redeeming a row is refused', async () => {
    // A redemption committed before its audit would have to be undone by a second statement, which can
    // fail in turn (a lost connection, a database going down). Refusing exactly that statement shows
    // the redemption never committed in the first place.
    await app.db.query(`CREATE FUNCTION call_token_refuse_unredeem() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'un-redeeming refused (test)'; END $$`);
    await app.db.query(`CREATE TRIGGER call_token_refuse_unredeem BEFORE UPDATE ON call_tokens FOR EACH ROW
      WHEN (OLD.redeemed_at IS NOT NULL AND NEW.redeemed_at IS NULL) EXECUTE FUNCTION call_token_refuse_unredeem()`);
    try {
      const minted = await mintCallToken(org.admin, endpointId);
      await refuseAuditWrites(app);
      expectError(await client(app.url).post('/api/call-tokens/redeem', { token: minted.token }), 503, 'UNAVAILABLE');
      await restoreAuditWrites(app);
      expect(await tokenState(minted.id)).toEqual({ status: 'active', row: { redeemed_at: null, revoked_at: null, session_id: null } });
      expectStatus(await client(app.url).post('/api/call-tokens/redeem', { token: minted.token }), 200);
    } finally {
      await app.db.query('DROP TRIGGER IF EXISTS call_token_refuse_unredeem ON call_tokens');
      await app.db.query('DROP FUNCTION IF EXISTS call_token_refuse_unredeem()');
    }
  });
});
