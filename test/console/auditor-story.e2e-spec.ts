import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { ManualClock } from '../../libs/common/src/clock';
import { expectError, expectStatus } from '../support/assertions';
import { DESKTOP, openBrowser, PHONE, screenshot, seriousViolations, storedEverywhere, type Browser } from '../support/browser';
import { ensureConsoleBuilt } from '../support/console-build';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD } from '../support/fixtures';
import { client } from '../support/http';
import { allMintEntries, createApiKey, putSinchVoice, randomSinchSecret } from '../support/minting';
import { startTestApp, TestApp } from '../support/test-app';

jest.setTimeout(120_000);

let app: TestApp;
let clock: ManualClock;
let org: OrgFixture;
let auditor: Awaited<ReturnType<typeof createUser>>;
let agentId: string;
let browser: Browser;
let page: Page;
/** Every entry of the org, from the API, newest first. */
let entries: any[];

const MINUTE = 60_000;

/**
 * The org's mints at known instants (a manual clock): one sinch mint on 2026-03-09 at 23:30; twelve on
 * 2026-03-10 from 09:00, a minute apart, and two twilio mints refused at 10:00 (not configured); three
 * sinch mints on 2026-03-11 at 14:00. The auditor then looks for 2026-03-10's issued sinch mints.
 */
beforeAll(async () => {
  await ensureConsoleBuilt();
  clock = new ManualClock(Date.parse('2026-03-09T23:00:00.000Z'));
  app = await startTestApp({ clock });
  org = await createOrgWithAdmin(app, 'Audited Org');
  const agent = await createUser(app, org, 'agent');
  agentId = agent.id;
  await putSinchVoice(org.admin, randomUUID(), randomSinchSecret());
  const minter = client(app.url, (await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'dialer')).token);
  const sinch = async () => expectStatus(await minter.get(`/api/calls/token/sinch?userId=${agentId}`), 200);
  clock.set(Date.parse('2026-03-09T23:30:00.000Z'));
  await sinch();
  clock.set(Date.parse('2026-03-10T09:00:00.000Z'));
  for (let minute = 0; minute < 12; minute += 1) {
    await sinch();
    clock.advance(MINUTE);
  }
  clock.set(Date.parse('2026-03-10T10:00:00.000Z'));
  for (let attempt = 0; attempt < 2; attempt += 1) expectError(await minter.get(`/api/calls/token/twilio?userId=${agentId}`), 400, 'TWILIO_NOT_CONFIGURED');
  clock.set(Date.parse('2026-03-11T14:00:00.000Z'));
  for (let mint = 0; mint < 3; mint += 1) await sinch();
  clock.set(Date.parse('2026-03-11T15:00:00.000Z'));
  auditor = await createUser(app, org, 'auditor');
  entries = await allMintEntries(auditor.client);
  expect(entries).toHaveLength(18);
  browser = await openBrowser();
  page = browser.page;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

function randomUUID(): string {
  return globalThis.crypto.randomUUID();
}

async function open(view: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view, exact: true }).click();
  await page.getByRole('heading', { level: 1, name: view }).waitFor();
  await page
    .getByRole('status')
    .filter({ hasText: /^Loading/ })
    .first()
    .waitFor({ state: 'detached' });
}

/** The data rows of a table region (its header row left out). */
function dataRows(table: string) {
  return page.getByRole('region', { name: table }).locator('tbody tr');
}

const DAY_ISSUED = () => entries.filter((entry) => entry.at.startsWith('2026-03-10') && entry.provider === 'sinch' && entry.outcome === 'issued');

