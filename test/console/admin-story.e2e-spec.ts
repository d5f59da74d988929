import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { expectStatus } from '../support/assertions';
import { DESKTOP, openBrowser, PHONE, screenshot, seriousViolations, storedEverywhere, type Browser } from '../support/browser';
import { ensureConsoleBuilt } from '../support/console-build';
import { createOrgWithAdmin, OrgFixture, PASSWORD, uniqueEmail } from '../support/fixtures';
import { client } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(120_000);

let app: TestApp;
let org: OrgFixture;
let browser: Browser;
let page: Page;
const agentEmail = uniqueEmail('ada');
let agentId: string;
let keyToken: string;

const SINCH_KEY = 'a32e5a8d-f7d8-411c-9645-9038e8dd051d';
const SINCH_SECRET = 'ax8hTTQJF0OPXL32r1LHMA==';

beforeAll(async () => {
  await ensureConsoleBuilt();
  app = await startTestApp();
  // The operator makes the org and its first admin, as the README's tour does with the operator token.
  org = await createOrgWithAdmin(app, 'Acme Console');
  browser = await openBrowser();
  page = browser.page;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Follows a link of the navigation and waits for the view's heading. */
async function open(view: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: view }).waitFor();
  await page
    .getByRole('status')
    .filter({ hasText: /^Loading/ })
    .first()
    .waitFor({ state: 'detached' });
}

