import { LOGIN_LIMITS } from '../libs/auth/src/login-throttle.service';
import { ManualClock } from '../libs/common/src/clock';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { http, HttpResult } from './support/http';
import { startTestApp, TestApp } from './support/test-app';
import { LOGIN_WINDOW_MS, LOGIN_WINDOW_OFFSET_MS, loginWindowStart, moveToNextLoginWindow } from './support/login-window';

/**
 * Login throttling (issue: "Login is rate limited per account and per IP"): failed logins are counted per
 * account (10 per 15 minutes) and per client address (100 per 15 minutes) in fixed windows; past either
 * limit every attempt, right password or wrong, is 429 RATE_LIMITED with Retry-After until the window ends.
 * Successful logins do not count.
 *
 * The service runs on a ManualClock set 10 s into a 15-minute window, so a window never rolls over by
 * accident, Retry-After is exact, and "the window passes" is one `advance`.
 */

let app: TestApp;
let clock: ManualClock;
let org: OrgFixture;

const loginAs = (email: string, password: string, headers: Record<string, string> = {}): Promise<HttpResult> =>
  http(app.url, 'POST', '/api/auth/login', { body: { email, password }, headers });

/** Runs the tasks with at most `width` in flight; results in task order. */
async function inParallel<T>(tasks: Array<() => Promise<T>>, width = 8): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]();
      }
    }),
  );
  return results;
}

function expectRateLimited(response: HttpResult, secondsLeft: number): void {
  expectError(response, 429, 'RATE_LIMITED');
  const retryAfter = response.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  // The window ends `secondsLeft` from the service's (manual) clock; allow a second of rounding.
  expect(Math.abs(Number(retryAfter) - secondsLeft)).toBeLessThanOrEqual(1);
  expect(response.body).not.toHaveProperty('accessToken');
}

beforeAll(async () => {
  clock = new ManualClock(loginWindowStart(Date.now()) + LOGIN_WINDOW_OFFSET_MS);
  // Up to 8 logins at once here; the per-instance bound on checks in flight is login-limits.e2e-spec's subject.
  app = await startTestApp({ clock, config: { loginConcurrency: 16 } });
  org = await createOrgWithAdmin(app, 'Throttle Org');
});

afterAll(async () => {
  await app?.close();
});

it('uses the limits the issue names: 10 per account and 100 per IP, per 15 minutes', () => {
  expect(LOGIN_LIMITS.perAccount).toEqual({ failures: 10, windowMs: LOGIN_WINDOW_MS });
  expect(LOGIN_LIMITS.perIp).toEqual({ failures: 100, windowMs: LOGIN_WINDOW_MS });
});

