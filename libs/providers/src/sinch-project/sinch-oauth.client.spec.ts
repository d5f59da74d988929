import { ManualClock } from '@mintline/common/clock';
import { apiError, withFakeProvider } from '../../../../test/fakes/fake-provider-spec';
import { providerTestConfig } from '../../../../test/fakes/provider-test-config';
import { SinchFake, startSinchFake } from '../../../../test/fakes/sinch.fake';
import { ProviderHttpClient } from '../http/provider-http.client';
import type { SinchAccessToken } from './sinch-access-token';
import { SinchOAuthClient } from './sinch-oauth.client';
import { SinchProjectCredentials } from './sinch-project-credentials';

describe('SinchOAuthClient (against a fake Sinch auth server)', () => {
  let fake: SinchFake;
  let http: ProviderHttpClient;
  let clock: ManualClock;
  let client: SinchOAuthClient;
  let fetched: Array<{ orgId: string; token: SinchAccessToken }>;
  let auditDown: boolean;
  let credentials: SinchProjectCredentials;

  withFakeProvider(
    () => startSinchFake(),
    (started, client) => {
      fake = started;
      http = client;
    },
  );

  beforeEach(() => {
    fake.setExpiresIn(3600);
    clock = new ManualClock();
    fetched = [];
    auditDown = false;
    const audit = {
      tokenFetched: async (orgId: string, token: SinchAccessToken) => {
        if (auditDown) throw new Error('audit down');
        fetched.push({ orgId, token });
      },
    };
    client = new SinchOAuthClient(providerTestConfig({ sinchAuthUrl: fake.authUrl }), clock, http, audit, {
      timeoutMs: 300,
      breaker: { failureThreshold: 3, openMs: 10_000 },
    });
    credentials = { projectId: fake.projectId, keyId: fake.keyId, keySecret: fake.keySecret };
  });

  const tokenCalls = (): number => fake.count('/oauth2/token');

  it('fetches a token with Basic auth and a client_credentials form, and reports it', async () => {
    const token = await client.getAccessToken('org-1', credentials);
    expect(token.token).toEqual(expect.any(String));
    expect(token.expiresAt).toEqual(new Date(clock.nowMs() + 3600_000));
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/oauth2/token',
      auth: 'basic',
      authorized: true,
      contentType: 'application/x-www-form-urlencoded',
      body: { grant_type: 'client_credentials' },
    });
    expect(fetched).toEqual([{ orgId: 'org-1', token }]);
  });

  it('fetches once for many uses', async () => {
    const first = await client.getAccessToken('org-1', credentials);
    for (let i = 0; i < 5; i += 1) expect(await client.getAccessToken('org-1', credentials)).toBe(first);
    expect(tokenCalls()).toBe(1);
    expect(fetched).toHaveLength(1);
  });

  it('shares one in-flight fetch between concurrent callers', async () => {
    const tokens = await Promise.all(Array.from({ length: 10 }, () => client.getAccessToken('org-1', credentials)));
    expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
    expect(tokenCalls()).toBe(1);
    expect(fetched).toHaveLength(1);
  });

  it('caches per org', async () => {
    const a = await client.getAccessToken('org-a', credentials);
    const b = await client.getAccessToken('org-b', credentials);
    expect(a.token).not.toBe(b.token);
    expect(tokenCalls()).toBe(2);
    expect(fetched.map((f) => f.orgId)).toEqual(['org-a', 'org-b']);
  });

  it('refetches after invalidate', async () => {
    const first = await client.getAccessToken('org-1', credentials);
    client.invalidate('org-1');
    const second = await client.getAccessToken('org-1', credentials);
    expect(second.token).not.toBe(first.token);
    expect(tokenCalls()).toBe(2);
  });

  it('does not keep a token whose fetch was invalidated midway', async () => {
    const pending = client.getAccessToken('org-1', credentials);
    client.invalidate('org-1');
    await pending;
    await client.getAccessToken('org-1', credentials);
    expect(tokenCalls()).toBe(2);
  });

  it('invalidate with a rejected token spares a newer one', async () => {
    const first = await client.getAccessToken('org-1', credentials);
    client.invalidate('org-1', 'some-older-token');
    expect(await client.getAccessToken('org-1', credentials)).toBe(first);
    client.invalidate('org-1', first.token);
    expect((await client.getAccessToken('org-1', credentials)).token).not.toBe(first.token);
  });

  it('never reuses a token after the key ID or secret changes', async () => {
    await client.getAccessToken('org-1', credentials);
    const changedSecret = { ...credentials, keySecret: 'rotated' };
    expect((await apiError(client.getAccessToken('org-1', changedSecret))).code).toBe('PROVIDER_AUTH_FAILED');
    const changedKey = { ...credentials, keyId: 'other-key' };
    expect((await apiError(client.getAccessToken('org-1', changedKey))).code).toBe('PROVIDER_AUTH_FAILED');
    expect(tokenCalls()).toBe(3);
  });

  it('refetches shortly before expiry', async () => {
    const first = await client.getAccessToken('org-1', credentials);
    clock.advance(3600_000 - 60_000 - 1);
    expect(await client.getAccessToken('org-1', credentials)).toBe(first);
    clock.advance(1);
    const second = await client.getAccessToken('org-1', credentials);
    expect(second.token).not.toBe(first.token);
    expect(tokenCalls()).toBe(2);
  });

  it('never serves a short-lived token past half its lifetime', async () => {
    fake.setExpiresIn(20);
    const first = await client.getAccessToken('org-1', credentials);
    clock.advance(9_999);
    expect(await client.getAccessToken('org-1', credentials)).toBe(first);
    clock.advance(1);
    expect((await client.getAccessToken('org-1', credentials)).token).not.toBe(first.token);
  });

  it('maps 401 to PROVIDER_AUTH_FAILED without echoing the secret, and reports nothing', async () => {
    const error = await apiError(client.getAccessToken('org-1', { ...credentials, keySecret: 'wrong-secret' }));
    expect(error).toMatchObject({ status: 502, code: 'PROVIDER_AUTH_FAILED' });
    expect(error.message).toContain('invalid_client');
    expect(error.message).not.toContain('wrong-secret');
    expect(fetched).toHaveLength(0);
  });

  it('maps 500, reset and a hang to PROVIDER_UNAVAILABLE', async () => {
    fake.failNext('server-error');
    expect((await apiError(client.getAccessToken('org-1', credentials))).code).toBe('PROVIDER_UNAVAILABLE');
    fake.failNext('reset');
    expect((await apiError(client.getAccessToken('org-1', credentials))).code).toBe('PROVIDER_UNAVAILABLE');
    fake.failNext('hang');
    const started = Date.now();
    expect((await apiError(client.getAccessToken('org-1', credentials))).code).toBe('PROVIDER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not cache failures', async () => {
    fake.failNext('server-error');
    await apiError(client.getAccessToken('org-1', credentials));
    await client.getAccessToken('org-1', credentials);
    expect(tokenCalls()).toBe(2);
  });

  it('maps an answer without an access token to PROVIDER_ERROR', async () => {
    fake.failNext('invalid-json');
    expect((await apiError(client.getAccessToken('org-1', credentials))).code).toBe('PROVIDER_ERROR');
  });

  it('discards the token when its audit fails', async () => {
    auditDown = true;
    await expect(client.getAccessToken('org-1', credentials)).rejects.toThrow('audit down');
    auditDown = false;
    await client.getAccessToken('org-1', credentials);
    expect(tokenCalls()).toBe(2);
  });

  it('opens its breaker after repeated outages', async () => {
    fake.setMode('server-error');
    for (let i = 0; i < 3; i += 1) await apiError(client.getAccessToken('org-1', credentials));
    expect((await apiError(client.getAccessToken('org-2', credentials))).code).toBe('PROVIDER_UNAVAILABLE');
    expect(tokenCalls()).toBe(3);
    fake.setMode(null);
    clock.advance(10_000);
    await client.getAccessToken('org-1', credentials);
    expect(tokenCalls()).toBe(4);
  });
});
