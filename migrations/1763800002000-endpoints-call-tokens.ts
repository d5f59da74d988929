import { MigrationInterface, QueryRunner } from 'typeorm';

/** WebRTC endpoints and Mintline's own single-use call tokens (stored only as hashes). */
export class EndpointsCallTokens1763800002000 implements MigrationInterface {
  name = 'EndpointsCallTokens1763800002000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE endpoints (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name text NOT NULL,
        webrtc boolean NOT NULL,
        state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'archived')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX endpoints_org_idx ON endpoints (org_id, created_at)`);

    await db.query(`
      CREATE TABLE call_tokens (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
        token_hash bytea NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        redeemed_at timestamptz,
        session_id uuid,
        revoked_at timestamptz,
        minted_by_kind text NOT NULL CHECK (minted_by_kind IN ('user', 'api_key')),
        minted_by_id text NOT NULL
      )`);
    await db.query(`CREATE UNIQUE INDEX call_tokens_token_hash_key ON call_tokens (token_hash)`);
    await db.query(`CREATE INDEX call_tokens_org_idx ON call_tokens (org_id, created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE call_tokens`);
    await db.query(`DROP TABLE endpoints`);
  }
}
