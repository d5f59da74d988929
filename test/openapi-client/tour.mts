// The README's tour, driven by a client generated from the served OpenAPI document (openapi-typescript
// types + openapi-fetch). test/openapi-client.e2e-spec.ts generates ./mintline-api.d.mts beside a copy of
// this file, type-checks it with strict tsc (casts and non-null assertions refused) and runs it.
// It is an .mts file so that the repository's own typecheck, which has no generated types, skips it.
import createClient from 'openapi-fetch';
import type { paths } from './mintline-api.mjs';

function argument(index: number, name: string): string {
  const value = process.argv[2 + index];
  if (value === undefined) throw new Error(`usage: tour.mjs baseUrl operatorToken applicationKey applicationSecret (missing ${name})`);
  return value;
}

const baseUrl = argument(0, 'baseUrl');
const operatorToken = argument(1, 'operatorToken');
const applicationKey = argument(2, 'applicationKey');
const applicationSecret = argument(3, 'applicationSecret');
const password = 'correct horse battery staple';
const stamp = Date.now().toString(36);

function bearer(token: string) {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
}

function fail(step: string, error: { code: string; error: string } | undefined): never {
  throw new Error(`${step} failed: ${error ? `${error.code} ${error.error}` : 'no body'}`);
}

const anonymous = createClient<paths>({ baseUrl });
const operator = bearer(operatorToken);

// The operator creates an org and its first admin.
const org = await operator.POST('/api/orgs', { body: { name: `Tour ${stamp}` } });
if (!org.data) fail('create org', org.error);
const adminEmail = `admin-${stamp}@tour.example.com`;
const admin = await operator.POST('/api/orgs/{orgId}/users', {
  params: { path: { orgId: org.data.id } },
  body: { email: adminEmail, password, role: 'admin' },
});
if (!admin.data) fail('create admin', admin.error);

// The admin logs in.
const adminLogin = await anonymous.POST('/api/auth/login', { body: { email: adminEmail, password } });
if (!adminLogin.data) fail('admin login', adminLogin.error);
const asAdmin = bearer(adminLogin.data.accessToken);

// ... creates an agent, an API key, and stores the org's sinch-voice credentials.
const agentEmail = `agent-${stamp}@tour.example.com`;
const agent = await asAdmin.POST('/api/users', { body: { email: agentEmail, password, role: 'agent', name: 'Tour Agent' } });
if (!agent.data) fail('create agent', agent.error);
const apiKey = await asAdmin.POST('/api/api-keys', { body: { name: 'tour backend', scopes: ['CREATE_CALL_TOKEN'] } });
if (!apiKey.data) fail('create API key', apiKey.error);
const credentials = await asAdmin.PUT('/api/credentials/{provider}', {
  params: { path: { provider: 'sinch-voice' } },
  body: { applicationKey, applicationSecret },
});
if (!credentials.data) fail('store sinch-voice credentials', credentials.error);

// The agent logs in and mints a Sinch token for itself; the backend's API key mints one for the agent.
const agentLogin = await anonymous.POST('/api/auth/login', { body: { email: agentEmail, password } });
if (!agentLogin.data) fail('agent login', agentLogin.error);
const agentToken = await bearer(agentLogin.data.accessToken).GET('/api/calls/token/sinch');
if (!agentToken.data) fail('agent Sinch token', agentToken.error);
const backend = createClient<paths>({ baseUrl, headers: { 'x-api-key': apiKey.data.token } });
const keyToken = await backend.GET('/api/calls/token/sinch', { params: { query: { userId: agent.data.id } } });
if (!keyToken.data) fail('API key Sinch token', keyToken.error);

// The admin reads the audit and verifies its chain.
const audit = await asAdmin.GET('/api/audit/mints', { params: { query: { provider: 'sinch', limit: 10 } } });
if (!audit.data) fail('read the audit', audit.error);
const verify = await asAdmin.GET('/api/audit/verify');
if (!verify.data) fail('verify the audit', verify.error);

// An error's code is typed: the agent may not read the audit.
const refused = await bearer(agentLogin.data.accessToken).GET('/api/audit/mints');
const refusedCode: string | undefined = refused.error?.code;

process.stdout.write(
  JSON.stringify({
    orgId: org.data.id,
    agentId: agent.data.id,
    credentialsProvider: credentials.data.provider,
    maskedSecret: credentials.data.fields.applicationSecret,
    agentTokenUserId: agentToken.data.userId,
    agentTokenExpiresIn: agentToken.data.expiresIn,
    keyTokenUserId: keyToken.data.userId,
    auditOutcomes: audit.data.items.map((entry) => `${entry.provider}:${entry.outcome}`),
    verifyOk: verify.data.ok,
    verifyChecked: verify.data.checked,
    refusedStatus: refused.response.status,
    refusedCode,
  }),
);
