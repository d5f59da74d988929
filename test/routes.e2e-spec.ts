import { randomUUID } from 'node:crypto';
import { Scope, SCOPES } from '../libs/access/src/scopes';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { http } from './support/http';
import { discoverRoutes, NestRoute } from './support/routes';
import { startTestApp, TestApp } from './support/test-app';

let app: TestApp;
let routes: NestRoute[];
let org: OrgFixture;

const EXPECTED_PUBLIC = ['GET /health', 'GET /health/ready', 'GET /metrics', 'POST /api/auth/login'];
const REDEEM = 'POST /api/call-tokens/redeem';

/**
 * Who may call each route, from the contract (/work/shared/API.md): `public`, `operator`, `any-principal`,
 * or the scopes it requires (joined with ` + `, sorted; ` | ` when any one of them will do). Compared both ways with what the routes declare,
 * so a route added, removed or re-scoped without the contract's say fails here. Routes the contract
 * lists without a scope of their own take their section's (`GET /api/endpoints/{id}`: MANAGE_ENDPOINTS).
 */
const ACCESS: Record<string, string> = {
  'GET /health': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/call-tokens/redeem': 'public',
  'GET /api/auth/me': 'any-principal',
  'POST /api/orgs': 'operator',
  'GET /api/orgs/:orgId': 'operator',
  'PATCH /api/orgs/:orgId': 'operator',
  'POST /api/orgs/:orgId/users': 'operator',
  'POST /api/users': 'MANAGE_USERS',
  'GET /api/users': 'MANAGE_USERS',
  'GET /api/users/:id': 'MANAGE_USERS',
  'PATCH /api/users/:id': 'MANAGE_USERS',
  'DELETE /api/users/:id': 'MANAGE_USERS',
  'POST /api/users/:id/phone-numbers': 'MANAGE_USERS',
  'GET /api/users/:id/phone-numbers': 'MANAGE_USERS',
  'DELETE /api/users/:id/phone-numbers/:numberId': 'MANAGE_USERS',
  'POST /api/api-keys': 'MANAGE_API_KEYS',
  'GET /api/api-keys': 'MANAGE_API_KEYS',
  'PATCH /api/api-keys/:id': 'MANAGE_API_KEYS',
  'DELETE /api/api-keys/:id': 'MANAGE_API_KEYS',
  'GET /api/credentials': 'MANAGE_CREDENTIALS',
  'GET /api/credentials/:provider': 'MANAGE_CREDENTIALS',
  'PUT /api/credentials/:provider': 'MANAGE_CREDENTIALS',
  'DELETE /api/credentials/:provider': 'MANAGE_CREDENTIALS',
  'POST /api/credentials/:provider/verify': 'MANAGE_CREDENTIALS',
  'GET /api/calls/token/sinch': 'CREATE_CALL_TOKEN',
  'GET /api/calls/token/twilio': 'CREATE_CALL_TOKEN',
  'POST /api/chat/tokens': 'CREATE_CHAT_TOKEN',
  // CREATE_CHAT_TOKEN instead for a chat-only token (twilio conversations/sync; agora service "rtm", test/tokens-agora.e2e-spec.ts), decided from the body (test/tokens-route.e2e-spec.ts).
  'POST /api/tokens/:provider': 'CREATE_CALL_TOKEN',
  'POST /api/endpoints': 'MANAGE_ENDPOINTS',
  'GET /api/endpoints': 'MANAGE_ENDPOINTS',
  'GET /api/endpoints/:id': 'MANAGE_ENDPOINTS',
  'PATCH /api/endpoints/:id': 'MANAGE_ENDPOINTS',
  'POST /api/call-tokens': 'CREATE_CALL_TOKEN',
  'GET /api/call-tokens/:id': 'READ_CALL_TOKEN',
  'DELETE /api/call-tokens/:id': 'CREATE_CALL_TOKEN',
  'GET /api/audit/mints': 'READ_AUDIT',
  'GET /api/audit/mints/export': 'READ_AUDIT',
  'GET /api/audit/mints/stats': 'READ_AUDIT',
  'GET /api/audit/verify': 'READ_AUDIT',
  'GET /api/audit/public-keys': 'READ_AUDIT',
  'GET /api/audit/events': 'READ_AUDIT',
  'GET /api/policies': 'MANAGE_CREDENTIALS | READ_AUDIT',
  'GET /api/policies/:provider': 'MANAGE_CREDENTIALS | READ_AUDIT',
  'GET /api/policies/:provider/evaluate': 'MANAGE_CREDENTIALS | READ_AUDIT',
  'PUT /api/policies/:provider': 'MANAGE_CREDENTIALS',
  'DELETE /api/policies/:provider': 'MANAGE_CREDENTIALS',
};

/** A route's declared access in the notation of ACCESS. */
function declaredAccess(route: NestRoute): string {
  if (!route.rule) return '(none)';
  return route.rule.kind === 'scopes' ? [...route.rule.scopes].sort().join(route.rule.anyOf ? ' | ' : ' + ') : route.rule.kind;
}

