import { expectStatus } from './support/assertions';
import { createEndpoint, mintCallToken, setOrg } from './support/call-tokens';
import { createOrgWithAdmin, createUser, OrgFixture } from './support/fixtures';
import { http, HttpResult } from './support/http';
import { createApiKey, putSinchVoice, randomSinchSecret } from './support/minting';
import { discoverRoutes, NestRoute } from './support/routes';
import { startTestApp, TestApp } from './support/test-app';
import { SCOPES } from '../libs/access/src/scopes';

/**
 * Tenant isolation, swept over the route table: every route with a `:param` is called by another org's
 * API key holding all eight scopes, with the first org's real ids, and must answer as if those objects
 * did not exist (404; for a provider name, exactly what the caller gets for a provider nobody
 * configured) and change nothing of the first org in the database. The routes are read from the running
 * app, so a route added tomorrow is swept too; a param the sweep does not know how to fill fails the
 * test, naming the line to add to PARAMS.
 */

/** The objects of one org the sweep fills params with. */
interface OrgObjects {
  fixture: OrgFixture;
  userId: string;
  phoneNumberId: string;
  apiKeyId: string;
  endpointId: string;
  callTokenId: string;
}

/**
 * How to fill a param, keyed by the path segment before it and its name (`users/:id`):
 * - `id`: the id of an org-owned object; another org's must be 404.
 * - `provider`: a provider name, which is no object of anyone's: another org sees its own (unconfigured) view;
 *   `names` are the one org A configured and one no org of this file configures (default: credentials').
 * - `operator`: an org id on the operator's routes (out of this sweep: they refuse every org principal).
 */
type Filler = { kind: 'id'; of: (org: OrgObjects) => string } | { kind: 'provider'; names?: ProviderNames } | { kind: 'operator' };

/** A provider org A configured, and one that no org of this file configures, as a route names them. */
interface ProviderNames {
  configured: string;
  unconfigured: string;
}

const PARAMS: Record<string, Filler> = {
  'users/:id': { kind: 'id', of: (org) => org.userId },
  'phone-numbers/:numberId': { kind: 'id', of: (org) => org.phoneNumberId },
  'api-keys/:id': { kind: 'id', of: (org) => org.apiKeyId },
  'endpoints/:id': { kind: 'id', of: (org) => org.endpointId },
  'call-tokens/:id': { kind: 'id', of: (org) => org.callTokenId },
  'credentials/:provider': { kind: 'provider' },
  // Token policies are per provider of POST /api/tokens/{provider}; org A has a livekit policy.
  'policies/:provider': { kind: 'provider', names: { configured: 'livekit', unconfigured: 'vonage' } },
  // The token routes name the provider that mints: sinch mints with the sinch-voice credentials.
  'tokens/:provider': { kind: 'provider', names: { configured: 'sinch', unconfigured: 'twilio' } },
  'orgs/:orgId': { kind: 'operator' },
};

/** The provider the first org configured, and one that no org of this file configures. */
const CONFIGURED_PROVIDER = 'sinch-voice';
const UNCONFIGURED_PROVIDER = 'twilio';
const CREDENTIAL_NAMES: ProviderNames = { configured: CONFIGURED_PROVIDER, unconfigured: UNCONFIGURED_PROVIDER };

/** Bodies that would succeed on one's own objects, so that the only thing wrong is whose they are. */
const BODIES: Record<string, unknown> = {
  'PATCH /api/users/:id': { name: 'Taken over' },
  'POST /api/users/:id/phone-numbers': { provider: 'twilio', phoneNumber: '+14165550177' },
  'PATCH /api/api-keys/:id': { name: 'Taken over' },
  'PATCH /api/endpoints/:id': { name: 'Taken over' },
};

let app: TestApp;
let routes: NestRoute[];
let a: OrgObjects;
let b: OrgObjects;
/** Org B's API key holding all eight scopes. */
let bKey: string;

const key = (route: NestRoute) => `${route.method} ${route.path}`;

