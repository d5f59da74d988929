import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium; .ci/run installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots of each main view, kept by the test run for review (gitignored). */
export const SCREENSHOTS = join(__dirname, '..', '..', 'test-results', 'console');

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 375, height: 812 };

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations and page errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile, nothing in the background (no updates, sync, QUIC or first-run
 * pages), so a test sees only the requests its page makes.
 */
export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'mintline-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: DESKTOP,
    acceptDownloads: true,
    timezoneId: 'UTC',
    locale: 'en-GB',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/Content[- ]Security[- ]Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** axe-core's WCAG 2.1 A/AA rules on the page as it is: the serious and critical violations, described. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The page's storage and cookies as text, to look for a token in. */
export async function storedEverywhere(page: Page): Promise<{ localStorage: string; sessionStorage: string; cookies: string }> {
  // Runs in the page (the DOM's globals), written as text since this file is compiled for Node.
  const storage = await page.evaluate<{ localStorage: string; sessionStorage: string }>(
    '({ localStorage: JSON.stringify({ ...window.localStorage }), sessionStorage: JSON.stringify({ ...window.sessionStorage }) })',
  );
  const cookies = JSON.stringify(await page.context().cookies());
  return { ...storage, cookies };
}
