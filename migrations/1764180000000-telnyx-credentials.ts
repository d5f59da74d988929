import { MigrationInterface, QueryRunner } from 'typeorm';
// Relative, not @mintline/common: jest's global setup loads the migrations without the path aliases.
import { SERVICE_ROLE } from '../libs/common/src/database/service-role';

/**
 * The one Telnyx telephony credential Mintline keeps per user (API.md, "More providers"): its Telnyx id
 * and SIP username, remembered so that each mint asks Telnyx for a token instead of a new credential.
 * The SIP password Telnyx answers with is never stored. `connection_id` is the credential connection it
 * was made on: an org that moves to another connection gets new credentials there.
 *
 * A tenant table like the others (FORCE row-level security, the tenant policy); the row goes with its
 * user (and org).
 */
export class TelnyxCredentials1764180000000 implements MigrationInterface {
  name = 'TelnyxCredentials1764180000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE telnyx_credentials (
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        connection_id text NOT NULL,
        credential_id text NOT NULL,
        sip_username text NOT NULL,
        created_at timestamptz NOT NULL,
        PRIMARY KEY (org_id, user_id)
      )`);
    await db.query(`CREATE INDEX telnyx_credentials_user_id_idx ON telnyx_credentials (user_id)`);
    await db.query(`ALTER TABLE telnyx_credentials ENABLE ROW LEVEL SECURITY`);
    await db.query(`ALTER TABLE telnyx_credentials FORCE ROW LEVEL SECURITY`);
    await db.query(
      `CREATE POLICY tenant_rows ON telnyx_credentials USING (mintline_tenant() = 'system' OR org_id = mintline_org()) WITH CHECK (mintline_tenant() = 'system' OR org_id = mintline_org())`,
    );
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON telnyx_credentials TO ${SERVICE_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE telnyx_credentials`);
  }
}
