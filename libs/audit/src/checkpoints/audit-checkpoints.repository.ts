import type { SystemDb, SystemTx } from '@mintline/common/database/db';
import type { LongRead } from '@mintline/common/database/pg-client';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import type { Checkpoint } from './audit-checkpoint';
import { checkpointOf, CheckpointColumns } from './checkpoint.query';

/** A row of `audit_checkpoints`: a signature over one org's chain at one entry. */
export interface AuditCheckpointRow {
  org_id: string;
  seq: string;
  hash: Buffer;
  at: Date;
  key_id: string;
  signature: Buffer;
}

/** $1: the asked heads, a JSON array of {i, org_id, seq}. */
const COVERS = prepared(
  'audit_checkpoints_covers',
  `SELECT a.i, a.org_id, c.hash AS checkpoint_hash, c.at AS checkpoint_at, c.key_id AS checkpoint_key_id, c.signature AS checkpoint_signature,
          EXISTS (SELECT 1 FROM audit_checkpoints x WHERE x.org_id = a.org_id) AS has_any
     FROM jsonb_to_recordset($1::jsonb) AS a(i int, org_id uuid, seq bigint)
     LEFT JOIN audit_checkpoints c ON c.org_id = a.org_id AND c.seq = a.seq`,
);

/** $1: the checkpoints of several orgs, a JSON array. */
const INSERT_MANY = prepared(
  'audit_checkpoints_insert',
  `INSERT INTO audit_checkpoints (org_id, seq, hash, at, key_id, signature)
   SELECT c.org_id, c.seq, decode(c.hash, 'hex'), c.at, c.key_id, decode(c.signature, 'base64')
     FROM jsonb_to_recordset($1::jsonb)
       AS c(org_id uuid, seq bigint, hash text, at timestamptz, key_id text, signature text)
   ON CONFLICT (org_id, seq) DO NOTHING`,
);

const INSERT_ONE: Sql = {
  text: `INSERT INTO audit_checkpoints (org_id, seq, hash, at, key_id, signature) VALUES ($1, $2, decode($3, 'hex'), $4, $5, decode($6, 'base64'))`,
};

const FIRST_AFTER = `SELECT seq, hash AS checkpoint_hash, at AS checkpoint_at, key_id AS checkpoint_key_id, signature AS checkpoint_signature
                       FROM audit_checkpoints WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT 1`;

const DELETE_THROUGH: Sql = { text: 'DELETE FROM audit_checkpoints WHERE org_id = $1 AND seq <= $2' };

/** The checkpoint stored at an asked head (if any), and whether the org has any checkpoint at all. */
export type CoverRow = CheckpointColumns & { i: number; org_id: string; has_any: boolean };

/**
 * The table `audit_checkpoints`. The checkpoint writer and its cover lookups work on batches of many orgs
 * (the system handle); the verifier reads one org's through its long read; retention and the CLI write
 * through a system transaction, naming the org.
 */
export const AuditCheckpointsRepository = {
  /** For each asked head (`i` its index), the checkpoint stored at its seq, in one statement. */
  async covers(db: SystemDb, heads: ReadonlyArray<{ i: number; org_id: string; seq: number }>): Promise<CoverRow[]> {
    return db.query<CoverRow>(COVERS, [JSON.stringify(heads)]);
  },

  /** Checkpoints of several orgs in one statement; one already stored at an (org, seq) is kept. */
  async insertMany(db: SystemDb, checkpoints: readonly Checkpoint[]): Promise<void> {
    const rows = checkpoints.map((c) => ({ org_id: c.orgId, seq: c.seq, hash: c.hash, at: c.at, key_id: c.keyId, signature: c.signature }));
    await db.execute(INSERT_MANY, [JSON.stringify(rows)]);
  },

  async insert(tx: SystemTx, checkpoint: Checkpoint): Promise<void> {
    await tx.query(INSERT_ONE, [checkpoint.orgId, checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.keyId, checkpoint.signature]);
  },

  /** The org's first checkpoint past `seq`, if any. */
  async firstAfter(read: LongRead, seq: number): Promise<Checkpoint | undefined> {
    const [row] = await read.query<CheckpointColumns & { seq: string }>(FIRST_AFTER, [read.orgId, String(seq)]);
    return row ? checkpointOf(read.orgId, Number(row.seq), row) : undefined;
  },

  /** Drops the org's checkpoints of entries up to `seq` (retention: an anchor stands for them). */
  async deleteThrough(tx: SystemTx, orgId: string, seq: string): Promise<void> {
    await tx.query(DELETE_THROUGH, [orgId, seq]);
  },
};
