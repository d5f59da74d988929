import { ManualClock } from '@mintline/common/clock';
import { apiError, withFakeProvider } from '../../../../test/fakes/fake-provider-spec';
import { providerTestConfig } from '../../../../test/fakes/provider-test-config';
import { SinchFake, startSinchFake } from '../../../../test/fakes/sinch.fake';
import { ProviderHttpClient } from '../http/provider-http.client';
import { SinchOAuthClient } from './sinch-oauth.client';
import { SinchProjectCredentials } from './sinch-project-credentials';
import { SinchTrunkClient } from './sinch-trunk.client';

const TRUNK = '01GNZ9MXEZ4K6S8GB7RW063VAN';
const OTHER_TRUNK = '5RTRZ3NDEKTSV4RRFFQ69G5EWS';

describe('SinchTrunkClient (against a fake Elastic SIP Trunking API)', () => {
  let fake: SinchFake;
  let http: ProviderHttpClient;
  let clock: ManualClock;
  let oauth: SinchOAuthClient;
  let trunks: SinchTrunkClient;
  let credentials: SinchProjectCredentials;

  withFakeProvider(
    () =>
      startSinchFake({
        trunks: [
          { id: TRUNK, name: 'Main', hostName: 'acme-main' },
          { id: OTHER_TRUNK, name: 'Backup', hostName: 'acme-backup' },
        ],
        numbers: [
          { phoneNumber: '+15552220001', sipTrunkId: TRUNK },
          { phoneNumber: '+15552220002', sipTrunkId: OTHER_TRUNK },
          { phoneNumber: '+15552220003' },
          ...Array.from({ length: 7 }, (_, i) => ({ phoneNumber: `+1555333000${i}`, sipTrunkId: TRUNK })),
        ],
      }),
    (started, client) => {
      fake = started;
      http = client;
    },
  );

  beforeEach(() => {
    clock = new ManualClock();
    const config = providerTestConfig({ sinchAuthUrl: fake.authUrl, sinchEstUrl: fake.estUrl });
    oauth = new SinchOAuthClient(config, clock, http, { tokenFetched: async () => undefined }, { timeoutMs: 300 });
    trunks = new SinchTrunkClient(config, clock, http, oauth, { timeoutMs: 300, pageSize: 3, breaker: { failureThreshold: 3, openMs: 10_000 } });
    credentials = { projectId: fake.projectId, keyId: fake.keyId, keySecret: fake.keySecret, trunkId: TRUNK };
  });

  describe('isNumberOnTrunk', () => {
    it('is true for a number assigned to the trunk, read with a bearer', async () => {
      expect(await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001')).toBe(true);
      const read = fake.requests.find((r) => r.path.includes('/phoneNumbers/'));
      expect(read).toMatchObject({
        method: 'GET',
        path: `/v1/projects/${fake.projectId}/phoneNumbers/+15552220001`,
        auth: 'bearer',
        authorized: true,
      });
    });

    it('is false for a number on another trunk, on no trunk, or unknown (404)', async () => {
      expect(await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220002')).toBe(false);
      expect(await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220003')).toBe(false);
      expect(await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15559999999')).toBe(false);
    });

    it('uses one OAuth token for many checks', async () => {
      for (let i = 0; i < 3; i += 1) await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001');
      expect(fake.count('/oauth2/token')).toBe(1);
      expect(fake.count('/v1/')).toBe(3);
    });

    it('drops the cached token on a 401 and retries once with a fresh one', async () => {
      await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001');
      fake.revokeTokens();
      expect(await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001')).toBe(true);
      expect(fake.count('/oauth2/token')).toBe(2);
      expect(fake.count('/v1/')).toBe(3);
    });

    it('gives up after one retry: a second 401 is PROVIDER_AUTH_FAILED', async () => {
      fake.failNext('unauthorized', { path: '/v1/', times: 2 });
      const error = await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'));
      expect(error.code).toBe('PROVIDER_AUTH_FAILED');
      expect(fake.count('/v1/')).toBe(2);
      expect(fake.count('/oauth2/token')).toBe(2);
    });

    it('maps a project the key may not read (403) to PROVIDER_AUTH_FAILED', async () => {
      const error = await apiError(trunks.isNumberOnTrunk('org-1', { ...credentials, projectId: 'someone-else' }, TRUNK, '+15552220001'));
      expect(error.code).toBe('PROVIDER_AUTH_FAILED');
    });

    it('maps a rejected key to PROVIDER_AUTH_FAILED without calling EST', async () => {
      const error = await apiError(trunks.isNumberOnTrunk('org-1', { ...credentials, keySecret: 'wrong' }, TRUNK, '+15552220001'));
      expect(error.code).toBe('PROVIDER_AUTH_FAILED');
      expect(fake.count('/v1/')).toBe(0);
    });

    it('maps EST outages to PROVIDER_UNAVAILABLE', async () => {
      fake.failNext('server-error', { path: '/v1/' });
      expect((await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'))).code).toBe('PROVIDER_UNAVAILABLE');
      fake.failNext('reset', { path: '/v1/' });
      expect((await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'))).code).toBe('PROVIDER_UNAVAILABLE');
      fake.failNext('hang', { path: '/v1/' });
      const started = Date.now();
      expect((await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'))).code).toBe('PROVIDER_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('maps a redirect to PROVIDER_ERROR without following it', async () => {
      fake.failNext('redirect', { path: '/v1/' });
      expect((await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'))).code).toBe('PROVIDER_ERROR');
      expect(fake.count('/redirected')).toBe(0);
    });

    it('refuses a number that is not E.164 before calling Sinch', async () => {
      const error = await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '../trunks/x'));
      expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(fake.count()).toBe(0);
    });

    it('fails fast once EST keeps failing', async () => {
      fake.setMode('server-error', { path: '/v1/' });
      for (let i = 0; i < 3; i += 1) await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'));
      await apiError(trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001'));
      expect(fake.count('/v1/')).toBe(3);
      fake.setMode(null, { path: '/v1/' });
      clock.advance(10_000);
      expect(await trunks.isNumberOnTrunk('org-1', credentials, TRUNK, '+15552220001')).toBe(true);
    });
  });

  describe('listTrunkNumbers', () => {
    it('follows page/size paging and filters by sipTrunkId', async () => {
      const numbers = await trunks.listTrunkNumbers('org-1', credentials, TRUNK);
      expect(numbers.map((n) => n.phoneNumber).sort()).toEqual(['+15552220001', ...Array.from({ length: 7 }, (_, i) => `+1555333000${i}`)].sort());
      const pages = fake.requests.filter((r) => r.path.endsWith('/phoneNumbers'));
      expect(pages.map((r) => r.query)).toEqual([
        { sipTrunkId: TRUNK, page: '1', size: '3' },
        { sipTrunkId: TRUNK, page: '2', size: '3' },
        { sipTrunkId: TRUNK, page: '3', size: '3' },
      ]);
    });
  });

  describe('verify', () => {
    it('is ok when a token is issued and the trunk exists', async () => {
      const result = await trunks.verify('org-1', credentials);
      expect(result).toEqual({ ok: true, detail: expect.stringContaining(TRUNK) });
      expect(fake.requests.map((r) => r.path)).toEqual(['/oauth2/token', `/v1/projects/${fake.projectId}/trunks/${TRUNK}`]);
    });

    it('is ok with only a token when no trunk is configured', async () => {
      const { trunkId: _unused, ...withoutTrunk } = credentials;
      expect(await trunks.verify('org-1', withoutTrunk)).toEqual({ ok: true, detail: expect.any(String) });
      expect(fake.count('/v1/')).toBe(0);
    });

    it('is not ok for a rejected key, an unknown trunk, or a foreign project', async () => {
      const rejected = await trunks.verify('org-1', { ...credentials, keySecret: 'wrong' });
      expect(rejected).toEqual({ ok: false, detail: 'Sinch rejected the access key ID or secret' });
      expect(await trunks.verify('org-1', { ...credentials, trunkId: 'nope' })).toEqual({ ok: false, detail: expect.stringMatching(/not found/) });
      expect(await trunks.verify('org-1', { ...credentials, projectId: 'other' })).toEqual({ ok: false, detail: expect.stringMatching(/HTTP 403/) });
    });

    it('is not ok, with a reason, when Sinch cannot be reached', async () => {
      fake.failNext('hang', { path: '/oauth2/token' });
      expect(await trunks.verify('org-1', credentials)).toEqual({ ok: false, detail: expect.stringMatching(/did not answer/) });
      fake.failNext('server-error', { path: '/v1/' });
      expect(await trunks.verify('org-1', credentials)).toEqual({ ok: false, detail: expect.stringMatching(/HTTP 500/) });
    });
  });
});
