import { randomUUID } from 'node:crypto';
import { ManualClock } from '../libs/common/src/clock';
import { expectError, expectStatus, expectValidation } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { allMintEntries, createApiKey, putSinchVoice, randomSinchSecret } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

const STATS = '/api/audit/mints/stats';

let app: TestApp;
let clock: ManualClock;
let a: OrgFixture;
let b: OrgFixture;
let agentA: Awaited<ReturnType<typeof createUser>>;
let readerA: Client;
let readerB: Client;

/**
 * Mints at known instants (a manual clock), then counts them per bucket over HTTP: org A mints on
 * 2026-03-10 at 09:15 (2 sinch issued, 1 twilio denied: not configured), at 10:40 (1 sinch issued,
 * 1 SignalWire chat failed: its space does not answer) and on 2026-03-11 at 08:05 (1 sinch issued);
 * org B mints once at 09:15.
 */
beforeAll(async () => {
  clock = new ManualClock(Date.parse('2026-03-10T09:15:00.000Z'));
  app = await startTestApp({ clock, config: { allowInsecureProviderUrls: true } });
  a = await createOrgWithAdmin(app, 'Stats A');
  b = await createOrgWithAdmin(app, 'Stats B');
  agentA = await createUser(app, a, 'agent');
  const agentB = await createUser(app, b, 'agent');
  await putSinchVoice(a.admin, randomUUID(), randomSinchSecret());
  await putSinchVoice(b.admin, randomUUID(), randomSinchSecret());
  // A space on a closed local port: the mint fails upstream (502 PROVIDER_UNAVAILABLE), audited as failed.
  expectStatus(await a.admin.put('/api/credentials/signalwire', { spaceUrl: 'http://127.0.0.1:1', projectId: 'p-1', apiToken: 'PTsecret-token-1234' }), 200);
  const minterA = client(app.url, (await createApiKey(a.admin, ['CREATE_CALL_TOKEN', 'CREATE_CHAT_TOKEN'])).token);
  const minterB = client(app.url, (await createApiKey(b.admin, ['CREATE_CALL_TOKEN'])).token);
  readerA = client(app.url, (await createApiKey(a.admin, ['READ_AUDIT'])).token);
  readerB = client(app.url, (await createApiKey(b.admin, ['READ_AUDIT'])).token);

  const sinch = (minter: Client, userId: string) => minter.get(`/api/calls/token/sinch?userId=${userId}`);
  expectStatus(await sinch(minterA, agentA.id), 200);
  expectStatus(await sinch(minterA, agentA.id), 200);
  expectError(await minterA.get(`/api/calls/token/twilio?userId=${agentA.id}`), 400, 'TWILIO_NOT_CONFIGURED');
  expectStatus(await sinch(minterB, agentB.id), 200);
  clock.set(Date.parse('2026-03-10T10:40:00.000Z'));
  expectStatus(await sinch(minterA, agentA.id), 200);
  expectError(await minterA.post('/api/chat/tokens', { ttl: 5, channels: { lobby: { read: true, write: false } }, userId: agentA.id }), 502, 'PROVIDER_UNAVAILABLE');
  clock.set(Date.parse('2026-03-11T08:05:00.000Z'));
  expectStatus(await sinch(minterA, agentA.id), 200);
  clock.set(Date.parse('2026-03-11T08:30:00.000Z'));
});

afterAll(async () => {
  await app?.close();
});

const point = (at: string, provider: string, issued: number, denied: number, failed: number) => ({ at, provider, issued, denied, failed });

