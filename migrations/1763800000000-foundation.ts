import { MigrationInterface, QueryRunner } from 'typeorm';

/** Orgs, users, API keys and the configuration event log. */
export class Foundation1763800000000 implements MigrationInterface {
  name = 'Foundation1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE orgs (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        parent_org_id uuid REFERENCES orgs(id) ON DELETE RESTRICT,
        webrtc_enabled boolean NOT NULL DEFAULT false,
        mints_per_minute integer NOT NULL DEFAULT 600 CHECK (mints_per_minute > 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX orgs_parent_idx ON orgs (parent_org_id) WHERE parent_org_id IS NOT NULL`);

    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        email text NOT NULL,
        name text,
        role text NOT NULL CHECK (role IN ('admin', 'agent', 'auditor')),
        password_hash text NOT NULL,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Emails are stored lower-cased; login looks them up across all orgs, so they are unique globally.
    await db.query(`CREATE UNIQUE INDEX users_email_key ON users (email)`);
    await db.query(`CREATE INDEX users_org_idx ON users (org_id, created_at)`);

    await db.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        owner_org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        name text NOT NULL,
        scopes text[] NOT NULL,
        prefix text NOT NULL,
        token_hash bytea NOT NULL,
        created_by_kind text NOT NULL CHECK (created_by_kind IN ('user', 'api_key')),
        created_by_id uuid NOT NULL,
        expires_at timestamptz,
        max_requests_per_day integer CHECK (max_requests_per_day > 0),
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX api_keys_token_hash_key ON api_keys (token_hash)`);
    await db.query(`CREATE INDEX api_keys_owner_idx ON api_keys (owner_org_id, created_at)`);

    await db.query(`
      CREATE TABLE config_events (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'operator', 'system')),
        actor_id text,
        action text NOT NULL,
        target_type text NOT NULL,
        target_id text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        request_id text
      )`);
    await db.query(`CREATE INDEX config_events_org_at_idx ON config_events (org_id, at DESC, id DESC)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE config_events`);
    await db.query(`DROP TABLE api_keys`);
    await db.query(`DROP TABLE users`);
    await db.query(`DROP TABLE orgs`);
  }
}