describe('per account', () => {
  it('refuses the 11th attempt after 10 failures, even with the right password, until the window passes; other accounts are unaffected', async () => {
    moveToNextLoginWindow(clock);
    const victim = await createUser(app, org, 'agent');
    const bystander = await createUser(app, org, 'agent');

    for (let attempt = 1; attempt <= 10; attempt++) {
      expectError(await loginAs(victim.email, `wrong password number ${attempt}`), 401, 'INVALID_CREDENTIALS');
    }
    const secondsLeft = (LOGIN_WINDOW_MS - LOGIN_WINDOW_OFFSET_MS) / 1000;
    // The right password no longer helps, nor does a wrong one, nor another spelling of the same email.
    expectRateLimited(await loginAs(victim.email, PASSWORD), secondsLeft);
    expectRateLimited(await loginAs(victim.email, 'yet another wrong password'), secondsLeft);
    expectRateLimited(await loginAs(`  ${victim.email.toUpperCase()} `, PASSWORD), secondsLeft);

    // Other accounts log in as usual (the address is far from its own limit).
    expectStatus(await loginAs(bystander.email, PASSWORD), 200);
    expectStatus(await loginAs(org.adminEmail, PASSWORD), 200);

    // Later in the same window Retry-After counts down.
    clock.advance(5 * 60_000);
    expectRateLimited(await loginAs(victim.email, PASSWORD), secondsLeft - 300);

    // Once the window has passed the account logs in again, and its access token works.
    clock.advance(10 * 60_000);
    const after = await loginAs(victim.email, PASSWORD);
    expectStatus(after, 200);
    expectStatus(await http(app.url, 'GET', '/api/auth/me', { token: after.body.accessToken }), 200);
  });

  it('counts failures for an email nobody has too (no hint whether the account exists)', async () => {
    moveToNextLoginWindow(clock);
    const nobody = uniqueEmail('nobody');
    for (let attempt = 1; attempt <= 10; attempt++) {
      expectError(await loginAs(nobody, `guess ${attempt} for nobody`), 401, 'INVALID_CREDENTIALS');
    }
    expectRateLimited(await loginAs(nobody, PASSWORD), (LOGIN_WINDOW_MS - LOGIN_WINDOW_OFFSET_MS) / 1000);
  });

  it('does not count successful logins: many successes then 9 failures still leave the account open', async () => {
    moveToNextLoginWindow(clock);
    const user = await createUser(app, org, 'agent');
    const successes = await inParallel(
      Array.from({ length: 15 }, () => () => loginAs(user.email, PASSWORD)),
      5,
    );
    for (const success of successes) expectStatus(success, 200);
    for (let attempt = 1; attempt <= 9; attempt++) {
      expectError(await loginAs(user.email, `not it ${attempt}`), 401, 'INVALID_CREDENTIALS');
    }
    expectStatus(await loginAs(user.email, PASSWORD), 200);
    // The 10th failure is still an ordinary 401; only after it is the account closed.
    expectError(await loginAs(user.email, 'not it 10'), 401, 'INVALID_CREDENTIALS');
    expectRateLimited(await loginAs(user.email, PASSWORD), (LOGIN_WINDOW_MS - LOGIN_WINDOW_OFFSET_MS) / 1000);
  });
});

describe('per IP', () => {
  it('refuses every login from an address after 100 failures across different emails; successes do not count; X-Forwarded-For does not escape it', async () => {
    moveToNextLoginWindow(clock);
    const user = await createUser(app, org, 'agent');

    // 99 failures, each for a different email (so no account reaches its own limit) ...
    const failures = await inParallel(Array.from({ length: 99 }, (_, index) => () => loginAs(uniqueEmail(`spray${index}`), 'a password nobody has')));
    for (const failure of failures) expectError(failure, 401, 'INVALID_CREDENTIALS');
    // ... then successes from the same address, which do not count. One at a time: an attempt is counted
    // while its password is checked, so at 99 of 100 there is room for one check in flight ...
    const successes = await inParallel(
      Array.from({ length: 10 }, () => () => loginAs(user.email, PASSWORD)),
      1,
    );
    for (const success of successes) expectStatus(success, 200);
    // ... then the 100th failure, still an ordinary 401 ...
    expectError(await loginAs(uniqueEmail('spray99'), 'a password nobody has'), 401, 'INVALID_CREDENTIALS');

    // ... after which a new email, and a real user with the right password, are refused from this address.
    const secondsLeft = (LOGIN_WINDOW_MS - LOGIN_WINDOW_OFFSET_MS) / 1000;
    expectRateLimited(await loginAs(uniqueEmail('fresh'), 'whatever password'), secondsLeft);
    expectRateLimited(await loginAs(user.email, PASSWORD), secondsLeft);
    // The service does not trust X-Forwarded-For (TRUST_PROXY is off), so a forged one changes nothing.
    expectRateLimited(await loginAs(user.email, PASSWORD, { 'x-forwarded-for': '203.0.113.7' }), secondsLeft);

    // Credentials already issued keep working: the throttle is about logging in, not about access.
    expectStatus(await http(app.url, 'GET', '/api/auth/me', { token: user.token }), 200);

    clock.advance(LOGIN_WINDOW_MS);
    expectStatus(await loginAs(user.email, PASSWORD), 200);
    expectError(await loginAs(uniqueEmail('later'), 'wrong again'), 401, 'INVALID_CREDENTIALS');
    // Every login verifies an argon2id hash (64 MiB, 3 passes), so 110 of them take a while on a small machine.
  }, 120_000);
});