/** Fastify's own route table (every route, Nest's or not), from printRoutes' tree. */
function fastifyRoutes(testApp: TestApp): string[] {
  const tree = testApp.app.getHttpAdapter().getInstance().printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const result: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)(?:├── |└── )(.*?)(?: \(([^)]*)\))?$/.exec(line.replace(/\s+$/, ''));
    if (!match) continue;
    const depth = match[1].length / 4;
    const path = (depth > 0 ? stack[depth - 1] : '') + match[2];
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of (match[3] ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)) {
      if (method !== 'HEAD') result.push(`${method} ${path}`);
    }
  }
  return result;
}

const key = (route: NestRoute) => `${route.method} ${route.path}`;
const concrete = (path: string) => path.replace(/:[A-Za-z0-9_]+/g, () => randomUUID());

function send(route: NestRoute, headers: Record<string, string> = {}) {
  const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? {} : undefined;
  return http(app.url, route.method, concrete(route.path), { body, headers });
}

beforeAll(async () => {
  app = await startTestApp();
  routes = discoverRoutes(app);
  org = await createOrgWithAdmin(app, 'Routes Org');
});

afterAll(async () => {
  await app?.close();
});

describe('the route table', () => {
  it('finds the routes of the foundation', () => {
    const keys = routes.map(key);
    for (const expected of [
      ...EXPECTED_PUBLIC,
      'GET /api/auth/me',
      'POST /api/orgs',
      'GET /api/orgs/:orgId',
      'PATCH /api/orgs/:orgId',
      'POST /api/orgs/:orgId/users',
      'POST /api/users',
      'GET /api/users',
      'GET /api/users/:id',
      'PATCH /api/users/:id',
      'DELETE /api/users/:id',
      'POST /api/api-keys',
      'GET /api/api-keys',
      'PATCH /api/api-keys/:id',
      'DELETE /api/api-keys/:id',
    ]) {
      expect(keys).toContain(expected);
    }
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every Nest route an access rule', () => {
    const undeclared = routes.filter((route) => !route.rule).map((route) => `${key(route)} (${route.controller}.${route.handler})`);
    expect(undeclared).toEqual([]);
    for (const route of routes) expect(['public', 'scopes', 'operator', 'any-principal']).toContain(route.rule?.kind);
  });

  it('declares at least one known scope on every scoped route', () => {
    for (const route of routes.filter((item) => item.rule?.kind === 'scopes')) {
      const scopes = (route.rule as { scopes: readonly Scope[] }).scopes;
      expect({ route: key(route), scopes: scopes.length > 0 }).toEqual({ route: key(route), scopes: true });
      for (const scope of scopes) expect(SCOPES).toContain(scope);
    }
  });

  it('opens exactly the public routes of the contract', () => {
    const keys = routes.map(key);
    // The redeem route is public by contract; its absence is a failure, not a smaller expectation.
    expect(keys).toContain(REDEEM);
    const expected = [...EXPECTED_PUBLIC, REDEEM].sort();
    const open = routes
      .filter((route) => route.rule?.kind === 'public')
      .map(key)
      .sort();
    expect(open).toEqual(expected);
  });

  it('pins every route to the access the contract gives it, both ways', () => {
    const declared = new Map(routes.map((route) => [key(route), declaredAccess(route)]));
    const unlisted = [...declared.keys()].filter((route) => !(route in ACCESS)).map((route) => `${route} (declares ${declared.get(route)}): add it to ACCESS`);
    const gone = Object.keys(ACCESS)
      .filter((route) => !declared.has(route))
      .map((route) => `${route}: in ACCESS but not served`);
    const mismatched = Object.entries(ACCESS)
      .filter(([route, access]) => declared.has(route) && declared.get(route) !== access)
      .map(([route, access]) => `${route}: the contract says ${access}, the route declares ${declared.get(route)}`);
    expect({ unlisted, gone, mismatched }).toEqual({ unlisted: [], gone: [], mismatched: [] });
  });

  it('serves no Fastify route that is not a Nest route, apart from the Swagger UI under /docs and the console at /console', () => {
    const nest = new Set(routes.map(key));
    const extra = fastifyRoutes(app).filter((route) => !nest.has(route));
    expect(extra.length).toBeGreaterThan(0); // the docs routes are there, so the tree was read
    // The console (apps/api/src/console/console-routes.ts): a public page and its assets, outside Nest and its guard.
    // (printRoutes prints the wildcard of /console/* under /console's node, which reads as /console*.)
    expect(extra.filter((route) => route.startsWith('GET /console'))).toEqual(['GET /console', 'GET /console*']);
    for (const route of extra) expect(route).toMatch(/^GET \/(docs(\/|-|$)|console\*?$)/);
    for (const route of routes) expect(fastifyRoutes(app)).toContain(key(route));
  });
});

