import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { SCOPES } from '../libs/access/src/scopes';
import { expectStatus } from './support/assertions';
import { createOrgWithAdmin, createUser, OrgFixture, PASSWORD, uniqueEmail } from './support/fixtures';
import { client } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, verifySinchToken } from './support/minting';
import { discoverRoutes } from './support/routes';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Hostile input (issue: "a test sprays every route with malformed JSON, wrong types, huge and deeply
 * nested bodies, prototype-pollution keys, SQL fragments, NUL bytes and oversize strings: never a 5xx,
 * every error in the envelope, the service still serving").
 *
 * Every route the application serves (its OpenAPI document, cross-checked against Nest's router) is sent,
 * with the right kind of credential for it (operator token for the operator routes, an admin's access
 * token or an all-scopes API key for the others, nothing for the public ones):
 *  - path parameters: random UUIDs, SQL fragments, %00, bad %-encodings, path tricks, long strings, and
 *    the ids of objects this test is willing to lose;
 *  - query parameters: the same garbage in each documented parameter and in unknown ones;
 *  - bodies: malformed JSON, wrong types for every field, a ~60 KiB string in every string field, more
 *    than 64 KiB, 10 000-deep arrays and objects, __proto__ and constructor.prototype keys, SQL fragments,
 *    NUL bytes and unicode oddities in every string field, non-object JSON, invalid UTF-8, other media types.
 * Every answer must be below 500, carry X-Request-Id, and when it is not a 2xx be exactly the envelope
 * `{success: false, error, code, requestId, details?}` with that request id. Afterwards the service must
 * still be ready and mint, its tables intact, and Object.prototype (the server runs in this process)
 * unpolluted. The cases are many, so they are sampled with a seeded PRNG (seed printed; see SEED below).
 */

/**
 * A fixed seed unless HOSTILE_SEED says otherwise, so CI sends the same cases every run (a failure is never
 * luck); HOSTILE_SEED=<n> replays a run, HOSTILE_SEED=random explores new cases.
 */
const DEFAULT_SEED = 20261126;
const SEED = process.env.HOSTILE_SEED === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.HOSTILE_SEED ?? DEFAULT_SEED);
// Printed up front, so a failing run can be replayed with HOSTILE_SEED=<seed>.
console.log(`hostile input: seed ${SEED} (replay with HOSTILE_SEED=${SEED})`);
/** Upper bound on requests, to keep the run short (HOSTILE_MAX=100000 sends every case). */
const MAX_REQUESTS = Number(process.env.HOSTILE_MAX ?? 2600);
const CONCURRENCY = 8;

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
function sample<T>(items: readonly T[], count: number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, count);
}

// ---------------------------------------------------------------------------------------------------
// The hostile values
// ---------------------------------------------------------------------------------------------------

const SQL_FRAGMENTS = [
  "'; DROP TABLE users;--",
  "' OR '1'='1",
  '" OR 1=1 --',
  '1; SELECT pg_sleep(10)--',
  "admin'--",
  "') UNION SELECT password_hash FROM users--",
  '$1',
  "E'\\x00'",
  '%',
  '_',
  '\\',
];
const NUL_STRINGS = ['\u0000', 'abc\u0000def', '\u0000\u0000\u0000', `${'x'.repeat(20)}\u0000`];
const UNICODE_ODDITIES = [
  '\u202eevil\u202c', // right-to-left override
  'zero\u200bwidth\u200d',
  '\ufeffbom',
  '\ud800', // lone high surrogate
  '\udfff lone low',
  '𝕳𝖊𝖑𝖑𝖔 🏳️‍🌈 👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301\u0301', // stacked combining marks
  'İSTANBUL', // lower-cases to a longer string
  '\uffff\ufffe',
  '\u001b[31mred\u001b[0m', // ANSI escape (log injection)
  'line\r\nInjected-Header: yes',
  '{"json":"in a string"}',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
];
const STRINGS = [...SQL_FRAGMENTS, ...NUL_STRINGS, ...UNICODE_ODDITIES];
const BIG_STRING = 'A'.repeat(60 * 1024); // ~60 KiB: fits under the 64 KiB body limit