async function objectsOf(name: string, number: string): Promise<OrgObjects> {
  const fixture = await createOrgWithAdmin(app, name);
  await setOrg(fixture, { features: { webrtc: true } });
  const user = await createUser(app, fixture, 'agent');
  const phone = await fixture.admin.post(`/api/users/${user.id}/phone-numbers`, { provider: 'sinch', phoneNumber: number, isDefault: true });
  expectStatus(phone, 201);
  const apiKey = await createApiKey(fixture.admin, ['READ_AUDIT']);
  const endpointId = await createEndpoint(fixture.admin);
  const callToken = await mintCallToken(fixture.admin, endpointId);
  return { fixture, userId: user.id, phoneNumberId: phone.body.id, apiKeyId: apiKey.id, endpointId, callTokenId: callToken.id };
}

/**
 * Every row of org A, as the database owner (row-level security does not apply): each table with an
 * `org_id` (partition parents only), and A's row of `orgs`.
 */
async function snapshotOf(orgId: string): Promise<Record<string, string[]>> {
  const tables = await app.db.query<{ table_name: string }>(
    `SELECT c.table_name FROM information_schema.columns c
       JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = 'public'::regnamespace
      WHERE c.table_schema = 'public' AND c.column_name = 'org_id' AND NOT k.relispartition
      ORDER BY c.table_name`,
  );
  const snapshot: Record<string, string[]> = {};
  for (const { table_name: table } of tables) {
    const rows = await app.db.query<{ row: string }>(`SELECT t::text AS row FROM public."${table}" t WHERE t.org_id = $1 ORDER BY 1`, [orgId]);
    snapshot[table] = rows.map((row) => row.row);
  }
  snapshot.orgs = (await app.db.query<{ row: string }>('SELECT t::text AS row FROM orgs t WHERE t.id = $1', [orgId])).map((row) => row.row);
  return snapshot;
}

/** The `segment/:name` key of each param of a path, in order. */
function paramsOf(path: string): string[] {
  const segments = path.split('/');
  return segments.flatMap((segment, i) => (segment.startsWith(':') ? [`${segments[i - 1]}/${segment}`] : []));
}

function fill(path: string, values: Record<string, string>): string {
  const segments = path.split('/');
  return segments.map((segment, i) => (segment.startsWith(':') ? values[`${segments[i - 1]}/${segment}`] : segment)).join('/');
}

function call(route: NestRoute, path: string): Promise<HttpResult> {
  const body = ['POST', 'PUT', 'PATCH'].includes(route.method) ? (BODIES[key(route)] ?? {}) : undefined;
  return http(app.url, route.method, path, { apiKey: bKey, body });
}

beforeAll(async () => {
  app = await startTestApp();
  routes = discoverRoutes(app);
  a = await objectsOf('Tenant A', '+14165550101');
  b = await objectsOf('Tenant B', '+14165550102');
  await putSinchVoice(a.fixture.admin, 'a32e5a8d-f7d8-411c-9645-9038e8dd051d', randomSinchSecret());
  expectStatus(await a.fixture.admin.put('/api/policies/livekit', { maxTtlSeconds: 900, rooms: ['tenant-a-*'] }), 200);
  bKey = (await createApiKey(b.fixture.admin, [...SCOPES])).token;
});

afterAll(async () => {
  await app?.close();
});

const paramRoutes = () => routes.filter((route) => route.path.includes('/:'));

