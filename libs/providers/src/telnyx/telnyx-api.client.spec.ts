import { ManualClock } from '@mintline/common/clock';
import { apiError, withFakeProvider } from '../../../../test/fakes/fake-provider-spec';
import { providerTestConfig } from '../../../../test/fakes/provider-test-config';
import { startTelnyxFake, TelnyxFake } from '../../../../test/fakes/telnyx.fake';
import { ProviderHttpClient } from '../http/provider-http.client';
import { TelnyxApiClient, TelnyxCredentials } from './telnyx-api.client';

describe('TelnyxApiClient (against a fake Telnyx API)', () => {
  let fake: TelnyxFake;
  let http: ProviderHttpClient;
  let api: TelnyxApiClient;
  let credentials: TelnyxCredentials;

  withFakeProvider(
    () => startTelnyxFake(),
    (started, client) => {
      fake = started;
      http = client;
    },
  );

  beforeEach(() => {
    api = new TelnyxApiClient(new ManualClock(), http, { timeoutMs: 300, breaker: { failureThreshold: 3, openMs: 20_000 } });
    credentials = { apiKey: fake.apiKey, connectionId: fake.connectionId, baseUrl: fake.url };
  });

  it('creates a telephony credential on the connection, tagged mintline, with the Bearer key', async () => {
    const made = await api.createCredential(credentials, 'mintline-user-1');
    expect(made).toEqual({ id: fake.created[0].id, sipUsername: fake.created[0].sipUsername });
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v2/telephony_credentials',
      auth: 'bearer',
      authorized: true,
      contentType: 'application/json',
      body: { connection_id: fake.connectionId, name: 'mintline-user-1', tag: 'mintline' },
    });
  });

  it('mints the JWT Telnyx answers as text/plain for a credential', async () => {
    const made = await api.createCredential(credentials, 'u');
    const answer = await api.createToken(credentials, made.id);
    expect(answer).toEqual({ token: fake.tokens[0].token });
    expect(fake.issuedFor((answer as { token: string }).token)).toBe(made.id);
    expect(fake.requests[1]).toMatchObject({ method: 'POST', path: `/v2/telephony_credentials/${made.id}/token`, authorized: true });
  });

  it('says a credential Telnyx does not know is gone (404)', async () => {
    const made = await api.createCredential(credentials, 'u');
    fake.forget(made.id);
    await expect(api.createToken(credentials, made.id)).resolves.toEqual({ gone: true });
  });

  it('uses a base URL with trailing slashes as the same API', async () => {
    await api.createCredential({ ...credentials, baseUrl: `${fake.url}//` }, 'u');
    expect(fake.requests[0].path).toBe('/v2/telephony_credentials');
  });

  it('maps a wrong key (401) and a forbidden one (403) to PROVIDER_AUTH_FAILED', async () => {
    expect(await apiError(api.createCredential({ ...credentials, apiKey: 'KEYwrong' }, 'u'))).toMatchObject({ status: 502, code: 'PROVIDER_AUTH_FAILED' });
    fake.failNext('forbidden');
    expect(await apiError(api.createToken(credentials, 'x'))).toMatchObject({ status: 502, code: 'PROVIDER_AUTH_FAILED' });
  });

  it('maps 5xx, a reset and a timeout to PROVIDER_UNAVAILABLE, never with Telnyx body', async () => {
    fake.failNext('server-error');
    const error = await apiError(api.createCredential(credentials, 'u'));
    expect(error).toMatchObject({ status: 502, code: 'PROVIDER_UNAVAILABLE' });
    expect(error.message).not.toMatch(/Unexpected error|10007/);
    fake.failNext('reset');
    expect(await apiError(api.createToken(credentials, 'x'))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    fake.failNext('hang');
    const started = Date.now();
    expect(await apiError(api.createToken(credentials, 'x'))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('maps an unknown connection (422) to PROVIDER_ERROR with the status only', async () => {
    const error = await apiError(api.createCredential({ ...credentials, connectionId: '42' }, 'u'));
    expect(error).toMatchObject({ status: 502, code: 'PROVIDER_ERROR' });
    expect(error.message).toContain('422');
    expect(error.message).not.toMatch(/Missing association|10013/);
  });

  it('refuses an answer that is not a token, or a credential without id', async () => {
    fake.failNext('invalid-json', { path: '/v2/telephony_credentials' });
    expect(await apiError(api.createCredential(credentials, 'u'))).toMatchObject({ code: 'PROVIDER_ERROR' });
    fake.failNext('oversize', { path: '/v2/telephony_credentials' });
    expect(await apiError(api.createToken(credentials, 'x'))).toMatchObject({ code: 'PROVIDER_ERROR' });
  });

  it('refuses a base URL pointing inward when insecure URLs are not allowed, without connecting', async () => {
    const guarded = new ProviderHttpClient(providerTestConfig({ allowInsecureProviderUrls: false }));
    try {
      const strict = new TelnyxApiClient(new ManualClock(), guarded);
      const error = await apiError(strict.createCredential({ ...credentials, baseUrl: 'https://127.0.0.1:9' }, 'u'));
      expect(error).toMatchObject({ status: 502, code: 'PROVIDER_ERROR' });
      expect(fake.requests).toHaveLength(0);
    } finally {
      await guarded.close();
    }
  });

  it('opens its breaker after consecutive outages of one origin', async () => {
    fake.setMode('server-error');
    for (let i = 0; i < 3; i += 1) await apiError(api.createToken(credentials, 'x'));
    const before = fake.requests.length;
    expect(await apiError(api.createToken(credentials, 'x'))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(fake.requests.length).toBe(before);
    fake.setMode(null);
  });

  describe('verify (GET /v2/balance)', () => {
    it('is ok for a working key and makes nothing', async () => {
      await expect(api.verify(credentials)).resolves.toEqual({ ok: true, detail: 'Telnyx accepted the API key' });
      expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v2/balance']);
      expect(fake.created).toHaveLength(0);
    });

    it('is not ok for a rejected key, an outage or a URL with no Telnyx API', async () => {
      expect(await api.verify({ ...credentials, apiKey: 'KEYnope' })).toEqual({ ok: false, detail: 'Telnyx rejected the API key (HTTP 401)' });
      fake.failNext('server-error');
      expect((await api.verify(credentials)).ok).toBe(false);
      expect(await api.verify({ ...credentials, baseUrl: `${fake.url}/elsewhere` })).toMatchObject({ ok: false, detail: expect.stringContaining('404') });
    });
  });
});
