import { MigrationInterface, QueryRunner } from 'typeorm';
// Relative, not @mintline/common: jest's global setup loads the migrations without the path aliases.
import { SERVICE_ROLE } from '../libs/common/src/database/service-role';

/** Tables holding one org's rows, and the condition under which a row belongs to the current tenant. */
const TENANT_TABLES: Array<{ table: string; rights: string; visible: string; writable?: string }> = [
  // An org sees itself and its direct children (API keys may be made for a child org).
  { table: 'orgs', rights: 'SELECT, INSERT, UPDATE', visible: 'id = mintline_org() OR parent_org_id = mintline_org()', writable: 'id = mintline_org()' },
  { table: 'users', rights: 'SELECT, INSERT, UPDATE, DELETE', visible: 'org_id = mintline_org()' },
  // A key made for a child org is managed by the org that made it and acts in the child org.
  {
    table: 'api_keys',
    rights: 'SELECT, INSERT, UPDATE, DELETE',
    visible: 'owner_org_id = mintline_org() OR org_id = mintline_org()',
    writable: 'owner_org_id = mintline_org()',
  },
  { table: 'config_events', rights: 'SELECT, INSERT', visible: 'org_id = mintline_org()' },
  { table: 'credentials', rights: 'SELECT, INSERT, UPDATE, DELETE', visible: 'org_id = mintline_org()' },
  { table: 'phone_numbers', rights: 'SELECT, INSERT, UPDATE, DELETE', visible: 'org_id = mintline_org()' },
  { table: 'endpoints', rights: 'SELECT, INSERT, UPDATE', visible: 'org_id = mintline_org()' },
  { table: 'call_tokens', rights: 'SELECT, INSERT, UPDATE', visible: 'org_id = mintline_org()' },
  // Append-only (its triggers refuse changes even to the owner); the service only adds and reads.
  { table: 'mint_audit', rights: 'SELECT, INSERT', visible: 'org_id = mintline_org()' },
  { table: 'audit_chain_heads', rights: 'SELECT, INSERT, UPDATE', visible: 'org_id = mintline_org()' },
  // Written only by retention pruning (the CLI, as the owner).
  { table: 'audit_chain_anchors', rights: 'SELECT', visible: 'org_id = mintline_org()' },
];

/**
 * Defence in depth for tenancy: PostgreSQL itself keeps orgs apart, whatever a query forgets.
 *
 * - Every tenant table has row-level security, FORCEd so that it holds for the tables' owner too. A row
 *   is visible (and writable) only when it belongs to the org named by the transaction-local setting
 *   `mintline.tenant`, which the service sets at the start of every transaction (see
 *   scoped-data-source.ts), or when that setting is 'system' (the few cross-tenant paths, see
 *   tenant-scope.ts). With no setting, nothing is visible.
 * - The service connects as SERVICE_ROLE: no ownership, no BYPASSRLS, only the rights it uses. These
 *   migrations run as the owner. Monthly audit partitions are created through a SECURITY DEFINER
 *   function, so the service never owns one. A later migration that adds a table grants its rights
 *   to SERVICE_ROLE and, for a tenant table, adds it a policy.
 */
export class RowLevelSecurity1763800004000 implements MigrationInterface {
  name = 'RowLevelSecurity1763800004000';

  async up(db: QueryRunner): Promise<void> {
    // Roles belong to the whole cluster: several databases (or instances migrating at once) may try.
    await db.query(`
      DO $$ BEGIN
        CREATE ROLE ${SERVICE_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await db.query(`GRANT USAGE ON SCHEMA public TO ${SERVICE_ROLE}`);

    await db.query(`
      CREATE FUNCTION mintline_tenant() RETURNS text LANGUAGE sql STABLE AS $$
        SELECT nullif(current_setting('mintline.tenant', true), '')
      $$`);
    await db.query(`
      CREATE FUNCTION mintline_org() RETURNS uuid LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN mintline_tenant() = 'system' THEN NULL ELSE mintline_tenant()::uuid END
      $$`);

    for (const { table, rights, visible, writable } of TENANT_TABLES) {
      await db.query(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
      await db.query(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
      await db.query(
        `CREATE POLICY tenant_rows ON ${table} USING (mintline_tenant() = 'system' OR ${visible}) WITH CHECK (mintline_tenant() = 'system' OR ${writable ?? visible})`,
      );
      await db.query(`GRANT ${rights} ON ${table} TO ${SERVICE_ROLE}`);
    }
    await db.query(`GRANT SELECT, UPDATE ON cache_epochs TO ${SERVICE_ROLE}`);

    // The partition of the month starting at `lower` (UTC), with the TRUNCATE trigger partitions do not inherit.
    await db.query(`
      CREATE FUNCTION mintline_create_audit_partition(lower timestamptz) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
      DECLARE
        month timestamp := lower AT TIME ZONE 'UTC';
        name text := 'mint_audit_p' || to_char(month, 'YYYYMM');
      BEGIN
        IF month <> date_trunc('month', month) THEN
          RAISE EXCEPTION 'an audit partition starts at the first instant of a month (UTC)' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF mint_audit FOR VALUES FROM (%L) TO (%L)',
          name, month AT TIME ZONE 'UTC', (month + interval '1 month') AT TIME ZONE 'UTC');
        EXECUTE format('CREATE OR REPLACE TRIGGER mint_audit_no_truncate BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION mint_audit_append_only()', name);
      END $$`);
    await db.query(`REVOKE ALL ON FUNCTION mintline_create_audit_partition(timestamptz) FROM PUBLIC`);
    await db.query(`GRANT EXECUTE ON FUNCTION mintline_create_audit_partition(timestamptz) TO ${SERVICE_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP FUNCTION mintline_create_audit_partition(timestamptz)`);
    await db.query(`REVOKE ALL ON cache_epochs FROM ${SERVICE_ROLE}`);
    for (const { table } of TENANT_TABLES) {
      await db.query(`REVOKE ALL ON ${table} FROM ${SERVICE_ROLE}`);
      await db.query(`DROP POLICY tenant_rows ON ${table}`);
      await db.query(`ALTER TABLE ${table} NO FORCE ROW LEVEL SECURITY`);
      await db.query(`ALTER TABLE ${table} DISABLE ROW LEVEL SECURITY`);
    }
    await db.query(`DROP FUNCTION mintline_org()`);
    await db.query(`DROP FUNCTION mintline_tenant()`);
    await db.query(`REVOKE USAGE ON SCHEMA public FROM ${SERVICE_ROLE}`);
  }
}