describe("the auditor's story: find, verify and export a day's mints", () => {
  it('signs in and sees the audit views only, with no token kept in storage', async () => {
    await page.goto(`${app.url}/console/audit/mints`);
    await page.getByLabel('Email').fill(auditor.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mint log' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents()).toEqual([
      'Token policies',
      'Mint log',
      'Activity',
      'Configuration events',
      'Chain verification',
      'Organization',
    ]);
    expect(await storedEverywhere(page)).toEqual({ localStorage: '{}', sessionStorage: '{}', cookies: '[]' });
  });

  it("finds the day's issued sinch mints with the filters, a page at a time", async () => {
    await page.getByLabel('Provider').selectOption('sinch');
    await page.getByLabel('Outcome').selectOption('issued');
    await page.getByLabel('Subject user id').fill(agentId);
    await page.getByLabel('From (UTC)').fill('2026-03-10T00:00');
    await page.getByLabel('To (UTC)').fill('2026-03-11T00:00');
    await page.getByLabel('Entries per page').selectOption('10');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Loading/ })
      .waitFor({ state: 'detached' });
    const expected = DAY_ISSUED();
    expect(expected).toHaveLength(12);
    await dataRows('Mint entries').nth(9).waitFor();
    expect(await dataRows('Mint entries').count()).toBe(10);
    expect(await dataRows('Mint entries').first().textContent()).toContain('2026-03-10 09:11:00 UTC');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Loading/ })
      .waitFor({ state: 'detached' });
    expect(await dataRows('Mint entries').count()).toBe(2);
    expect(await dataRows('Mint entries').last().textContent()).toContain('2026-03-10 09:00:00 UTC');
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Loading/ })
      .waitFor({ state: 'detached' });
    expect(await dataRows('Mint entries').count()).toBe(10);
  });

  it('shows a refused filter next to its field', async () => {
    await page.getByLabel('Actor id').fill('not-a-uuid');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('input[name="actorId"][aria-invalid="true"]').waitFor();
    expect(await page.getByRole('alert').first().textContent()).toContain('VALIDATION_FAILED');
    await page.getByLabel('Actor id').fill('');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await dataRows('Mint entries').nth(9).waitFor();
  });

  it("opens one entry's details", async () => {
    const newest = DAY_ISSUED()[0];
    await page.getByRole('button', { name: 'Details of the sinch mint at 2026-03-10 09:11:00 UTC' }).click();
    const details = page.getByRole('region', { name: `Mint entry ${newest.id}` });
    await details.waitFor();
    const text = await details.textContent();
    for (const value of [newest.tokenFingerprint, newest.requestId, newest.target, newest.actor.id, agentId]) expect(text).toContain(value);
    await screenshot(page, 'auditor-mint-log-1280');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('exports the filtered entries as NDJSON and as CSV downloads', async () => {
    const expected = DAY_ISSUED();
    const ndjsonDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export NDJSON' }).click();
    const ndjson = await ndjsonDownload;
    expect(ndjson.suggestedFilename()).toMatch(/^mintline-mints-\d{4}-\d{2}-\d{2}\.ndjson$/);
    const lines = readFileSync((await ndjson.path()) ?? '', 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual(expected.map((entry) => entry.id));
    for (const line of lines) expect(line).toMatchObject({ provider: 'sinch', outcome: 'issued', subjectUserId: agentId });

    const csvDownload = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const csv = await csvDownload;
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const rows = readFileSync((await csv.path()) ?? '', 'utf8')
      .trim()
      .split(/\r?\n/);
    expect(rows).toHaveLength(13);
    expect(rows[0]).toMatch(/^id,/);
    for (const entry of expected) expect(rows.some((row) => row.startsWith(`${entry.id},`))).toBe(true);
    await page.getByRole('link', { name: /Download mintline-mints-.*\.csv again/ }).waitFor();
    expect(await storedEverywhere(page)).toEqual({ localStorage: '{}', sessionStorage: '{}', cookies: '[]' });
  });

  it('verifies the chain, with its signed checkpoints', async () => {
    await open('Chain verification');
    let result = '';
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await page.getByRole('button', { name: 'Verify the chain' }).click();
      const region = page.getByRole('region', { name: 'The chain verifies' });
      await region.waitFor();
      result = (await region.textContent()) ?? '';
      if (result.includes('Unsigned tail0')) break;
      await page.waitForTimeout(300);
    }
    expect(result).toContain('Entries checked18');
    expect(result).toMatch(/Signed checkpoints[1-9]\d*/);
    expect(result).toContain('Signed through seq18');
    expect(result).toContain('Unsigned tail0');
    await page.getByText('test-a1').waitFor();
  });

  it('sees the mints over time, by provider and outcome, on a chart', async () => {
    await open('Activity');
    await page.getByLabel('Bucket').selectOption('day');
    await page.getByLabel('From (UTC)').fill('2026-03-09T00:00');
    await page.getByLabel('To (UTC)').fill('2026-03-12T00:00');
    await page.getByRole('button', { name: 'Show' }).click();
    const chart = page.getByRole('img', { name: /^Mints per day by provider and outcome/ });
    await chart.waitFor();
    const described = (await chart.getAttribute('aria-label')) ?? '';
    expect(described).toContain('sinch 2026-03-10 00:00:00 UTC: 12 issued, 0 denied, 0 failed');
    expect(described).toContain('twilio 2026-03-10 00:00:00 UTC: 0 issued, 2 denied, 0 failed');
    // Chart.js drew bars: the canvas has painted pixels.
    const painted = await chart.evaluate((canvas) => {
      const element = canvas as unknown as {
        width: number;
        height: number;
        getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      };
      const pixels = element.getContext('2d').getImageData(0, 0, element.width, element.height).data;
      let count = 0;
      for (let index = 3; index < pixels.length; index += 4) if (pixels[index] > 0) count += 1;
      return count;
    });
    expect(painted).toBeGreaterThan(1000);
    await page.getByText('The counts as a table').click();
    expect(await dataRows('Mint counts').allTextContents()).toEqual([
      '2026-03-09 00:00:00 UTCsinch100',
      '2026-03-10 00:00:00 UTCsinch1200',
      '2026-03-10 00:00:00 UTCtwilio020',
      '2026-03-11 00:00:00 UTCsinch300',
    ]);
    await screenshot(page, 'auditor-activity-by-day-1280');

    // A range of more than 1,000 buckets: the service's refusal, next to the field it names.
    await page.getByLabel('Bucket').selectOption('minute');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.locator('select[name="bucket"][aria-invalid="true"]').waitFor();
    expect(await page.getByRole('alert').first().textContent()).toContain('VALIDATION_FAILED');
    await page.getByLabel('Bucket').selectOption('day');
    await page.getByRole('button', { name: 'Show' }).click();
    await chart.waitFor();
  });

  it('reads the configuration events', async () => {
    await open('Configuration events');
    await dataRows('Configuration events').first().waitFor();
    const text = (await dataRows('Configuration events').allTextContents()).join('\n');
    expect(text).toContain('credentials.created');
    expect(text).toContain('user.created');
    await page.getByLabel('Target type').fill('api_key');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /^Loading/ })
      .waitFor({ state: 'detached' });
    expect(await dataRows('Configuration events').count()).toBe(1);
  });

  it('passes an accessibility scan on every audit view at 1280 px and at a phone width, with a screenshot of each', async () => {
    const found: string[] = [];
    for (const [width, size] of [
      ['1280', DESKTOP],
      ['375', PHONE],
    ] as const) {
      await page.setViewportSize(size);
      for (const view of ['Mint log', 'Activity', 'Configuration events', 'Chain verification', 'Token policies', 'Organization']) {
        await open(view);
        if (view === 'Chain verification') await page.getByRole('button', { name: 'Verify the chain' }).click();
        if (view === 'Activity') await page.getByRole('img').first().waitFor();
        found.push(...(await seriousViolations(page)).map((violation) => `${view} at ${width}px: ${violation}`));
        const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(`${view} at ${width}px overflows by ${overflow}`).toBe(`${view} at ${width}px overflows by 0`);
        await screenshot(page, `auditor-${view.toLowerCase().replace(/\s+/g, '-')}-${width}`);
      }
    }
    await page.setViewportSize(DESKTOP);
    expect(found).toEqual([]);
    expect(browser.problems).toEqual([]);
  }, 600_000);
});
