import Redis from 'ioredis';
import { ManualClock } from '../libs/common/src/clock';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { http, HttpResult } from './support/http';
import { startSecondInstance } from './support/call-tokens';
import { startTestApp, TestApp } from './support/test-app';
import { LOGIN_WINDOW_MS, LOGIN_WINDOW_OFFSET_MS, loginWindowStart, moveToNextLoginWindow } from './support/login-window';

/**
 * Login limits under concurrency (API.md "Login limits"): an attempt is counted before its password is
 * checked, so of a burst of concurrent wrong attempts at most the limit (10 per account, 100 per address
 * and 15-minute window) are checked and the rest are 429 RATE_LIMITED with Retry-After; a successful
 * login hands its count back; and each instance checks at most LOGIN_CONCURRENCY passwords at once,
 * answering 429 at once past that bound instead of queueing.
 *
 * Everything here is counted (answers by status, and the instance's own gauges on /metrics), never timed.
 */

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let app: TestApp;
let clock: ManualClock;
let org: OrgFixture;

const loginOn = (target: TestApp, email: string, password: string): Promise<HttpResult> => http(target.url, 'POST', '/api/auth/login', { body: { email, password } });

/** Fires every login at once and sorts the answers by status. */
async function burst(target: TestApp, logins: Array<{ email: string; password: string }>): Promise<{ ok: HttpResult[]; invalid: HttpResult[]; limited: HttpResult[] }> {
  const answers = await Promise.all(logins.map(({ email, password }) => loginOn(target, email, password)));
  const sorted = { ok: [] as HttpResult[], invalid: [] as HttpResult[], limited: [] as HttpResult[] };
  for (const answer of answers) {
    if (answer.status === 200) sorted.ok.push(answer);
    else if (answer.status === 401) {
      expectError(answer, 401, 'INVALID_CREDENTIALS');
      sorted.invalid.push(answer);
    } else {
      expectRateLimited(answer);
      sorted.limited.push(answer);
    }
  }
  return sorted;
}

