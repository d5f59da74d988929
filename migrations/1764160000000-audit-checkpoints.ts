import { MigrationInterface, QueryRunner } from 'typeorm';
// Relative, not @mintline/common: jest's global setup loads the migrations without the path aliases.
import { SERVICE_ROLE } from '../libs/common/src/database/service-role';

/**
 * Signed audit checkpoints: after each committed batch the service signs every touched org's chain head
 * (seq, hash) with an Ed25519 key that is never stored here, and keeps the signature in this table. A
 * row proves nothing by being here: verification trusts only signatures of the configured keys.
 *
 * A tenant table like the others (FORCE row-level security, the tenant policy). The service may only add
 * and read checkpoints; retention pruning (the CLI, as the owner) removes those of pruned entries.
 */
export class AuditCheckpoints1764160000000 implements MigrationInterface {
  name = 'AuditCheckpoints1764160000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE audit_checkpoints (
        org_id uuid NOT NULL,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        at timestamptz NOT NULL,
        key_id text NOT NULL,
        signature bytea NOT NULL,
        PRIMARY KEY (org_id, seq)
      )`);
    await db.query(`ALTER TABLE audit_checkpoints ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE audit_checkpoints FORCE ROW LEVEL SECURITY`);
    await db.query(
      `CREATE POLICY tenant_rows ON audit_checkpoints USING (mintline_tenant() = 'system' OR org_id = mintline_org()) WITH CHECK (mintline_tenant() = 'system' OR org_id = mintline_org())`,
    );
    await db.query(`GRANT SELECT, INSERT ON audit_checkpoints TO ${SERVICE_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_checkpoints`);
  }
}