/** Path parameter values, already %-encoded where they must be (some are deliberately raw). */
const GARBAGE_PATH_VALUES = [
  encodeURIComponent("'; DROP TABLE users;--"),
  encodeURIComponent("1' OR '1'='1"),
  '%00',
  'abc%00def',
  `${randomUUID()}%00`,
  '%E0%A4%A', // bad %-encoding
  '%C0%AF', // overlong UTF-8
  '%FF%FE',
  '%F0%9F%98%80',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  'a'.repeat(3000),
  encodeURIComponent('ü'.repeat(500)),
  '00000000-0000-0000-0000-000000000000',
  'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF',
  `${randomUUID()}x`,
  '-1',
  '99999999999999999999999999',
  '__proto__',
  'constructor',
  'null',
  encodeURIComponent('{"$gt":""}'),
  encodeURIComponent('\u202e\u200b'),
];

const QUERY_VALUES = [
  ...SQL_FRAGMENTS.map(encodeURIComponent),
  '%00',
  'a%00b',
  '%E0%A4%A',
  encodeURIComponent('x'.repeat(4000)),
  ...UNICODE_ODDITIES.filter((value) => !/[\ud800-\udfff]/.test(value) || /[\ud800-\udbff][\udc00-\udfff]/.test(value)).map((value) => encodeURIComponent(value)),
  '%ED%A0%80', // a lone surrogate, as UTF-8 bytes
  '-1',
  '0',
  '1e309',
  '0x10',
  'NaN',
  'Infinity',
  '2026-13-45T99:99:99Z',
  encodeURIComponent('2026-01-01T00:00:00+99:00'),
  '',
  encodeURIComponent(Buffer.from('{"at":"x","id":"\u0000"}').toString('base64url')),
];

/** Values of the wrong type for a schema type. */
function wrongTypes(schema: Schema | undefined): unknown[] {
  const type = schema?.type;
  const common: unknown[] = [null, [], {}, [null], { $gt: '' }, [[[]]]];
  switch (type) {
    case 'string':
      return [...common, 123, -1.5, true, false, ['a'], { value: 'a' }, 1e308];
    case 'number':
    case 'integer':
      return [...common, '12', '', 'NaN', true, 1.5, -1, 0, 1e308, -1e308, 2 ** 53 + 1, '1e999', [1]];
    case 'boolean':
      return [...common, 'true', 'false', 1, 0, 'yes', [true]];
    case 'array':
      return [...common.filter((value) => !Array.isArray(value)), 'a', 1, true, [1, 2, 3], [{}], ['NOT_A_SCOPE'], Array.from({ length: 2000 }, () => 'MANAGE_USERS')];
    case 'object':
      return [...common.filter((value) => typeof value !== 'object' || value === null || Array.isArray(value)), 'a', 1, true, { a: { b: { c: [] } } }];
    default:
      return [...common, 'a', 1, true];
  }
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}
function deepObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

// ---------------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------------

interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  example?: unknown;
  minimum?: number;
  $ref?: string;
  nullable?: boolean;
}

interface Route {
  method: string;
  /** OpenAPI style: /api/users/{id} */
  path: string;
  params: string[];
  query: Array<{ name: string; schema?: Schema }>;
  body?: Schema;
  public: boolean;
}

type Credential = 'none' | 'operator' | 'admin' | 'apiKey';

function resolveRef(document: any, schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  if (schema.$ref) return resolveRef(document, document.components.schemas[schema.$ref.split('/').pop()!]);
  if (schema.properties) {
    return { ...schema, properties: Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, resolveRef(document, property)!])) };
  }
  return schema;
}

function routesFromOpenApi(document: any): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries<any>(document.paths)) {
    for (const [method, operation] of Object.entries<any>(operations)) {
      const parameters: any[] = operation.parameters ?? [];
      routes.push({
        method: method.toUpperCase(),
        path,
        params: [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]),
        query: parameters.filter((parameter) => parameter.in === 'query').map((parameter) => ({ name: parameter.name, schema: parameter.schema })),
        body: resolveRef(document, operation.requestBody?.content?.['application/json']?.schema),
        public: !operation.security || operation.security.length === 0,
      });
    }
  }
  return routes;
}

