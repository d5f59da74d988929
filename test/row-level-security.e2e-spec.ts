import { Client as PgClient } from 'pg';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { AnyDb, Db } from '../libs/common/src/database/db';
import { expectError, expectStatus } from './support/assertions';
import { createOrgWithAdmin, OrgFixture, uniqueEmail, PASSWORD } from './support/fixtures';
import { client } from './support/http';
import { createApiKey, putSinchVoice, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET } from './support/minting';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Defence in depth for tenancy (issue 8.3): PostgreSQL's row-level security keeps orgs apart even where
 * a query forgets to. The service connects as a role that owns no tables and cannot bypass it; each
 * transaction names its tenant with set_config(..., true); with no tenant, nothing is visible.
 */

/** Every table holding an org's rows (and the column naming the org). */
const TENANT_TABLES: Record<string, string> = {
  orgs: 'id',
  users: 'org_id',
  api_keys: 'org_id',
  config_events: 'org_id',
  credentials: 'org_id',
  phone_numbers: 'org_id',
  endpoints: 'org_id',
  call_tokens: 'org_id',
  mint_audit: 'org_id',
  audit_chain_heads: 'org_id',
  audit_chain_anchors: 'org_id',
  audit_checkpoints: 'org_id',
  telnyx_credentials: 'org_id',
  token_policies: 'org_id',
};

let app: TestApp;
let a: OrgFixture;
let b: OrgFixture;
/** The URL the service itself connects with. */
let serviceUrl: string;

