import { MigrationInterface, QueryRunner } from 'typeorm';

/** Encrypted provider credentials, users' caller IDs, and the hash-chained mint audit log. */
export class CredentialsCallerIdsAudit1763800001000 implements MigrationInterface {
  name = 'CredentialsCallerIdsAudit1763800001000';

  async up(db: QueryRunner): Promise<void> {
    // Non-secret fields in `fields`; each secret field as an AES-256-GCM envelope in `secrets`.
    await db.query(`
      CREATE TABLE credentials (
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        provider text NOT NULL CHECK (provider IN ('sinch-voice', 'sinch-project', 'signalwire', 'twilio')),
        fields jsonb NOT NULL,
        secrets jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by_kind text NOT NULL,
        updated_by_id text,
        PRIMARY KEY (org_id, provider)
      )`);

    await db.query(`
      CREATE TABLE phone_numbers (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        provider text NOT NULL CHECK (provider IN ('sinch', 'twilio')),
        phone_number text NOT NULL,
        is_default boolean NOT NULL DEFAULT false,
        label text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX phone_numbers_user_number_key ON phone_numbers (user_id, provider, phone_number)`);
    await db.query(`CREATE UNIQUE INDEX phone_numbers_one_default_key ON phone_numbers (user_id, provider) WHERE is_default`);

    // Each org's mint entries form a hash chain: seq counts up from 1 and hash covers the entry's
    // canonical content and the previous hash; `at` never goes backwards along an org's chain.
    // audit_chain_heads keeps the newest (seq, hash) per org, so removing the newest entries is caught
    // too. Entries are partitioned by month so retention drops whole partitions; a pruning leaves an
    // anchor (the last pruned seq and hash) from which the rest of the chain still verifies.
    await db.query(`
      CREATE TABLE mint_audit (
        org_id uuid NOT NULL,
        at timestamptz NOT NULL,
        seq bigint NOT NULL,
        id uuid NOT NULL,
        provider text NOT NULL,
        action text NOT NULL CHECK (action IN ('mint', 'redeem', 'revoke')),
        actor_kind text NOT NULL,
        actor_id text,
        subject_user_id uuid,
        target text,
        outcome text NOT NULL CHECK (outcome IN ('issued', 'denied', 'failed')),
        code text,
        token_fingerprint text,
        expires_at timestamptz,
        ip text,
        user_agent text,
        request_id text,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL,
        PRIMARY KEY (org_id, at, seq)
      ) PARTITION BY RANGE (at)`);
    // Each filter of GET /api/audit/mints has an index that returns its page in (at, seq) order.
    await db.query(`CREATE INDEX mint_audit_provider_idx ON mint_audit (org_id, provider, at DESC, seq DESC)`);
    await db.query(`CREATE INDEX mint_audit_actor_idx ON mint_audit (org_id, actor_id, at DESC, seq DESC)`);
    await db.query(`CREATE INDEX mint_audit_subject_idx ON mint_audit (org_id, subject_user_id, at DESC, seq DESC)`);
    await db.query(`CREATE INDEX mint_audit_refused_idx ON mint_audit (org_id, outcome, at DESC, seq DESC) WHERE outcome <> 'issued'`);
    await db.query(`CREATE INDEX mint_audit_seq_idx ON mint_audit (org_id, seq)`);
    // Rows of months without a partition land here; maintenance creates partitions ahead so it stays empty.
    await db.query(`CREATE TABLE mint_audit_default PARTITION OF mint_audit DEFAULT`);

    // Append-only: the service may insert and read entries, never change or remove them. Retention
    // removes whole partitions (DROP TABLE), which row triggers do not see.
    await db.query(`
      CREATE FUNCTION mint_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'mint_audit is append-only' USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`CREATE TRIGGER mint_audit_no_update_delete BEFORE UPDATE OR DELETE ON mint_audit FOR EACH ROW EXECUTE FUNCTION mint_audit_append_only()`);
    await db.query(`CREATE TRIGGER mint_audit_no_truncate BEFORE TRUNCATE ON mint_audit FOR EACH STATEMENT EXECUTE FUNCTION mint_audit_append_only()`);
    // TRUNCATE triggers are not inherited by partitions: each one gets its own (see AuditPartitionsService).
    await db.query(`CREATE OR REPLACE TRIGGER mint_audit_no_truncate BEFORE TRUNCATE ON mint_audit_default FOR EACH STATEMENT EXECUTE FUNCTION mint_audit_append_only()`);

    await db.query(`
      CREATE TABLE audit_chain_heads (
        org_id uuid PRIMARY KEY,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        at timestamptz
      )`);
    await db.query(`
      CREATE TABLE audit_chain_anchors (
        org_id uuid NOT NULL,
        seq bigint NOT NULL,
        hash bytea NOT NULL,
        pruned_before timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, seq)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE audit_chain_anchors`);
    await db.query(`DROP TABLE audit_chain_heads`);
    await db.query(`DROP TABLE mint_audit`);
    await db.query(`DROP FUNCTION mint_audit_append_only()`);
    await db.query(`DROP TABLE phone_numbers`);
    await db.query(`DROP TABLE credentials`);
  }
}