function expectRateLimited(response: HttpResult): void {
  expectError(response, 429, 'RATE_LIMITED');
  expect(response.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(response.body).not.toHaveProperty('accessToken');
}

/** One sample of the instance's Prometheus text (a gauge or counter without labels). */
async function metric(target: TestApp, name: string): Promise<number> {
  const response = await http(target.url, 'GET', '/metrics');
  expectStatus(response, 200);
  const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?)$`, 'm').exec(response.text);
  if (!match) throw new Error(`${name} is not on /metrics`);
  return Number(match[1]);
}

beforeAll(async () => {
  clock = new ManualClock(loginWindowStart(Date.now()) + LOGIN_WINDOW_OFFSET_MS);
  // The counting tests fire hundreds of logins at once: the bound on checks in flight is set far above
  // them here, so what refuses is the counting; the bound has its own instance below.
  app = await startTestApp({ clock, config: { loginConcurrency: 1000 } });
  org = await createOrgWithAdmin(app, 'Login Limits Org');
});

afterAll(async () => {
  await app?.close();
});

describe('per account, under concurrency', () => {
  it('of 150 concurrent wrong passwords for one account exactly 10 are checked, the rest are 429 with Retry-After; then the right password is 429', async () => {
    moveToNextLoginWindow(clock);
    const victim = await createUser(app, org, 'agent');
    const { ok, invalid, limited } = await burst(
      app,
      Array.from({ length: 150 }, (_, index) => ({ email: victim.email, password: `wrong guess ${index}` })),
    );
    expect(ok.length).toBe(0);
    expect(invalid.length).toBe(10);
    expect(limited.length).toBe(140);

    const after = await loginOn(app, victim.email, PASSWORD);
    expectRateLimited(after);
    expect(Number(after.headers.get('retry-after'))).toBe((LOGIN_WINDOW_MS - LOGIN_WINDOW_OFFSET_MS) / 1000);
  }, 120_000);
});

describe('per address, under concurrency', () => {
  it('of 300 concurrent wrong logins for different accounts from one address exactly 100 are checked, the rest are 429; then a right password from there is 429', async () => {
    moveToNextLoginWindow(clock);
    const user = await createUser(app, org, 'agent');
    const { ok, invalid, limited } = await burst(
      app,
      Array.from({ length: 300 }, (_, index) => ({ email: uniqueEmail(`spray${index}`), password: 'a password nobody has' })),
    );
    expect(ok.length).toBe(0);
    expect(invalid.length).toBe(100);
    expect(limited.length).toBe(200);

    expectRateLimited(await loginOn(app, user.email, PASSWORD));
  }, 180_000);
});

describe('successful logins', () => {
  it('in a fresh window are not blocked and do not use up the failure budget, even when they arrive together with failures', async () => {
    moveToNextLoginWindow(clock);
    const user = await createUser(app, org, 'agent');
    // Successes first, five at a time (well under the account's 10 attempts in flight) ...
    for (let round = 0; round < 3; round++) {
      const { ok } = await burst(
        app,
        Array.from({ length: 5 }, () => ({ email: user.email, password: PASSWORD })),
      );
      expect(ok.length).toBe(5);
    }
    // ... then 5 failures and 4 successes together: the successes hand their counts back ...
    const mixed = await burst(app, [
      ...Array.from({ length: 5 }, (_, index) => ({ email: user.email, password: `not it ${index}` })),
      ...Array.from({ length: 4 }, () => ({ email: user.email, password: PASSWORD })),
    ]);
    expect(mixed.invalid.length).toBe(5);
    expect(mixed.ok.length).toBe(4);
    // ... so the whole budget of 10 failures is still there: 5 more are checked (401), all at once ...
    const rest = await burst(
      app,
      Array.from({ length: 5 }, (_, index) => ({ email: user.email, password: `still not it ${index}` })),
    );
    expect(rest.invalid.length).toBe(5);
    expect(rest.limited.length).toBe(0);
    // ... and only then is the account closed, right password included.
    expectRateLimited(await loginOn(app, user.email, PASSWORD));
    // The token from a success works.
    expectStatus(await http(app.url, 'GET', '/api/auth/me', { token: mixed.ok[0].body.accessToken }), 200);
  }, 120_000);
});

describe('password checks in flight per instance', () => {
  it('with the bound at 2, a burst of 40 logins never has more than 2 checks in flight and the rest are refused at once with 429, not queued', async () => {
    const bounded = await startSecondInstance(app, { clock, config: { loginConcurrency: 2 } });
    try {
      moveToNextLoginWindow(clock);
      const user = await createUser(app, org, 'agent');
      const { ok, invalid, limited } = await burst(
        bounded,
        Array.from({ length: 40 }, (_, index) => ({ email: uniqueEmail(`busy${index}`), password: 'a password nobody has' })),
      );
      expect(ok.length).toBe(0);
      // Every login was either checked (401) or refused as busy (429), and refusals happened: nothing waited its turn.
      expect(invalid.length + limited.length).toBe(40);
      expect(invalid.length).toBeGreaterThanOrEqual(2);
      expect(limited.length).toBeGreaterThan(0);
      for (const refusal of limited) {
        expect(refusal.body.error).toMatch(/in progress on this instance/);
        expect(refusal.headers.get('retry-after')).toBe('1');
      }
      // The instance's own account: at most 2 checks were ever in flight at once, and each refusal is counted.
      const peak = await metric(bounded, 'mintline_login_checks_in_flight_peak');
      expect(peak).toBeGreaterThanOrEqual(1);
      expect(peak).toBeLessThanOrEqual(2);
      expect(await metric(bounded, 'mintline_login_busy_refusals_total')).toBe(limited.length);
      expect(await metric(bounded, 'mintline_login_checks_in_flight')).toBe(0);

      // Being busy is not a failure: the 40 emails' and the address's budgets hold only the checked ones,
      // and once the burst is over the slots are free again for a real login.
      expectStatus(await loginOn(bounded, user.email, PASSWORD), 200);
    } finally {
      await bounded.close();
    }
  }, 120_000);
});

describe('with REDIS_URL, across instances', () => {
  it('two instances sharing Redis check exactly 10 of 40 concurrent wrong passwords for one account between them; the counter holds only failures', async () => {
    const a = await startSecondInstance(app, { clock, config: { redisUrl: REDIS_URL, loginConcurrency: 1000 } });
    const b = await startSecondInstance(app, { clock, config: { redisUrl: REDIS_URL, loginConcurrency: 1000 } });
    const redis = new Redis(REDIS_URL, { keyPrefix: 'mintline:' });
    try {
      moveToNextLoginWindow(clock);
      const user = await createUser(app, org, 'agent');
      const counter = `login-account:${user.email}:${loginWindowStart(clock.nowMs())}`;
      // Successes on either instance hand their count back.
      expectStatus(await loginOn(a, user.email, PASSWORD), 200);
      expectStatus(await loginOn(b, user.email, PASSWORD), 200);
      expect(Number(await redis.get(counter))).toBe(0);

      const answers = await Promise.all(Array.from({ length: 40 }, (_, index) => loginOn(index % 2 === 0 ? a : b, user.email, `wrong guess ${index}`)));
      const statuses = answers.map((answer) => answer.status);
      expect(statuses.filter((status) => status === 401).length).toBe(10);
      expect(statuses.filter((status) => status === 429).length).toBe(30);
      for (const answer of answers) if (answer.status === 429) expectRateLimited(answer);
      // The refused attempts were handed back: the shared counter holds the 10 failures, no more.
      expect(Number(await redis.get(counter))).toBe(10);

      expectRateLimited(await loginOn(a, user.email, PASSWORD));
      expectRateLimited(await loginOn(b, user.email, PASSWORD));
    } finally {
      redis.disconnect();
      await b.close();
      await a.close();
    }
  }, 120_000);
});