async function asService<T>(work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = new PgClient({ connectionString: serviceUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function countAs(client: PgClient, table: string): Promise<number> {
  return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
}

beforeAll(async () => {
  app = await startTestApp();
  serviceUrl = (app.app.get(DataSource).options as { url: string }).url;
  a = await createOrgWithAdmin(app, 'RLS A');
  b = await createOrgWithAdmin(app, 'RLS B');
  for (const org of [a, b]) {
    expectStatus(await org.operator.patch(`/api/orgs/${org.orgId}`, { features: { webrtc: true } }), 200);
    expectStatus(await putSinchVoice(org.admin, SINCH_EXAMPLE_KEY, SINCH_EXAMPLE_SECRET), 200);
    expectStatus(await org.admin.post(`/api/users/${org.adminId}/phone-numbers`, { provider: 'sinch', phoneNumber: org === a ? '+14155550101' : '+14155550102' }), 201);
    expectStatus(await org.admin.get('/api/calls/token/sinch'), 200);
    expectStatus(await org.admin.put('/api/policies/livekit', { maxTtlSeconds: 900 }), 200);
    const endpoint = await org.admin.post('/api/endpoints', { name: 'desk', webrtc: true });
    expectStatus(endpoint, 201);
    const key = await createApiKey(org.admin, ['CREATE_CALL_TOKEN'], 'rls key');
    const minted = await client(app.url, key.token).post('/api/call-tokens', { endpointId: endpoint.body.id });
    expectStatus(minted, 201);
    // Anchors are written only by retention pruning (as the owner); one row per org stands in for one here.
    await app.db.query("INSERT INTO audit_chain_anchors (org_id, seq, hash, pruned_before) VALUES ($1, 0, '\\x00', now())", [org.orgId]);
    // A remembered Telnyx credential, as the first Telnyx mint of the admin would leave it.
    await app.db.query(
      "INSERT INTO telnyx_credentials (org_id, user_id, connection_id, credential_id, sip_username, created_at) VALUES ($1, $2, '1', $3, 'gencredrls', now())",
      [org.orgId, org.adminId, `cred-${org.orgId}`],
    );
  }
});

afterAll(async () => {
  await app?.close();
});

describe('the service role', () => {
  it('is what the service connects as: no superuser, no BYPASSRLS, owner of nothing', async () => {
    const sessions = await app.db.query<{ usename: string }>("SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = $1 AND application_name LIKE 'mintline%'", [
      app.db.name,
    ]);
    expect(sessions.map((session) => session.usename)).toEqual(['mintline_app']);
    const [role] = await app.db.query<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>(
      `SELECT rolsuper, rolbypassrls, (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid)::int AS owned FROM pg_roles r WHERE rolname = 'mintline_app'`,
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
    // The monthly audit partitions made at start belong to the owner too.
    const partitions = await app.db.query<{ owner: string }>(
      "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname LIKE 'mint_audit_p%' AND relkind = 'r'",
    );
    expect(partitions.length).toBeGreaterThan(0);
    expect(partitions.map((partition) => partition.owner)).not.toContain('mintline_app');
  });

  it('every tenant table has FORCE ROW LEVEL SECURITY and a policy; every table with an org column is one of them', async () => {
    const withOrgColumn = await app.db.query<{ table: string }>(
      `SELECT DISTINCT c.relname AS table FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE a.attname IN ('org_id', 'owner_org_id') AND c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
    );
    expect(withOrgColumn.map((row) => row.table).sort()).toEqual(
      Object.keys(TENANT_TABLES)
        .filter((table) => table !== 'orgs')
        .sort(),
    );
    const tables = await app.db.query<{ table: string; enabled: boolean; forced: boolean; policies: number }>(
      `SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
              (SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname)::int AS policies
         FROM pg_class c WHERE c.relname = ANY ($1) AND c.relnamespace = 'public'::regnamespace`,
      [Object.keys(TENANT_TABLES)],
    );
    expect(tables).toHaveLength(Object.keys(TENANT_TABLES).length);
    for (const table of tables) expect(table).toEqual({ table: table.table, enabled: true, forced: true, policies: 1 });
  });

  it('has no rights beyond what the service does: no changing the audit log, no migrations table, no DDL', async () => {
    await asService(async (client) => {
      for (const sql of [
        'UPDATE mint_audit SET code = NULL',
        'DELETE FROM mint_audit',
        'TRUNCATE mint_audit',
        'DELETE FROM config_events',
        'SELECT * FROM migrations',
        'DROP TABLE users',
        'ALTER TABLE users DISABLE ROW LEVEL SECURITY',
        'CREATE TABLE mine (id int)',
      ]) {
        await expect(client.query(sql)).rejects.toMatchObject({ code: expect.stringMatching(/^(42501|42P01)$/) });
      }
    });
  });
});

describe('row-level security', () => {
  it('a query without a tenant sees nothing, though every table has rows', async () => {
    await asService(async (client) => {
      for (const table of Object.keys(TENANT_TABLES)) {
        const [{ n }] = await app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
        expect({ table, rows: n > 0 }).toEqual({ table, rows: true });
        expect({ table, visible: await countAs(client, table) }).toEqual({ table, visible: 0 });
      }
      // Nor can it write one.
      await expect(
        client.query("INSERT INTO config_events (id, org_id, actor_kind, action, target_type) VALUES (gen_random_uuid(), $1, 'system', 'x', 'x')", [a.orgId]),
      ).rejects.toMatchObject({
        code: '42501',
      });
    });
  });

  it("a transaction naming org A sees A's rows only, and cannot write B's", async () => {
    await asService(async (client) => {
      await client.query('BEGIN');
      await client.query("SELECT set_config('mintline.tenant', $1, true)", [a.orgId]);
      for (const [table, column] of Object.entries(TENANT_TABLES)) {
        const orgs = (await client.query<{ org: string }>(`SELECT DISTINCT ${column} AS org FROM ${table}`)).rows.map((row) => row.org);
        expect({ table, orgs }).toEqual({ table, orgs: [a.orgId] });
      }
      await expect(client.query("UPDATE users SET name = 'taken over' WHERE org_id = $1", [b.orgId])).resolves.toMatchObject({ rowCount: 0 });
      await expect(
        client.query("INSERT INTO config_events (id, org_id, actor_kind, action, target_type) VALUES (gen_random_uuid(), $1, 'system', 'x', 'x')", [b.orgId]),
      ).rejects.toMatchObject({
        code: '42501',
      });
      await client.query('ROLLBACK');
      // The setting was the transaction's: it is gone with it.
      expect((await client.query("SELECT coalesce(current_setting('mintline.tenant', true), '') AS t")).rows[0].t).toBe('');
      expect(await countAs(client, 'users')).toBe(0);
    });
  });

  it("the service's own data source: a query that forgets its org filter still sees only the scope's org", async () => {
    const dataSource = app.app.get(DataSource);
    const db = app.app.get(Db);
    const sql = 'SELECT DISTINCT org_id FROM users';
    const orgsOfUsers = async (handle: AnyDb) => (await handle.query<{ org_id: string }>(sql)).map((row) => row.org_id);
    // Without a handle (the bare pool), no tenant row at all.
    expect((await dataSource.query<Array<{ org_id: string }>>(sql)).map((row) => row.org_id)).toEqual([]);
    expect(await orgsOfUsers(db.forOrg(a.orgId))).toEqual([a.orgId]);
    expect(await orgsOfUsers(db.forOrg(b.orgId))).toEqual([b.orgId]);
    expect((await orgsOfUsers(db.system('operator'))).sort()).toEqual([a.orgId, b.orgId].sort());
    // In an explicit transaction too.
    const inTransaction = await db.forOrg(b.orgId).transaction((tx) => tx.query(sql));
    expect(inTransaction).toEqual([{ org_id: b.orgId }]);
  });

  it('a statement that asks for its generic plan runs under its tenant, and the plan mode ends with it', async () => {
    const db = app.app.get(Db);
    const settings = { text: "SELECT current_setting('plan_cache_mode') AS mode, (SELECT array_agg(DISTINCT org_id::text) FROM users) AS orgs" };
    // One connection, so that the plain statement runs where the generic one did.
    const pool = (app.app.get(DataSource).driver as unknown as { master: Pool }).master;
    const held = await Promise.all(Array.from({ length: pool.options.max - 1 }, () => pool.connect()));
    try {
      expect(await db.forOrg(a.orgId).query({ ...settings, genericPlan: true })).toEqual([{ mode: 'force_generic_plan', orgs: [a.orgId] }]);
      expect(await db.forOrg(a.orgId).transaction((tx) => tx.query({ ...settings, genericPlan: true }))).toEqual([{ mode: 'force_generic_plan', orgs: [a.orgId] }]);
      expect(await db.forOrg(b.orgId).query(settings)).toEqual([{ mode: 'auto', orgs: [b.orgId] }]);
    } finally {
      for (const client of held) client.release();
    }
  });

  it("a pooled connection never carries one request's tenant into the next", async () => {
    // Many requests of both orgs at once, some failing inside their transaction, over the same pool.
    const requests = Array.from({ length: 60 }, (_, i) => {
      const org = i % 2 ? a : b;
      if (i % 3 === 0) return org.admin.post('/api/users', { email: org.adminEmail, password: PASSWORD, role: 'agent' }).then((r) => ({ org, r, kind: 'conflict' }));
      return org.admin.get('/api/users').then((r) => ({ org, r, kind: 'list' }));
    });
    for (const { org, r, kind } of await Promise.all(requests)) {
      if (kind === 'conflict') {
        expect(r.status).toBe(409);
      } else {
        expectStatus(r, 200);
        const users = r.body as Array<{ id: string }>;
        expect(users.map((user) => user.id)).toContain(org.adminId);
        expect(users.map((user) => user.id)).not.toContain((org === a ? b : a).adminId);
      }
    }
    // Every connection now in the service's pool: no tenant set, nothing visible.
    const pool = (app.app.get(DataSource).driver as unknown as { master: Pool }).master;
    const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
    try {
      for (const client of clients) {
        const [row] = (await client.query("SELECT coalesce(current_setting('mintline.tenant', true), '') AS tenant, (SELECT count(*)::int FROM users) AS users")).rows;
        expect(row).toEqual({ tenant: '', users: 0 });
      }
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('through the API, org A still reaches nothing of org B (404), and B still works', async () => {
    expectError(await a.admin.get(`/api/users/${b.adminId}`), 404, 'NOT_FOUND');
    expectStatus(await b.admin.get(`/api/users/${b.adminId}`), 200);
    // Login looks the email up across orgs (system scope): a new user of B logs in.
    expectStatus(await loginOfNewUser(b), 200);
  });
});

describe('starting the service', () => {
  it('refuses a DATABASE_APP_URL whose role could see every org', async () => {
    await expect(startTestApp({ db: app.db, config: { databaseAppUrl: app.db.url } })).rejects.toThrow(/superuser/);
  });

  it('takes a DATABASE_APP_URL naming a role bound by row-level security', async () => {
    const second = await startTestApp({ db: app.db, config: { databaseAppUrl: serviceUrl, masterKeys: app.config.masterKeys, jwtSecret: app.config.jwtSecret } });
    try {
      const login = await fetch(`${second.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: a.adminEmail, password: PASSWORD }),
      });
      expect(login.status).toBe(200);
      const users = await fetch(`${second.url}/api/users`, { headers: { authorization: `Bearer ${((await login.json()) as { accessToken: string }).accessToken}` } });
      expect(users.status).toBe(200);
    } finally {
      await second.close();
    }
  });
});

async function loginOfNewUser(org: OrgFixture) {
  const email = uniqueEmail('rls');
  expectStatus(await org.admin.post('/api/users', { email, password: PASSWORD, role: 'agent' }), 201);
  return client(app.url).post('/api/auth/login', { email, password: PASSWORD });
}