/** Every route Nest registered, as `METHOD /path/{param}` (the document's notation). */
function routesFromNest(app: TestApp): string[] {
  return discoverRoutes(app).map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, '{$1}')}`);
}

// ---------------------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------------------

interface Case {
  label: string;
  method: string;
  path: string;
  credential: Credential;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  ms: number;
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/** node:http, so that raw (badly encoded) paths and bodies on any method go out exactly as written. */
function send(baseUrl: string, item: Case, credentials: Record<Credential, Record<string, string>>): Promise<Answer | { error: string; ms: number }> {
  const url = new URL(baseUrl);
  const started = Date.now();
  const headers: Record<string, string> = { ...credentials[item.credential], ...item.headers };
  if (item.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(item.body));
  }
  return new Promise((resolve) => {
    let request;
    try {
      request = httpRequest({ agent, host: url.hostname, port: url.port, method: item.method, path: item.path, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8'), ms: Date.now() - started }),
        );
        response.on('error', (error) => resolve({ error: `response: ${error.message}`, ms: Date.now() - started }));
      });
    } catch (error) {
      // The client itself refused to send it (e.g. an unescaped character): a bug in this test's cases.
      resolve({ error: `not sendable: ${(error as Error).message}`, ms: 0 });
      return;
    }
    request.on('error', (error) => resolve({ error: `request: ${error.message}`, ms: Date.now() - started }));
    if (item.body !== undefined) request.write(item.body);
    request.end();
  });
}

/** What is wrong with an answer, if anything. */
function problemWith(answer: Answer): string | undefined {
  const requestId = answer.headers['x-request-id'];
  if (typeof requestId !== 'string' || requestId.length === 0) return 'no X-Request-Id header';
  if (answer.status >= 500) return `status ${answer.status}`;
  if (answer.status < 400) return undefined;
  if (!/^application\/json\b/.test(String(answer.headers['content-type']))) return `error answer is ${answer.headers['content-type']}`;
  let body: any;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return 'error answer is not JSON';
  }
  const keys = Object.keys(body ?? {}).sort();
  const expected = body?.details === undefined ? ['code', 'error', 'requestId', 'success'] : ['code', 'details', 'error', 'requestId', 'success'];
  if (JSON.stringify(keys) !== JSON.stringify(expected)) return `envelope keys ${keys.join(',')}`;
  if (body.success !== false) return 'success is not false';
  if (typeof body.error !== 'string' || body.error.length === 0) return 'no error message';
  if (typeof body.code !== 'string' || !/^[A-Z][A-Z_]*$/.test(body.code)) return `code ${JSON.stringify(body.code)}`;
  if (body.requestId !== requestId) return 'requestId differs from X-Request-Id';
  if (body.details !== undefined) {
    if (!Array.isArray(body.details) || body.details.length === 0) return 'details is not a non-empty array';
    for (const detail of body.details) {
      if (typeof detail?.field !== 'string' || typeof detail?.message !== 'string' || Object.keys(detail).length !== 2) return `detail ${JSON.stringify(detail)}`;
    }
  }
  if (answer.status === 429 && !/^\d+$/.test(String(answer.headers['retry-after']))) return '429 without Retry-After';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------------

let app: TestApp;
let org: OrgFixture;
let apiKey: string;
let sacrifice: { userId: string; apiKeyId: string; endpointId: string; orgId: string };
const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();

beforeAll(async () => {
  app = await startTestApp();
  org = await createOrgWithAdmin(app, 'Hostile Org');
  // WebRTC on, so the endpoint and call-token routes get past the feature gate to their validation.
  expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { features: { webrtc: true }, limits: { mintsPerMinute: 1_000_000 } }), 200);
  await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET);
  apiKey = (await createApiKey(org.admin, [...SCOPES], 'hostile all scopes')).token;
  // Objects the spray may change or delete through their real ids.
  const victim = await createUser(app, org, 'agent');
  const doomedKey = await createApiKey(org.admin, ['READ_AUDIT'], 'doomed');
  const endpoint = await org.admin.post('/api/endpoints', { name: 'Doomed line', webrtc: true });
  expectStatus(endpoint, 201);
  const otherOrg = await org.operator.post('/api/orgs', { name: 'Doomed Org' });
  expectStatus(otherOrg, 201);
  sacrifice = { userId: victim.id, apiKeyId: doomedKey.id, endpointId: endpoint.body.id, orgId: otherOrg.body.id };
});

afterAll(async () => {
  agent.destroy();
  await app?.close();
});

/** A plausible value for a field, so that one bad field at a time reaches validation (and sometimes the service). */
function plausible(name: string, schema: Schema | undefined): unknown {
  if (!schema) return 'x';
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'number':
    case 'integer':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return schema.items?.enum?.length ? [schema.items.enum[0]] : [];
    case 'object':
      return schema.properties ? plausibleBody(schema) : {};
    default:
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'date-time') return new Date(Date.now() + 86_400_000).toISOString();
      if (/email/i.test(name)) return uniqueEmail('hostile');
      if (/password/i.test(name)) return `${PASSWORD} ${randomBytes(3).toString('hex')}`;
      if (/phone/i.test(name)) return '+14165550123';
      return (schema.example as string) ?? 'hostile';
  }
}

function plausibleBody(schema: Schema | undefined): Record<string, unknown> {
  if (!schema?.properties) return { name: 'hostile' };
  return Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, plausible(name, property)]));
}

function stringFields(schema: Schema | undefined): string[] {
  if (!schema?.properties) return ['name'];
  const names = Object.entries(schema.properties)
    .filter(([, property]) => !property.type || property.type === 'string')
    .map(([name]) => name);
  return names.length > 0 ? names : Object.keys(schema.properties);
}

function fillPath(route: Route, values: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? randomUUID());
}

/** The real id of a sacrificial object for this parameter, where the test has one. */
function realId(route: Route, param: string): string | undefined {
  if (param === 'orgId') return sacrifice.orgId;
  if (param === 'provider') return 'twilio';
  if (param !== 'id') return undefined;
  if (route.path.startsWith('/api/users/')) return sacrifice.userId;
  if (route.path.startsWith('/api/api-keys/')) return sacrifice.apiKeyId;
  if (route.path.startsWith('/api/endpoints/')) return sacrifice.endpointId;
  return undefined;
}

function credentialFor(route: Route, index: number): Credential {
  if (route.public) return 'none';
  if (route.path.startsWith('/api/orgs')) return 'operator';
  return index % 2 === 0 ? 'admin' : 'apiKey';
}

function casesFor(route: Route, routeIndex: number): Case[] {
  const cases: Case[] = [];
  const hasBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method);
  let counter = routeIndex;
  const add = (label: string, path: string, body?: string | Buffer, headers?: Record<string, string>, credential?: Credential) =>
    cases.push({ label, method: route.method, path, body, headers, credential: credential ?? credentialFor(route, counter++) });
  const basePath = () => fillPath(route, {});
  const base = plausibleBody(route.body);
  const json = (value: unknown) => JSON.stringify(value);
  const plainBody = hasBody && route.method !== 'DELETE' ? json(base) : undefined;

  // Path parameters: garbage in each, and the real ids of the sacrificial objects.
  for (const param of route.params) {
    for (const value of GARBAGE_PATH_VALUES) add(`path ${param}=${value.slice(0, 40)}`, fillPath(route, { [param]: value }), plainBody);
    const real = realId(route, param);
    if (real) add(`path ${param}=<real>`, fillPath(route, { [param]: real }), plainBody);
  }

  // Query parameters: garbage in every documented one, and unknown or repeated ones.
  const queryNames = [...route.query.map((parameter) => parameter.name), 'userId', 'unknown'];
  for (const name of queryNames) {
    for (const value of sample(QUERY_VALUES, 6)) add(`query ${name}=${value.slice(0, 40)}`, `${basePath()}?${name}=${value}`, plainBody);
  }
  add('query repeated', `${basePath()}?${queryNames[0]}=1&${queryNames[0]}=2&${queryNames[0]}=${encodeURIComponent("'--")}`, plainBody);
  add('query __proto__', `${basePath()}?__proto__[admin]=true&__proto__.admin=true&constructor[prototype][admin]=true`, plainBody);
  add('query huge', `${basePath()}?${queryNames[0]}=${'q'.repeat(7000)}`, plainBody);

  // Credentials that are garbage (protected routes): the auth layer gets hostile input too.
  if (!route.public) {
    const path = basePath();
    add('auth: SQL bearer', path, plainBody, { authorization: `Bearer ${encodeURIComponent("' OR 1=1--")}` }, 'none');
    add('auth: long bearer', path, plainBody, { authorization: `Bearer ${'b'.repeat(8000)}` }, 'none');
    add('auth: mlk_ garbage', path, plainBody, { 'x-api-key': `mlk_${"'; DROP TABLE api_keys;--".replace(/\W/g, '_')}` }, 'none');
    add(
      'auth: JWT alg none',
      path,
      plainBody,
      { authorization: `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"\' OR 1=1"}').toString('base64url')}.` },
      'none',
    );
    add('auth: Basic', path, plainBody, { authorization: 'Basic YWRtaW46YWRtaW4=' }, 'none');
  }

  // Bodies. GET routes get a few too (a body on GET must not matter).
  const bodies: Array<[string, string | Buffer, Record<string, string>?]> = [];
  for (const text of ['{', '{"a":', '{"a":1}}', "{'a':1}", '[1,2,', 'nul', '{"a":1,}', '{"a":undefined}', '\u0000', '{"a":"\\u00"}', ' ', '{"a":NaN}', '01']) {
    bodies.push([`malformed ${JSON.stringify(text)}`, text]);
  }
  for (const value of [[], null, 'string', 123, true, [base], [{}]]) bodies.push([`JSON ${JSON.stringify(value).slice(0, 30)}`, json(value)]);
  bodies.push(['over 64 KiB', json({ ...base, padding: 'p'.repeat(70 * 1024) })]);
  bodies.push(['10 000-deep array', deepArray(10_000)]);
  bodies.push(['10 000-deep object', deepObject(10_000)]);
  bodies.push(['__proto__', '{"__proto__": {"admin": true}}']);
  bodies.push(['constructor.prototype', '{"constructor": {"prototype": {"admin": true}}}']);
  bodies.push(['__proto__ with a valid body', json(base).replace(/^\{/, '{"__proto__": {"admin": true, "isAdmin": true},')]);
  bodies.push(['nested __proto__', json({ ...base, nested: JSON.parse('{"__proto__": {"admin": true}}') }).replace('"nested":{}', '"nested":{"__proto__":{"admin":true}}')]);
  bodies.push(['constructor.prototype with a valid body', json(base).replace(/^\{/, '{"constructor": {"prototype": {"admin": true}},')]);
  bodies.push(['invalid UTF-8', Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc0, 0xaf, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')])]);
  bodies.push(['duplicate keys', `{"name":"a","name":{"x":1},"role":"admin","role":["admin"]}`]);
  bodies.push(['huge numbers', `{"ttl":1e999999,"limit":-0,"n":123456789012345678901234567890,"mintsPerMinute":1e309}`]);
  bodies.push(['text/plain', 'name=x', { 'content-type': 'text/plain' }]);
  bodies.push(['form', 'name=x&__proto__[admin]=true', { 'content-type': 'application/x-www-form-urlencoded' }]);
  bodies.push(['json with charset and odd type', json(base), { 'content-type': 'application/json; charset=utf-16' }]);
  bodies.push(['no content-type', json(base), { 'content-type': '' }]);
  bodies.push(['deep field', `{"name":${deepArray(10_000)}}`]);
  bodies.push(['deep object field', `{"name":${deepObject(5_000)}}`]);
  const fields = route.body?.properties ? Object.entries(route.body.properties) : [['name', undefined] as [string, Schema | undefined]];
  for (const [name, schema] of fields) {
    for (const wrong of sample(wrongTypes(schema), 5)) bodies.push([`${name}: ${JSON.stringify(wrong).slice(0, 30)}`, json({ ...base, [name]: wrong })]);
  }
  bodies.push(['every field wrong', json(Object.fromEntries(fields.map(([name, schema]) => [name, pick(wrongTypes(schema))])))]);
  for (const name of stringFields(route.body)) {
    bodies.push([`${name}: ~60 KiB`, json({ ...base, [name]: BIG_STRING })]);
    for (const value of sample(STRINGS, 6)) bodies.push([`${name}: ${JSON.stringify(value).slice(0, 30)}`, json({ ...base, [name]: value })]);
  }
  bodies.push([
    'SQL and NUL in every string field',
    json({ ...base, ...Object.fromEntries(stringFields(route.body).map((name) => [name, `${pick(SQL_FRAGMENTS)}\u0000${pick(UNICODE_ODDITIES)}`])) }),
  ]);
  bodies.push(['unknown fields', json({ ...base, isAdmin: true, role: 'admin', orgId: randomUUID(), "'; DROP TABLE users;--": 1, '\u0000': 2 })]);

  // Bodies go to random ids (mostly 404 after validation) and, where this test has one, half the time
  // to a real object, so that whatever passes validation reaches the service and the database.
  const realValues = Object.fromEntries(route.params.map((param) => [param, realId(route, param)]).filter(([, value]) => value !== undefined));
  const hasReal = route.params.length > 0 && Object.keys(realValues).length === route.params.length;
  const bodyPath = () => (hasReal && random() < 0.5 ? fillPath(route, realValues as Record<string, string>) : basePath());
  const bodyCases = hasBody ? bodies : sample(bodies, 6);
  for (const [label, body, headers] of bodyCases) add(`body ${label}`, bodyPath(), body, headers);
  return cases;
}

describe('hostile input on every route', () => {
  it('refuses the inputs that once broke something, every time (not left to sampling)', async () => {
    const credentials: Record<Credential, Record<string, string>> = {
      none: {},
      operator: { authorization: `Bearer ${app.operatorToken}` },
      admin: { authorization: `Bearer ${org.adminToken}` },
      apiKey: { 'x-api-key': apiKey },
    };
    const json = (value: unknown) => JSON.stringify(value);
    const user = (email: string) => json({ email, password: PASSWORD, role: 'agent' });
    const known: Array<Case & { expect: number }> = [
      // validator.js's IsEmail ran the string through encodeURI, which throws on a lone surrogate (was a 500).
      { label: 'lone low surrogate in an email', method: 'POST', path: '/api/users', credential: 'admin', body: user('\udfff lone low'), expect: 400 },
      {
        label: 'lone high surrogate in an email',
        method: 'POST',
        path: `/api/orgs/${sacrifice.orgId}/users`,
        credential: 'operator',
        body: user('a\ud800@example.com'),
        expect: 400,
      },
      // PostgreSQL refuses NUL in text.
      { label: 'NUL in a stored name', method: 'POST', path: '/api/endpoints', credential: 'admin', body: json({ name: 'a\u0000b', webrtc: true }), expect: 400 },
      { label: 'NUL in a login email', method: 'POST', path: '/api/auth/login', credential: 'none', body: json({ email: 'a\u0000@example.com', password: 'x' }), expect: 400 },
      { label: 'NUL in a path id', method: 'GET', path: '/api/users/%00', credential: 'admin', expect: 400 },
      { label: 'NUL in a query', method: 'GET', path: '/api/audit/mints?actorId=%00', credential: 'admin', expect: 400 },
      // IsOptional lets an explicit null through to the update of a NOT NULL column (was a 500) ...
      { label: 'null org name', method: 'PATCH', path: `/api/orgs/${sacrifice.orgId}`, credential: 'operator', body: json({ name: null }), expect: 400 },
      {
        label: 'null org limit',
        method: 'PATCH',
        path: `/api/orgs/${sacrifice.orgId}`,
        credential: 'operator',
        body: json({ limits: { mintsPerMinute: null } }),
        expect: 400,
      },
      { label: 'null user role', method: 'PATCH', path: `/api/users/${sacrifice.userId}`, credential: 'admin', body: json({ role: null }), expect: 400 },
      { label: 'null endpoint state', method: 'PATCH', path: `/api/endpoints/${sacrifice.endpointId}`, credential: 'admin', body: json({ state: null }), expect: 400 },
      // ... or into the service's own code (was a TypeError, a 500).
      { label: 'null API key scopes', method: 'PATCH', path: `/api/api-keys/${sacrifice.apiKeyId}`, credential: 'admin', body: json({ scopes: null }), expect: 400 },
      { label: '10 000-deep body', method: 'POST', path: '/api/api-keys', credential: 'admin', body: deepArray(10_000), expect: 400 },
      { label: '__proto__', method: 'POST', path: '/api/endpoints', credential: 'admin', body: '{"__proto__": {"admin": true}}', expect: 400 },
      {
        label: 'constructor.prototype',
        method: 'PATCH',
        path: `/api/users/${sacrifice.userId}`,
        credential: 'apiKey',
        body: '{"constructor": {"prototype": {"admin": true}}}',
        expect: 400,
      },
      { label: 'over 64 KiB', method: 'PUT', path: '/api/credentials/twilio', credential: 'admin', body: json({ apiKeySecret: 's'.repeat(70 * 1024) }), expect: 413 },
    ];
    const failures: string[] = [];
    for (const item of known) {
      const answer = await send(app.url, item, credentials);
      if ('error' in answer) failures.push(`${item.label}: ${answer.error}`);
      else {
        const problem = problemWith(answer);
        if (problem) failures.push(`${item.label}: ${problem}: ${answer.status} ${answer.text.slice(0, 200)}`);
        else if (answer.status !== item.expect) failures.push(`${item.label}: ${answer.status} (expected ${item.expect}) ${answer.text.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('never answers 5xx, always answers errors in the envelope with X-Request-Id, and leaves the service serving', async () => {
    const document = await (await fetch(`${app.url}/docs/openapi.json`)).json();
    const routes = routesFromOpenApi(document);
    // Every route Nest serves is in the document (so none escapes the spray), and vice versa.
    const documented = new Set(routes.map((route) => `${route.method} ${route.path}`));
    const served = routesFromNest(app);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
    expect([...documented].filter((route) => !served.includes(route))).toEqual([]);
    expect(routes.length).toBeGreaterThan(30);

    const credentials: Record<Credential, Record<string, string>> = {
      none: {},
      operator: { authorization: `Bearer ${app.operatorToken}` },
      admin: { authorization: `Bearer ${org.adminToken}` },
      apiKey: { 'x-api-key': apiKey },
    };
    let cases = routes.flatMap((route, index) => casesFor(route, index));
    // Sample down to the budget, keeping the order random so destructive cases interleave with the rest.
    cases = sample(cases, Math.min(cases.length, MAX_REQUESTS));

    const failures: string[] = [];
    const statuses: Record<string, number> = {};
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const item = cases[next++];
          const answer = await send(app.url, item, credentials);
          const where = `${item.method} ${item.path.slice(0, 120)} [${item.label}] as ${item.credential}`;
          if ('error' in answer) {
            failures.push(`${where}: ${answer.error}`);
            continue;
          }
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          const problem = problemWith(answer);
          if (problem) failures.push(`${where}: ${problem}: ${answer.status} ${answer.text.slice(0, 300)}`);
        }
      }),
    );
    const took = Date.now() - started;
    console.log(`hostile input: seed ${SEED}, ${cases.length} requests in ${took} ms`, statuses);

    expect({ seed: SEED, failures: failures.slice(0, 25), count: failures.length }).toEqual({ seed: SEED, failures: [], count: 0 });
    // Something got through validation too (the spray is not all 400s).
    expect(Object.keys(statuses).some((status) => Number(status) < 300)).toBe(true);
    // And the service logged no unhandled error.
    expect(app.logs.filter((line) => line.includes('"msg":"unhandled error"')).slice(0, 3)).toEqual([]);
  }, 120_000);

  it('answers garbage at the HTTP level (over 16 KiB of URL or headers, broken framing) in the envelope too, and closes that connection', async () => {
    const { port } = new URL(app.url);
    const host = `Host: 127.0.0.1:${port}\r\n`;
    const auth = `Authorization: Bearer ${org.adminToken}\r\n`;
    const login = JSON.stringify({ email: org.adminEmail, password: 'x' });
    const raws: Array<[string, string]> = [
      ['a 20 KiB path parameter', `GET /api/users/${'a'.repeat(20 * 1024)} HTTP/1.1\r\n${host}${auth}\r\n`],
      ['a 20 KiB query string', `GET /api/audit/mints?cursor=${'c'.repeat(20 * 1024)} HTTP/1.1\r\n${host}${auth}\r\n`],
      ['a 20 KiB header', `GET /api/users HTTP/1.1\r\n${host}${auth}X-Filler: ${'f'.repeat(20 * 1024)}\r\n\r\n`],
      ['a broken chunk size', `POST /api/auth/login HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n${login}\r\n0\r\n\r\n`],
      [
        'Content-Length and Transfer-Encoding together',
        `POST /api/auth/login HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
      ],
      ['a header name with a space', `GET /health HTTP/1.1\r\n${host}Bad Header: x\r\n\r\n`],
      ['a NUL in a header value', `GET /api/users HTTP/1.1\r\n${host}X-Thing: a\u0000b\r\n${auth}\r\n`],
      ['a garbage request line', `GARBAGE\r\n\r\n`],
      ['no Host header', `GET /health HTTP/1.1\r\n\r\n`],
    ];
    const problems: string[] = [];
    const answered: Record<string, { status: number; code: unknown }> = {};
    for (const [label, text] of raws) {
      const socket = connect(Number(port), '127.0.0.1');
      let received = '';
      // Done when the server closes the connection or a whole answer (head and Content-Length bytes) is in.
      const done = new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('utf8');
          const end = received.indexOf('\r\n\r\n');
          const length = /\r\ncontent-length: *(\d+)/i.exec(received.slice(0, end))?.[1];
          if (end >= 0 && length !== undefined && Buffer.byteLength(received.slice(end + 4)) >= Number(length)) resolve();
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
      socket.write(text);
      await done;
      socket.destroy();
      const [head = '', ...rest] = received.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
      const headers: Record<string, string> = {};
      for (const line of head.split('\r\n').slice(1)) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
      const problem = Number.isNaN(status) ? 'no HTTP answer' : problemWith({ status, headers, text: rest.join('\r\n\r\n'), ms: 0 });
      answered[label] = { status, code: /"code":"([A-Z_]+)"/.exec(rest.join(''))?.[1] };
      if (problem) problems.push(`${label}: ${problem}: ${received.slice(0, 300)}`);
      else if (status >= 400 && (headers.connection ?? '').toLowerCase() !== 'close' && !['no Host header'].includes(label)) {
        // A connection the parser gave up on cannot be reused; the client must be told.
        problems.push(`${label}: ${status} without Connection: close`);
      }
    }
    expect(problems).toEqual([]);
    // Over 16 KiB of request line or headers is 431 HEADERS_TOO_LARGE, whichever part is too long.
    for (const label of ['a 20 KiB path parameter', 'a 20 KiB query string', 'a 20 KiB header']) {
      expect({ label, ...answered[label] }).toEqual({ label, status: 431, code: 'HEADERS_TOO_LARGE' });
    }
    expectStatus(await client(app.url).get('/health/ready'), 200);
  });

  it('still serves: ready, authenticated, minting, its tables intact', async () => {
    const ready = await client(app.url).get('/health/ready');
    expectStatus(ready, 200);
    expectStatus(await org.admin.get('/api/auth/me'), 200);
    const minted = await org.admin.get('/api/calls/token/sinch');
    expectStatus(minted, 200);
    verifySinchToken(minted.body.token, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET, org.adminId);
    const byKey = await client(app.url, apiKey).get(`/api/calls/token/sinch?userId=${org.adminId}`);
    expectStatus(byKey, 200);
    const [users] = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE id = $1', [org.adminId]);
    expect(users.n).toBe(1);
    const tables = await app.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('users', 'api_keys', 'orgs', 'credentials', 'mint_audit')`,
    );
    expect(tables[0].n).toBe(5);
    // The audit chain was not disturbed by anything the spray did.
    const verify = await org.admin.get('/api/audit/verify');
    expectStatus(verify, 200);
    expect(verify.body.ok).toBe(true);
  });

  it('polluted nothing: Object.prototype in this process (where the server runs) is as it was', () => {
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'admin')).toBe(false);
    expect((Object as unknown as Record<string, unknown>).admin).toBeUndefined();
  });
});