describe('every route behaves as it declares', () => {
  it('answers 401 UNAUTHORIZED without a credential on every non-public route', async () => {
    for (const route of routes.filter((item) => item.rule?.kind !== 'public')) {
      const response = await send(route);
      expect(`${key(route)} -> ${response.status}`).toBe(`${key(route)} -> 401`);
      expectError(response, 401, 'UNAUTHORIZED');
    }
  });

  it('answers 401 UNAUTHORIZED with a garbage credential on every non-public route', async () => {
    for (const route of routes.filter((item) => item.rule?.kind !== 'public')) {
      const response = await send(route, { authorization: 'Bearer garbage' });
      expect(`${key(route)} -> ${response.status}`).toBe(`${key(route)} -> 401`);
    }
  });

  it('never answers 401 on a public route without a credential', async () => {
    for (const route of routes.filter((item) => item.rule?.kind === 'public')) {
      const response = await send(route);
      expect(`${key(route)} -> ${response.status}`).not.toMatch(/-> (401|403|5\d\d)$/);
    }
  });

  it('answers the operator 403 MISSING_SCOPE on every scoped route', async () => {
    for (const route of routes.filter((item) => item.rule?.kind === 'scopes')) {
      const response = await send(route, { authorization: `Bearer ${app.operatorToken}` });
      expect(`${key(route)} -> ${response.status} ${response.body?.code}`).toBe(`${key(route)} -> 403 MISSING_SCOPE`);
    }
  });

  it('answers an org admin 403 OPERATOR_ONLY on every operator route', async () => {
    for (const route of routes.filter((item) => item.rule?.kind === 'operator')) {
      const response = await send(route, { authorization: `Bearer ${org.adminToken}` });
      expect(`${key(route)} -> ${response.status} ${response.body?.code}`).toBe(`${key(route)} -> 403 OPERATOR_ONLY`);
    }
  });

  it('answers 403 MISSING_SCOPE to an API key that lacks one of the route scopes', async () => {
    // Feature-gated routes answer FEATURE_DISABLED before looking at scopes; switch the features on.
    expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { features: { webrtc: true } }), 200);
    const keys = new Map<Scope, string>();
    for (const scope of SCOPES) {
      const created = await org.admin.post('/api/api-keys', { name: `only ${scope}`, scopes: [scope] });
      expectStatus(created, 201);
      keys.set(scope, created.body.token);
    }
    for (const route of routes.filter((item) => item.rule?.kind === 'scopes')) {
      const needed = (route.rule as { scopes: readonly Scope[] }).scopes;
      const lacking = SCOPES.find((scope) => !needed.includes(scope));
      if (!lacking) continue;
      const response = await send(route, { authorization: `Bearer ${keys.get(lacking)}` });
      expect(`${key(route)} with only ${lacking} -> ${response.status} ${response.body?.code}`).toBe(`${key(route)} with only ${lacking} -> 403 MISSING_SCOPE`);
    }
  });

  it('lets in an API key holding any one of the scopes of a route that takes either', async () => {
    const either = routes.filter((item) => item.rule?.kind === 'scopes' && item.rule.anyOf);
    expect(either.length).toBeGreaterThan(0);
    for (const route of either) {
      for (const scope of (route.rule as { scopes: readonly Scope[] }).scopes) {
        const created = await org.admin.post('/api/api-keys', { name: `either ${scope}`, scopes: [scope] });
        expectStatus(created, 201);
        const response = await send(route, { authorization: `Bearer ${created.body.token}` });
        expect(`${key(route)} with only ${scope} -> ${response.status}`).not.toMatch(/-> (401|403)$/);
      }
    }
  });
});

describe('OpenAPI', () => {
  it('serves /docs/openapi.json listing every route and method', async () => {
    const response = await http(app.url, 'GET', '/docs/openapi.json');
    expectStatus(response, 200);
    expect(response.body.openapi).toMatch(/^3\./);
    const paths = response.body.paths as Record<string, Record<string, unknown>>;
    const missing = routes
      .map((route) => ({ route, openapiPath: route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}') }))
      .filter(({ route, openapiPath }) => !paths[openapiPath]?.[route.method.toLowerCase()])
      .map(({ route }) => key(route));
    expect(missing).toEqual([]);
  });

  it('marks every authenticated operation with a security requirement and the public ones without', async () => {
    const paths = (await http(app.url, 'GET', '/docs/openapi.json')).body.paths as Record<string, Record<string, { security?: unknown[] }>>;
    for (const route of routes) {
      const operation = paths[route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')][route.method.toLowerCase()];
      const secured = (operation.security ?? []).length > 0;
      expect({ route: key(route), secured }).toEqual({ route: key(route), secured: route.rule?.kind !== 'public' });
    }
  });

  it('serves the Swagger UI at /docs', async () => {
    const response = await http(app.url, 'GET', '/docs');
    expect([200, 301, 302]).toContain(response.status);
    const page = response.status === 200 ? response : await http(app.url, 'GET', '/docs/');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/swagger/i);
  });
});