describe('tenant isolation over the route table', () => {
  it('knows how to fill every param of every route', () => {
    expect(paramRoutes().length).toBeGreaterThanOrEqual(10);
    const unknown = paramRoutes().flatMap((route) =>
      paramsOf(route.path)
        .filter((param) => !(param in PARAMS))
        .map((param) => `${key(route)}: add '${param}' to PARAMS in test/tenant-isolation.e2e-spec.ts (which object's id it names)`),
    );
    expect(unknown).toEqual([]);
  });

  it("answers another org's all-scope key 404 for every id of org A, alone or mixed with its own, and changes nothing of A", async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of paramRoutes()) {
      const params = paramsOf(route.path);
      const fillers = params.map((param) => PARAMS[param]);
      if (fillers.some((filler) => !filler) || fillers.some((filler) => filler.kind !== 'id')) continue;
      // Every way of naming at least one of A's objects: all A's, or A's here and B's own there.
      for (let mask = 1; mask < 1 << params.length; mask++) {
        const values = Object.fromEntries(params.map((param, i) => [param, (PARAMS[param] as { of: (org: OrgObjects) => string }).of(mask & (1 << i) ? a : b)]));
        const path = fill(route.path, values);
        const before = await snapshotOf(a.fixture.orgId);
        const response = await call(route, path);
        const after = await snapshotOf(a.fixture.orgId);
        checked += 1;
        if (response.status !== 404 || response.body?.success !== false)
          failures.push(`${route.method} ${path} (${key(route)}) → ${response.status} ${response.text.slice(0, 200)}`);
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${route.method} ${path} (${key(route)}) changed org A's rows`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(failures).toEqual([]);
  });

  it('shows another org its own view of a provider org A configured: what it gets for a provider nobody configured', async () => {
    const failures: string[] = [];
    let checked = 0;
    const secretRow = (await app.db.query<{ row: string }>('SELECT t::text AS row FROM credentials t WHERE t.org_id = $1', [a.fixture.orgId])).map((row) => row.row);
    expect(secretRow).toHaveLength(1);
    const policyRow = (await app.db.query<{ row: string }>('SELECT t::text AS row FROM token_policies t WHERE t.org_id = $1', [a.fixture.orgId])).map((row) => row.row);
    expect(policyRow).toHaveLength(1);
    for (const route of paramRoutes()) {
      const params = paramsOf(route.path);
      if (!params.some((param) => PARAMS[param]?.kind === 'provider')) continue;
      if (params.some((param) => PARAMS[param]?.kind !== 'provider')) {
        failures.push(`${key(route)}: mixes a provider with other params; teach the sweep how to fill it`);
        continue;
      }
      const names = params.map((param) => (PARAMS[param] as { names?: ProviderNames }).names ?? CREDENTIAL_NAMES);
      const at = (which: keyof ProviderNames) => fill(route.path, Object.fromEntries(params.map((param, i) => [param, names[i][which]])));
      const control = await call(route, at('unconfigured'));
      const before = await snapshotOf(a.fixture.orgId);
      const response = await call(route, at('configured'));
      const after = await snapshotOf(a.fixture.orgId);
      checked += 1;
      if (response.status !== control.status || response.body?.code !== control.body?.code) {
        failures.push(
          `${route.method} ${at('configured')} → ${response.status} ${response.body?.code}, but ${control.status} ${control.body?.code} for ${at('unconfigured')}`,
        );
      }
      // The evaluate route shows a judgement (of B's own, empty, policy), never A's rules.
      if (response.status < 400 && route.method === 'GET' && !route.path.endsWith('/evaluate'))
        failures.push(`${route.method} ${at('configured')} showed something: ${response.text.slice(0, 200)}`);
      if (response.text.includes('a32e5a8d-f7d8-411c-9645-9038e8dd051d')) failures.push(`${route.method} ${at('configured')} showed org A's applicationKey`);
      if (response.text.includes('tenant-a-')) failures.push(`${route.method} ${at('configured')} showed org A's policy`);
      if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${route.method} ${at('configured')} changed org A's rows`);
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    expect(failures).toEqual([]);
  });

  it('refuses the operator routes to the key, whichever org id they name, changing nothing', async () => {
    let checked = 0;
    for (const route of paramRoutes().filter((item) => paramsOf(item.path).some((param) => PARAMS[param]?.kind === 'operator'))) {
      expect(`${key(route)} ${route.rule?.kind}`).toBe(`${key(route)} operator`);
      const before = await snapshotOf(a.fixture.orgId);
      const response = await call(route, fill(route.path, Object.fromEntries(paramsOf(route.path).map((param) => [param, a.fixture.orgId]))));
      expect(`${key(route)} → ${response.status} ${response.body?.code}`).toBe(`${key(route)} → 403 OPERATOR_ONLY`);
      expect(await snapshotOf(a.fixture.orgId)).toEqual(before);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(3);
  });

  it("the same calls with B's own ids reach B's objects (the sweep's bodies and ids are good ones)", async () => {
    // Only reads: a 404 above means "not yours", not "not a valid request".
    for (const route of paramRoutes().filter((item) => item.method === 'GET' && paramsOf(item.path).every((param) => PARAMS[param]?.kind === 'id'))) {
      const values = Object.fromEntries(paramsOf(route.path).map((param) => [param, (PARAMS[param] as { of: (org: OrgObjects) => string }).of(b)]));
      const response = await call(route, fill(route.path, values));
      expect(`${key(route)} → ${response.status}`).toBe(`${key(route)} → 200`);
    }
  });
});
