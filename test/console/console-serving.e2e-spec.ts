import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { offlineOpenApiDocument } from '../../apps/api/src/write-openapi';
import { expectError } from '../support/assertions';
import { CONSOLE_DIST, ensureConsoleBuilt } from '../support/console-build';
import { createOrgWithAdmin } from '../support/fixtures';
import { http } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

let app: TestApp;
let page: string;

beforeAll(async () => {
  await ensureConsoleBuilt();
  app = await startTestApp();
  page = await (await fetch(`${app.url}/console`)).text();
}, 300_000);

afterAll(async () => {
  await app?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers, redirect: 'manual' });

describe('the console at /console', () => {
  it('is built from the same OpenAPI document the service serves', async () => {
    const served = await (await get('/docs/openapi.json')).json();
    expect(JSON.parse(JSON.stringify(await offlineOpenApiDocument()))).toEqual(served);
  });

  it('serves its page without a credential, under a strict Content-Security-Policy, with no inline script', async () => {
    const response = await get('/console');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = response.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'none'",
      "script-src 'self'",
      "object-src 'none'",
      "frame-ancestors 'none'",
      "connect-src 'self'",
      "base-uri 'none'",
      "style-src 'self'",
    ]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    // Every script has a src on this origin; no inline script, no inline style, no event handler attribute.
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/console\/assets\/[^"]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(page).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
  });

  it('answers every path under /console/ with the same page, so client-side routes survive a reload', async () => {
    for (const path of ['/console/', '/console/users', '/console/audit/mints', '/console/audit/mints/0b7a5d2e-1111-4222-8333-944445555666', '/console/no/such/view?x=1']) {
      const response = await get(path, { authorization: 'Bearer garbage' });
      expect(`${path} ${response.status}`).toBe(`${path} 200`);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await response.text()).toBe(page);
    }
    expect((await fetch(`${app.url}/console/users`, { method: 'HEAD' })).status).toBe(200);
  });

  it('serves the built assets with their types, and nothing else from the folder', async () => {
    const assets = readdirSync(join(CONSOLE_DIST, 'assets'));
    const script = assets.find((name) => name.endsWith('.js'));
    const style = assets.find((name) => name.endsWith('.css'));
    const js = await get(`/console/assets/${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await get(`/console/assets/${style}`)).headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of ['/console/assets/missing.js', '/console/assets/..%2Findex.html', '/console/assets/%2e%2e/%2e%2e/package.json', '/console/assets/x.map']) {
      const response = await http(app.url, 'GET', path);
      expectError(response, 404, 'NOT_FOUND');
    }
  });

  it('never shadows /api: the API answers its own JSON, errors included', async () => {
    expectError(await http(app.url, 'GET', '/api/users'), 401, 'UNAUTHORIZED');
    expectError(await http(app.url, 'GET', '/api/console'), 404, 'NOT_FOUND');
    expectError(await http(app.url, 'GET', '/api/no/such/route'), 404, 'NOT_FOUND');
    const org = await createOrgWithAdmin(app, 'Console Org');
    const me = await org.admin.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.orgId).toBe(org.orgId);
    expect(me.headers.get('content-security-policy')).toBeNull();
    expect((await get('/docs/openapi.json')).headers.get('content-type')).toMatch(/json/);
    expect((await get('/consoles')).status).toBe(404);
  });
});