describe('GET /api/audit/mints/stats', () => {
  it('counts mints per hour and provider by outcome, leaving out hours without mints', async () => {
    const response = await readerA.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-12T00:00:00.000Z&bucket=hour`);
    expectStatus(response, 200);
    expect(response.body).toEqual({
      bucket: 'hour',
      from: '2026-03-10T00:00:00.000Z',
      to: '2026-03-12T00:00:00.000Z',
      series: [
        point('2026-03-10T09:00:00.000Z', 'sinch', 2, 0, 0),
        point('2026-03-10T09:00:00.000Z', 'twilio', 0, 1, 0),
        point('2026-03-10T10:00:00.000Z', 'signalwire-chat', 0, 0, 1),
        point('2026-03-10T10:00:00.000Z', 'sinch', 1, 0, 0),
        point('2026-03-11T08:00:00.000Z', 'sinch', 1, 0, 0),
      ],
    });
  });

  it('agrees with the mint log it counts', async () => {
    const entries = await allMintEntries(readerA);
    const stats = (await readerA.get(`${STATS}?from=2026-03-01T00:00:00.000Z&to=2026-04-01T00:00:00.000Z&bucket=day`)).body.series as any[];
    for (const outcome of ['issued', 'denied', 'failed'] as const) {
      expect(stats.reduce((sum, item) => sum + item[outcome], 0)).toBe(entries.filter((entry) => entry.outcome === outcome).length);
    }
  });

  it('counts per UTC day, and per minute within a short range', async () => {
    const days = await readerA.get(`${STATS}?from=2026-03-09T00:00:00.000Z&to=2026-03-12T00:00:00.000Z&bucket=day`);
    expect(days.body.series).toEqual([
      point('2026-03-10T00:00:00.000Z', 'signalwire-chat', 0, 0, 1),
      point('2026-03-10T00:00:00.000Z', 'sinch', 3, 0, 0),
      point('2026-03-10T00:00:00.000Z', 'twilio', 0, 1, 0),
      point('2026-03-11T00:00:00.000Z', 'sinch', 1, 0, 0),
    ]);
    const minutes = await readerA.get(`${STATS}?from=2026-03-10T09:00:00.000Z&to=2026-03-10T11:00:00.000Z&bucket=minute`);
    expect(minutes.body.series).toEqual([
      point('2026-03-10T09:15:00.000Z', 'sinch', 2, 0, 0),
      point('2026-03-10T09:15:00.000Z', 'twilio', 0, 1, 0),
      point('2026-03-10T10:40:00.000Z', 'signalwire-chat', 0, 0, 1),
      point('2026-03-10T10:40:00.000Z', 'sinch', 1, 0, 0),
    ]);
  });

  it('narrows to one provider and to the half-open range [from, to)', async () => {
    const sinch = await readerA.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-12T00:00:00.000Z&bucket=day&provider=sinch`);
    expect(sinch.body.series).toEqual([point('2026-03-10T00:00:00.000Z', 'sinch', 3, 0, 0), point('2026-03-11T00:00:00.000Z', 'sinch', 1, 0, 0)]);
    // 10:40 itself is excluded by to, included by from.
    const before = await readerA.get(`${STATS}?from=2026-03-10T09:15:00.000Z&to=2026-03-10T10:40:00.000Z`);
    expect(before.body.series).toEqual([point('2026-03-10T09:00:00.000Z', 'sinch', 2, 0, 0), point('2026-03-10T09:00:00.000Z', 'twilio', 0, 1, 0)]);
    const empty = await readerA.get(`${STATS}?from=2026-03-10T11:00:00.000Z&to=2026-03-11T08:00:00.000Z&provider=twilio`);
    expect(empty.body.series).toEqual([]);
  });

  it('defaults to the 24 hours before now, in hours', async () => {
    const response = await readerA.get(STATS);
    expectStatus(response, 200);
    expect(response.body).toMatchObject({ bucket: 'hour', from: '2026-03-10T08:30:00.000Z', to: '2026-03-11T08:30:00.000Z' });
    expect(response.body.series.map((item: any) => item.at)).toEqual([
      '2026-03-10T09:00:00.000Z',
      '2026-03-10T09:00:00.000Z',
      '2026-03-10T10:00:00.000Z',
      '2026-03-10T10:00:00.000Z',
      '2026-03-11T08:00:00.000Z',
    ]);
  });

  it("counts only the caller's org", async () => {
    const response = await readerB.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-12T00:00:00.000Z&bucket=day`);
    expect(response.body.series).toEqual([point('2026-03-10T00:00:00.000Z', 'sinch', 1, 0, 0)]);
  });

  it('refuses more than 1,000 buckets, naming bucket, and allows exactly 1,000', async () => {
    expectValidation(await readerA.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-12T00:00:00.000Z&bucket=minute`), 'bucket');
    expectStatus(await readerA.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-10T16:40:00.000Z&bucket=minute`), 200);
    expectValidation(await readerA.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-10T16:40:00.001Z&bucket=minute`), 'bucket');
    expectValidation(await readerA.get(`${STATS}?bucket=minute`), 'bucket');
  });

  it('refuses a bad range or filter with 400 VALIDATION_FAILED naming the field', async () => {
    expectValidation(await readerA.get(`${STATS}?from=2026-03-11T00:00:00.000Z&to=2026-03-10T00:00:00.000Z`), 'from');
    expectValidation(await readerA.get(`${STATS}?from=2026-03-10T00:00:00.000Z&to=2026-03-10T00:00:00.000Z`), 'from');
    expectValidation(await readerA.get(`${STATS}?from=yesterday`), 'from');
    expectValidation(await readerA.get(`${STATS}?to=2026-13-01T00:00:00Z`), 'to');
    expectValidation(await readerA.get(`${STATS}?bucket=week`), 'bucket');
    expectValidation(await readerA.get(`${STATS}?provider=skype`), 'provider');
    expectValidation(await readerA.get(`${STATS}?outcome=issued`), 'outcome');
  });

  it('needs READ_AUDIT', async () => {
    expectError(await agentA.client.get(STATS), 403, 'MISSING_SCOPE');
    expectError(await client(app.url).get(STATS), 401, 'UNAUTHORIZED');
  });
});
