import { ManualClock } from '@mintline/common/clock';
import { apiError, withFakeProvider } from '../../../../test/fakes/fake-provider-spec';
import { providerTestConfig } from '../../../../test/fakes/provider-test-config';
import { SignalWireFake, startSignalWireFake } from '../../../../test/fakes/signalwire.fake';
import { ProviderHttpClient } from '../http/provider-http.client';
import { ChatTokenRequest, parseChatTokenRequest } from './chat-token-request';
import { SignalWireChatProvider, SignalWireCredentials } from './signalwire-chat.provider';

describe('SignalWireChatProvider (against a fake SignalWire space)', () => {
  let fake: SignalWireFake;
  let http: ProviderHttpClient;
  let clock: ManualClock;
  let provider: SignalWireChatProvider;
  let credentials: SignalWireCredentials;
  const request: ChatTokenRequest = parseChatTokenRequest({
    ttl: 30,
    channels: { lobby: { read: true, write: true } },
    member_id: 'agent-1',
    state: { desk: 4 },
  });

  withFakeProvider(
    () => startSignalWireFake(),
    (started, client) => {
      fake = started;
      http = client;
    },
  );

  beforeEach(() => {
    clock = new ManualClock();
    provider = new SignalWireChatProvider(clock, http, { timeoutMs: 300, breaker: { failureThreshold: 3, openMs: 20_000 } });
    credentials = { spaceUrl: fake.spaceUrl, projectId: fake.projectId, apiToken: fake.apiToken };
  });

  it('mints a token through the space with Basic auth and the validated body', async () => {
    const result = await provider.mint(credentials, request);
    expect(provider.name).toBe('signalwire-chat');
    expect(result.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(result.token).toBe(fake.issued[0].token);
    expect(result.expiresAt).toEqual(new Date(clock.nowMs() + 30 * 60_000));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/api/chat/tokens',
      auth: 'basic',
      authorized: true,
      contentType: 'application/json',
      body: { ttl: 30, channels: { lobby: { read: true, write: true } }, member_id: 'agent-1', state: { desk: 4 } },
    });
  });

  it('uses only the origin of the space URL', async () => {
    await provider.mint({ ...credentials, spaceUrl: `${fake.spaceUrl}/some/path/` }, request);
    expect(fake.requests[0].path).toBe('/api/chat/tokens');
  });

  it('sends the generated member_id when none was given', async () => {
    const parsed = parseChatTokenRequest({ ttl: 1, channels: { a: { read: true, write: false } } });
    await provider.mint(credentials, parsed);
    expect(fake.issued[0].memberId).toBe(parsed.member_id);
  });

  it('maps wrong credentials (401) to PROVIDER_AUTH_FAILED', async () => {
    const error = await apiError(provider.mint({ ...credentials, apiToken: 'wrong' }, request));
    expect(error).toMatchObject({ status: 502, code: 'PROVIDER_AUTH_FAILED' });
    expect(error.message).not.toContain(fake.apiToken);
    fake.failNext('forbidden');
    expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_AUTH_FAILED');
  });

  it('maps 500 to PROVIDER_UNAVAILABLE', async () => {
    fake.failNext('server-error');
    expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('maps a reset connection to PROVIDER_UNAVAILABLE', async () => {
    fake.failNext('reset');
    expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('maps a refused connection to PROVIDER_UNAVAILABLE', async () => {
    const closed = await startSignalWireFake();
    await closed.close();
    const error = await apiError(provider.mint({ ...credentials, spaceUrl: closed.spaceUrl }, request));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
  });

  it('answers PROVIDER_UNAVAILABLE within the timeout when the space hangs', async () => {
    fake.failNext('hang');
    const started = Date.now();
    const error = await apiError(provider.mint(credentials, request));
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('defaults to the contract timeout of 5 s', async () => {
    // Fake timers cannot drive real sockets, so this only checks the configured default reaches the client.
    const spy = jest.spyOn(http, 'request');
    await new SignalWireChatProvider(clock, http).mint(credentials, request);
    expect(spy.mock.calls[0][0].timeoutMs).toBe(5000);
    spy.mockRestore();
  });

  it('does not follow a redirect (PROVIDER_ERROR)', async () => {
    fake.failNext('redirect');
    expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_ERROR');
    expect(fake.count()).toBe(1);
  });

  it('refuses an oversized answer (PROVIDER_ERROR)', async () => {
    fake.failNext('oversize');
    expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_ERROR');
  });

  it('maps an upstream 422 to PROVIDER_ERROR with its status only, never the body the space sent', async () => {
    // Bypasses local validation on purpose, to see the space's own answer.
    const bad = { ...request, channels: { sw_reserved: { read: true, write: true } } };
    const error = await apiError(provider.mint(credentials, bad));
    expect(error.code).toBe('PROVIDER_ERROR');
    expect(error.message).toMatch(/HTTP 422/);
    // The space did answer with its reasons; whatever the host at a stored URL says is not passed on.
    expect(fake.requests).toHaveLength(1);
    expect(error.message).not.toContain('channel_name_is_reserved');
  });

  it('maps a 2xx without a token to PROVIDER_ERROR', async () => {
    fake.failNext('invalid-json');
    expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_ERROR');
  });

  it('refuses an http space URL when insecure URLs are not allowed, without calling it', async () => {
    const strictHttp = new ProviderHttpClient(providerTestConfig({ allowInsecureProviderUrls: false }));
    try {
      const strict = new SignalWireChatProvider(clock, strictHttp);
      const error = await apiError(strict.mint(credentials, request));
      expect(error.code).toBe('PROVIDER_ERROR');
      expect(error.message).toMatch(/https/);
      expect(fake.count()).toBe(0);
      expect(await strict.verify(credentials)).toEqual({ ok: false, detail: expect.stringMatching(/https/) });
    } finally {
      await strictHttp.close();
    }
  });

  describe('circuit breaker (per space)', () => {
    it('opens after consecutive failures, fails fast, then lets one probe through', async () => {
      fake.setMode('server-error');
      for (let i = 0; i < 3; i += 1) expect((await apiError(provider.mint(credentials, request))).code).toBe('PROVIDER_UNAVAILABLE');
      expect(fake.count()).toBe(3);

      const fast = await apiError(provider.mint(credentials, request));
      expect(fast.code).toBe('PROVIDER_UNAVAILABLE');
      expect(fast.headers).toEqual({ 'retry-after': '20' });
      expect(fake.count()).toBe(3);

      // Another space is not affected.
      const other = await startSignalWireFake({ projectId: fake.projectId, apiToken: fake.apiToken });
      try {
        await provider.mint({ ...credentials, spaceUrl: other.spaceUrl }, request);
      } finally {
        await other.close();
      }

      fake.setMode(null);
      clock.advance(20_000);
      await expect(provider.mint(credentials, request)).resolves.toMatchObject({ token: expect.any(String) });
      expect(fake.count()).toBe(4);
      await provider.mint(credentials, request);
      expect(fake.count()).toBe(5);
    });

    it('re-opens when the probe fails', async () => {
      fake.setMode('reset');
      for (let i = 0; i < 3; i += 1) await apiError(provider.mint(credentials, request));
      clock.advance(20_000);
      await apiError(provider.mint(credentials, request));
      expect(fake.count()).toBe(4);
      await apiError(provider.mint(credentials, request));
      expect(fake.count()).toBe(4);
      fake.setMode(null);
    });

    it('does not count auth failures', async () => {
      for (let i = 0; i < 5; i += 1) {
        expect((await apiError(provider.mint({ ...credentials, apiToken: 'wrong' }, request))).code).toBe('PROVIDER_AUTH_FAILED');
      }
      expect(fake.count()).toBe(5);
    });
  });

  describe('verify', () => {
    it('is ok for working credentials and mints nothing', async () => {
      const result = await provider.verify(credentials);
      expect(result).toEqual({ ok: true, detail: expect.any(String) });
      expect(fake.issued).toHaveLength(0);
      expect(fake.requests[0]).toMatchObject({ method: 'POST', path: '/api/chat/tokens', authorized: true, body: {} });
    });

    it('is not ok for rejected credentials', async () => {
      const result = await provider.verify({ ...credentials, apiToken: 'wrong' });
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(/rejected/);
      expect(result.detail).not.toContain('wrong');
    });

    it('is not ok, with a reason, for an unreachable or failing space', async () => {
      fake.failNext('hang');
      expect(await provider.verify(credentials)).toEqual({ ok: false, detail: expect.stringMatching(/did not answer/) });
      fake.failNext('server-error');
      expect(await provider.verify(credentials)).toEqual({ ok: false, detail: expect.stringMatching(/HTTP 500/) });
      expect(await provider.verify({ ...credentials, spaceUrl: 'not a url' })).toEqual({ ok: false, detail: expect.any(String) });
    });

    it('is not ok when the URL is not a SignalWire space', async () => {
      const notASpace = await startSignalWireFake();
      try {
        const result = await provider.verify({ ...credentials, spaceUrl: `${notASpace.spaceUrl}` });
        expect(result.ok).toBe(false);
      } finally {
        await notASpace.close();
      }
    });
  });
});