async function signIn(email: string, password = PASSWORD): Promise<string> {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  const login = page.waitForResponse((response) => response.url().endsWith('/api/auth/login'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  const answer = await login;
  expect(answer.status()).toBe(200);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return (await answer.json()).accessToken;
}

describe('the admin story: the README tour in the browser', () => {
  it('signs in with email and password, keeping the token out of every storage', async () => {
    await page.goto(`${app.url}/console/`);
    await page.getByRole('heading', { name: 'Sign in to Mintline' }).waitFor();
    // A wrong password: the envelope's message, and still signed out.
    await page.getByLabel('Email').fill(org.adminEmail);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.getByRole('alert').textContent()).toContain('INVALID_CREDENTIALS');

    const token = await signIn(org.adminEmail);
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    const stored = await storedEverywhere(page);
    expect(stored.localStorage).toBe('{}');
    expect(stored.sessionStorage).toBe('{}');
    expect(stored.cookies).toBe('[]');
    for (const place of Object.values(stored)) expect(place).not.toContain(token);
    expect(page.url()).not.toContain(token);
  });

  it('creates a user, showing a refused field next to it', async () => {
    await page.getByLabel('Email').fill(agentEmail);
    await page.getByLabel('Name').fill('Ada');
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Role', { exact: true }).selectOption('agent');
    await page.getByRole('button', { name: 'Create user' }).click();
    const password = page.getByLabel('Password', { exact: true });
    await page.locator('input[aria-invalid="true"]').first().waitFor();
    expect(await password.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await password.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy.split(' ').pop()}"]`).textContent()).toMatch(/12/);

    await password.fill('a long agent password');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Created ${agentEmail}` })
      .waitFor();
    await page.getByRole('row', { name: new RegExp(agentEmail) }).waitFor();
    const users = (await org.admin.get('/api/users')).body as Array<{ id: string; email: string; role: string; name: string }>;
    const agent = users.find((user) => user.email === agentEmail);
    expect(agent).toMatchObject({ role: 'agent', name: 'Ada' });
    agentId = agent?.id ?? '';
  });

  it('gives the agent a caller ID, its first sinch number becoming the default', async () => {
    await page.getByRole('button', { name: `Caller IDs of ${agentEmail}` }).click();
    const panel = page.getByRole('region', { name: `Caller IDs of ${agentEmail}` });
    await panel.getByText('No caller IDs yet', { exact: false }).waitFor();
    await panel.getByLabel('Phone number').fill('12345');
    await panel.getByRole('button', { name: 'Add caller ID' }).click();
    await panel.locator('input[aria-invalid="true"]').waitFor();
    await panel.getByLabel('Phone number').fill('+14165550100');
    await panel.getByLabel('Label', { exact: true }).fill('Toronto desk');
    await panel.getByRole('button', { name: 'Add caller ID' }).click();
    await panel.getByText('+14165550100 · sinch · Toronto desk · default').waitFor();
    const numbers = await org.admin.get(`/api/users/${agentId}/phone-numbers`);
    expect(numbers.body).toEqual([expect.objectContaining({ provider: 'sinch', phoneNumber: '+14165550100', isDefault: true, label: 'Toronto desk' })]);
  });

  it('changes a role, disables and enables a user, and deletes one', async () => {
    const other = await org.admin.post('/api/users', { email: uniqueEmail('temp'), password: PASSWORD, role: 'agent' });
    expectStatus(other, 201);
    await open('Organization');
    await open('Users');
    const row = page.getByRole('row', { name: new RegExp(other.body.email) });
    await row.getByLabel(`Role of ${other.body.email}`).selectOption('auditor');
    await row.getByRole('button', { name: 'Save role' }).click();
    await page.waitForResponse((response) => response.url().includes(`/api/users`) && response.request().method() === 'GET');
    await row.getByRole('button', { name: `Disable ${other.body.email}` }).click();
    await row.getByRole('button', { name: `Enable ${other.body.email}` }).waitFor();
    expect((await org.admin.get(`/api/users/${other.body.id}`)).body).toMatchObject({ role: 'auditor', disabled: true });
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: `Delete ${other.body.email}` }).click();
    await row.waitFor({ state: 'detached' });
    expect((await org.admin.get(`/api/users/${other.body.id}`)).status).toBe(404);
  });

  it('stores Sinch Voice credentials from the form the OpenAPI document describes, shows the secret masked, and verifies them', async () => {
    await open('Credentials');
    // Every provider of the service's credential schemas has its card, without the console naming them.
    const served: any = await (await fetch(`${app.url}/docs/openapi.json`)).json();
    const providers = served.paths['/api/credentials/{provider}'].put.requestBody.content['application/json'].schema.oneOf.map((variant: { title: string }) => variant.title);
    expect(providers.length).toBeGreaterThanOrEqual(4);
    for (const provider of providers) await page.getByRole('region', { name: provider, exact: true }).waitFor();

    const card = page.getByRole('region', { name: 'sinch-voice', exact: true });
    const secret = card.getByLabel('sinch-voice applicationSecret (secret)');
    expect(await secret.getAttribute('type')).toBe('password');
    await card.getByLabel('sinch-voice applicationKey').fill(SINCH_KEY);
    await secret.fill(SINCH_SECRET);
    await card.getByRole('button', { name: 'Save sinch-voice' }).click();
    await card.getByText(`••••${SINCH_SECRET.slice(-4)}`).waitFor();
    expect(await card.textContent()).not.toContain(SINCH_SECRET);
    expect(await secret.inputValue()).toBe('');
    await card.getByRole('button', { name: 'Verify sinch-voice' }).click();
    const verified = await card
      .getByRole('status')
      .filter({ hasText: /^Verified: / })
      .textContent();
    expect(verified?.length).toBeGreaterThan('Verified: '.length);

    // A bad URL is refused field by field: the message sits next to spaceUrl.
    const signalwire = page.getByRole('region', { name: 'signalwire', exact: true });
    await signalwire.getByLabel('signalwire spaceUrl').fill('http://10.0.0.1');
    await signalwire.getByLabel('signalwire projectId').fill('p-1');
    await signalwire.getByLabel('signalwire apiToken (secret)').fill('PT-token-0000');
    await signalwire.getByRole('button', { name: 'Save signalwire' }).click();
    await signalwire.locator('input[aria-invalid="true"][name="spaceUrl"]').waitFor();
    expect(await signalwire.getByRole('alert').textContent()).toContain('VALIDATION_FAILED');

    // A provider the console does not name: Vonage, whose PEM private key takes a multi-line field.
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const vonage = page.getByRole('region', { name: 'vonage', exact: true });
    await vonage.getByLabel('vonage applicationId').fill(randomUUID());
    await vonage.getByLabel('vonage privateKey (secret)').fill(pem);
    await vonage.getByRole('button', { name: 'Save vonage' }).click();
    await vonage.getByText(`••••${pem.slice(-4)}`).waitFor();
    expect(await vonage.textContent()).not.toContain(pem.split('\n')[1]);
    await vonage.getByRole('button', { name: 'Verify vonage' }).click();
    await vonage
      .getByRole('status')
      .filter({ hasText: /^Verified: / })
      .waitFor();
  });

  it('creates an API key from its own scopes, shows the token once with a copy button, and the token works', async () => {
    await open('API keys');
    const me = (await org.admin.get('/api/auth/me')).body;
    for (const scope of me.scopes) await page.getByLabel(scope, { exact: true }).waitFor();
    expect(await page.getByRole('group', { name: 'Scopes (from your own)' }).getByRole('checkbox').count()).toBe(me.scopes.length);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
    await page.getByLabel('Key name').fill('dialer backend');
    await page.getByLabel('CREATE_CALL_TOKEN', { exact: true }).check();
    await page.getByLabel('Requests per day (optional)').fill('10000');
    await page.getByRole('button', { name: 'Create key' }).click();
    const token = page.getByLabel('Token', { exact: true });
    await token.waitFor();
    keyToken = await token.inputValue();
    expect(keyToken).toMatch(/^mlk_[A-Za-z0-9_-]{43,}$/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(keyToken);
    await page.getByRole('button', { name: 'Done' }).click();
    await token.waitFor({ state: 'detached' });
    expect(await page.content()).not.toContain(keyToken);
    await page
      .getByRole('row', { name: /dialer backend/ })
      .getByText('CREATE_CALL_TOKEN')
      .waitFor();

    // The backend mints for the agent with it: the tour's last steps.
    const minted = await client(app.url, keyToken).get(`/api/calls/token/sinch?userId=${agentId}`);
    expectStatus(minted, 200);
    expect(minted.body.callerIdentifier).toBe('+14165550100');
  });

  it('creates a WebRTC endpoint and archives it', async () => {
    // The org's webrtc feature is off: the view says so in the envelope's words; the operator switches it on.
    await open('Endpoints');
    expect(await page.getByRole('alert').first().textContent()).toContain('FEATURE_DISABLED');
    expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { features: { webrtc: true } }), 200);
    await open('Organization');
    await open('Endpoints');
    await page.getByText('No endpoints yet.').waitFor();
    await page.getByLabel('Endpoint name').fill('Front desk');
    await page.getByRole('button', { name: 'Create endpoint' }).click();
    const row = page.getByRole('row', { name: /Front desk/ });
    await row.getByText('active').waitFor();
    await row.getByRole('button', { name: 'Archive Front desk' }).click();
    await row.getByText('archived').waitFor();
    expect((await org.admin.get('/api/endpoints')).body).toEqual([expect.objectContaining({ name: 'Front desk', webrtc: true, state: 'archived' })]);
  });

  it('sets a token policy and evaluates mints against it', async () => {
    await open('Token policies');
    await page.getByText('No token policies', { exact: false }).waitFor();
    await page.getByLabel('Provider to edit and evaluate').selectOption('sinch');
    await page.getByLabel('Role agent').check();
    await page.getByLabel('Longest lifetime in seconds (optional)').fill('30');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.locator('input[name="maxTtlSeconds"][aria-invalid="true"]').waitFor();
    await page.getByLabel('Longest lifetime in seconds (optional)').fill('');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('row', { name: /sinch/ }).getByText('agent', { exact: true }).waitFor();
    expect((await org.admin.get('/api/policies/sinch')).body).toMatchObject({ provider: 'sinch', roles: ['agent'] });

    const evaluate = page.getByRole('region', { name: 'Evaluate a sinch mint' });
    await evaluate.getByLabel('User id').fill(agentId);
    await evaluate.getByRole('button', { name: 'Evaluate' }).click();
    await evaluate
      .getByRole('status')
      .filter({ hasText: /^Allowed: the token would live 600 s/ })
      .waitFor();
    await evaluate.getByLabel('User id').fill('');
    await evaluate.getByRole('button', { name: 'Evaluate' }).click();
    const denied = await evaluate
      .getByRole('status')
      .filter({ hasText: /^Denied/ })
      .textContent();
    expect(denied).toContain('roles (denied)');
  });

  it('shows the org settings an admin may see', async () => {
    await open('Organization');
    await page.getByText(org.orgId).waitFor();
    await page.getByText(org.adminEmail).first().waitFor();
  });

  it('moves by keyboard: a skip link first, to the main content, with a visible focus', async () => {
    await page.keyboard.press('Tab');
    const first = await page.evaluate('document.activeElement && document.activeElement.textContent');
    expect(first).toBe('Skip to content');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');
    // Tab from the navigation reaches a view by Enter on its link.
    await page.getByRole('link', { name: 'Users', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    expect(page.url()).toBe(`${app.url}/console/users`);
  });

  it('keeps the view on reload (the page is served for every console path) and signs in again, since the token was only in memory', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Mintline' }).waitFor();
    await signIn(org.adminEmail);
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    expect(page.url()).toBe(`${app.url}/console/users`);
  });

  // The audit views are scanned, with their data, by the auditor's story (auditor-story.e2e-spec.ts).
  it('passes an accessibility scan on every administration view at 1280 px and at a phone width, with a screenshot of each', async () => {
    const all = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents();
    expect(all).toEqual([
      'Users',
      'Credentials',
      'API keys',
      'Endpoints',
      'Token policies',
      'Mint log',
      'Activity',
      'Configuration events',
      'Chain verification',
      'Organization',
    ]);
    const views = ['Users', 'Credentials', 'API keys', 'Endpoints', 'Token policies', 'Organization'];
    const found: string[] = [];
    for (const [width, size] of [
      ['1280', DESKTOP],
      ['375', PHONE],
    ] as const) {
      await page.setViewportSize(size);
      for (const view of views) {
        await open(view);
        found.push(...(await seriousViolations(page)).map((violation) => `${view} at ${width}px: ${violation}`));
        // Nothing wider than the window at a phone's width, but for tables, which scroll in their own region.
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(`${view} at ${width}px overflows by ${overflow}`).toBe(`${view} at ${width}px overflows by 0`);
        await screenshot(page, `admin-${view.toLowerCase().replace(/\s+/g, '-')}-${width}`);
      }
    }
    await page.setViewportSize(DESKTOP);
    expect(found).toEqual([]);
    expect(browser.problems).toEqual([]);
  }, 600_000);

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Mintline' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'sign-in-1280');
  });

  it('signs out with a message when the service refuses the session (401) and when the token expires', async () => {
    const second = await org.admin.post('/api/users', { email: uniqueEmail('admin2'), password: PASSWORD, role: 'admin' });
    await signIn(second.body.email);
    expectStatus(await org.admin.patch(`/api/users/${second.body.id}`, { disabled: true }), 200);
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('status').filter({ hasText: 'The service refused your session (401). Sign in again.' }).waitFor();
    await page.getByRole('heading', { name: 'Sign in to Mintline' }).waitFor();

    await page.clock.install();
    await page.reload();
    await signIn(org.adminEmail);
    await page.clock.fastForward('14:59');
    expect(await page.getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
    await page.clock.fastForward('00:02');
    await page.getByRole('status').filter({ hasText: 'Your session expired. Sign in again.' }).waitFor();
    expect(await page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
  });
});
