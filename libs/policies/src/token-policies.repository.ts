import type { Role } from '@mintline/access/scopes';
import type { TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import type { PolicyProvider } from './policy-providers';

/** A row of `token_policies`, in the service's names (the one description of the table's columns); a null rule is no rule. */
export interface TokenPolicyRecord {
  provider: PolicyProvider;
  maxTtlSeconds: number | null;
  roles: Role[] | null;
  rooms: string[] | null;
  publish: boolean | null;
  updatedAt: Date;
  updatedByKind: string;
  updatedById: string | null;
}

const COLUMNS = `provider, max_ttl_seconds AS "maxTtlSeconds", roles, rooms, publish, updated_at AS "updatedAt",
                 updated_by_kind AS "updatedByKind", updated_by_id AS "updatedById"`;
const ONE = prepared('token_policies_one', `SELECT ${COLUMNS} FROM token_policies WHERE org_id = $1 AND provider = $2`);
const ALL = prepared('token_policies_all', `SELECT ${COLUMNS} FROM token_policies WHERE org_id = $1 ORDER BY provider`);
const LOCK: Sql = { text: `SELECT ${COLUMNS} FROM token_policies WHERE org_id = $1 AND provider = $2 FOR UPDATE` };
const UPSERT: Sql = {
  text: `INSERT INTO token_policies (org_id, provider, max_ttl_seconds, roles, rooms, publish, updated_at, updated_by_kind, updated_by_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (org_id, provider) DO UPDATE SET max_ttl_seconds = EXCLUDED.max_ttl_seconds, roles = EXCLUDED.roles, rooms = EXCLUDED.rooms,
           publish = EXCLUDED.publish, updated_at = EXCLUDED.updated_at, updated_by_kind = EXCLUDED.updated_by_kind, updated_by_id = EXCLUDED.updated_by_id`,
};
const DELETE: Sql = { text: 'DELETE FROM token_policies WHERE org_id = $1 AND provider = $2' };

/** The table `token_policies`: the read every mint of a provider makes (cached), the org's list, and its changes in its transaction. */
export const TokenPoliciesRepository = {
  async find(db: TenantDb, provider: PolicyProvider): Promise<TokenPolicyRecord | undefined> {
    return (await db.query<TokenPolicyRecord>(ONE, [db.orgId, provider]))[0];
  },

  async list(db: TenantDb): Promise<TokenPolicyRecord[]> {
    return db.query<TokenPolicyRecord>(ALL, [db.orgId]);
  },

  /**
   * The org's policy for the provider, its row locked until `tx` ends (so that two changes at once record
   * each other's result as `before`); undefined when it has none.
   */
  async lock(tx: TenantTx, provider: PolicyProvider): Promise<TokenPolicyRecord | undefined> {
    return (await tx.query<TokenPolicyRecord>(LOCK, [tx.orgId, provider]))[0];
  },

  /** Stores the org's policy for `record.provider`, replacing any it had. */
  async upsert(tx: TenantTx, record: TokenPolicyRecord): Promise<void> {
    await tx.query(UPSERT, [
      tx.orgId,
      record.provider,
      record.maxTtlSeconds,
      record.roles,
      record.rooms,
      record.publish,
      record.updatedAt,
      record.updatedByKind,
      record.updatedById,
    ]);
  },

  async delete(tx: TenantTx, provider: PolicyProvider): Promise<void> {
    await tx.query(DELETE, [tx.orgId, provider]);
  },
};
