import { MigrationInterface, QueryRunner } from 'typeorm';
// Relative, not @mintline/common: jest's global setup loads the migrations without the path aliases.
import { SERVICE_ROLE } from '../libs/common/src/database/service-role';

/**
 * Token policies (API.md, "Token policies"): per org and provider, what may be minted. A null column is
 * no rule. A tenant table like the others (FORCE row-level security, the tenant policy), and a cached
 * kind of row: its own cache epoch, bumped by every change, so that the next mint on any instance
 * judges by the policy now in force.
 */
export class TokenPolicies1764200000000 implements MigrationInterface {
  name = 'TokenPolicies1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE token_policies (
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        provider text NOT NULL CHECK (provider IN ('sinch', 'twilio', 'livekit', 'agora', 'vonage', 'telnyx')),
        max_ttl_seconds integer CHECK (max_ttl_seconds BETWEEN 60 AND 86400),
        roles text[] CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['admin', 'agent', 'auditor']),
        rooms text[] CHECK (cardinality(rooms) BETWEEN 1 AND 100),
        publish boolean,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by_kind text NOT NULL,
        updated_by_id text,
        PRIMARY KEY (org_id, provider)
      )`);
    await db.query(`ALTER TABLE token_policies ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE token_policies FORCE ROW LEVEL SECURITY`);
    await db.query(
      `CREATE POLICY tenant_rows ON token_policies USING (mintline_tenant() = 'system' OR org_id = mintline_org()) WITH CHECK (mintline_tenant() = 'system' OR org_id = mintline_org())`,
    );
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON token_policies TO ${SERVICE_ROLE}`);
    await db.query(`INSERT INTO cache_epochs (topic) VALUES ('policy') ON CONFLICT (topic) DO NOTHING`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DELETE FROM cache_epochs WHERE topic = 'policy'`);
    await db.query(`DROP TABLE token_policies`);
  }
}
