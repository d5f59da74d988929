import type { SystemDb, TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import type { CredentialProvider } from '@mintline/providers/provider-registry';
import type { EncryptedSecret } from './envelope-cipher';

/** A row of `credentials`, in the service's names (the one description of the table's columns). */
export interface CredentialRecord {
  orgId: string;
  provider: CredentialProvider;
  /** The non-secret fields, in plain text. */
  fields: Record<string, string>;
  /** Each secret field as its own AES-256-GCM envelope, bound to (org, provider, field). */
  secrets: Record<string, EncryptedSecret>;
  updatedAt: Date;
  updatedByKind: string;
  updatedById: string | null;
}

const COLUMNS = `org_id AS "orgId", provider, fields, secrets, updated_at AS "updatedAt", updated_by_kind AS "updatedByKind", updated_by_id AS "updatedById"`;

const ONE = prepared('credentials_one', `SELECT ${COLUMNS} FROM credentials WHERE org_id = $1 AND provider = $2`);
const ALL: Sql = { text: `SELECT ${COLUMNS} FROM credentials WHERE org_id = $1 ORDER BY provider` };
const EXISTS: Sql = { text: 'SELECT 1 FROM credentials WHERE org_id = $1 AND provider = $2' };
const LOCK: Sql = { text: `SELECT ${COLUMNS} FROM credentials WHERE org_id = $1 AND provider = $2 FOR UPDATE` };
const UPSERT: Sql = {
  text: `INSERT INTO credentials (org_id, provider, fields, secrets, updated_at, updated_by_kind, updated_by_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (org_id, provider) DO UPDATE SET fields = EXCLUDED.fields, secrets = EXCLUDED.secrets, updated_at = EXCLUDED.updated_at,
           updated_by_kind = EXCLUDED.updated_by_kind, updated_by_id = EXCLUDED.updated_by_id`,
};
const SET_SECRETS: Sql = { text: 'UPDATE credentials SET secrets = $3 WHERE org_id = $1 AND provider = $2' };
const DELETE: Sql = { text: 'DELETE FROM credentials WHERE org_id = $1 AND provider = $2' };
const EVERY_KEY: Sql = { text: 'SELECT org_id, provider FROM credentials ORDER BY org_id, provider' };

/** The table `credentials`: an org's reads and changes through its handle or transaction; key rotation walks every org's rows. */
export const CredentialsRepository = {
  /** The org's credentials of one provider (every mint reads them, through a cache). */
  async find(db: TenantDb, provider: CredentialProvider): Promise<CredentialRecord | undefined> {
    return (await db.query<CredentialRecord>(ONE, [db.orgId, provider]))[0];
  },

  /** The org's credentials of every provider, by provider. */
  async list(db: TenantDb): Promise<CredentialRecord[]> {
    return db.query<CredentialRecord>(ALL, [db.orgId]);
  },

  async exists(tx: TenantTx, provider: CredentialProvider): Promise<boolean> {
    return (await tx.query(EXISTS, [tx.orgId, provider])).length > 0;
  },

  /** The org's credentials of one provider, their row locked until `tx` ends. */
  async lock(tx: TenantTx, provider: CredentialProvider): Promise<CredentialRecord | undefined> {
    return (await tx.query<CredentialRecord>(LOCK, [tx.orgId, provider]))[0];
  },

  /** Stores the org's credentials of `record.provider`, replacing any it had. */
  async upsert(tx: TenantTx, record: Omit<CredentialRecord, 'orgId'>): Promise<void> {
    await tx.query(UPSERT, [
      tx.orgId,
      record.provider,
      JSON.stringify(record.fields),
      JSON.stringify(record.secrets),
      record.updatedAt,
      record.updatedByKind,
      record.updatedById,
    ]);
  },

  /** Replaces the secret envelopes only (key rotation: the same values under another key). */
  async setSecrets(tx: TenantTx, provider: CredentialProvider, secrets: CredentialRecord['secrets']): Promise<void> {
    await tx.query(SET_SECRETS, [tx.orgId, provider, JSON.stringify(secrets)]);
  },

  /** False when the org had none for the provider. */
  async delete(tx: TenantTx, provider: CredentialProvider): Promise<boolean> {
    return (await tx.execute(DELETE, [tx.orgId, provider])).rowCount > 0;
  },

  /** Which org has credentials of which provider, across every org (key rotation's walk). */
  async everyKey(db: SystemDb): Promise<Array<{ org_id: string; provider: CredentialProvider }>> {
    return db.query<{ org_id: string; provider: CredentialProvider }>(EVERY_KEY);
  },
};
