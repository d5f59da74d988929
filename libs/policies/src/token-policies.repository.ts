import type { TenantDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import type { TokenPolicyEntity } from './token-policy.entity';
import type { PolicyProvider } from './policy-providers';

/** A row of `token_policies` in the entity's shape (TokenPolicyEntity is the one description of its columns). */
export type TokenPolicyRecord = Pick<TokenPolicyEntity, 'provider' | 'maxTtlSeconds' | 'roles' | 'rooms' | 'publish' | 'updatedAt' | 'updatedByKind' | 'updatedById'>;

const COLUMNS = `provider, max_ttl_seconds AS "maxTtlSeconds", roles, rooms, publish, updated_at AS "updatedAt",
                 updated_by_kind AS "updatedByKind", updated_by_id AS "updatedById"`;
const ONE = prepared('token_policies_one', `SELECT ${COLUMNS} FROM token_policies WHERE org_id = $1 AND provider = $2`);
const ALL = prepared('token_policies_all', `SELECT ${COLUMNS} FROM token_policies WHERE org_id = $1 ORDER BY provider`);

/** The reads of `token_policies`: the one every mint of a provider makes (cached), and the org's list. Changes go through the entity. */
export const TokenPoliciesRepository = {
  async find(db: TenantDb, provider: PolicyProvider): Promise<TokenPolicyRecord | undefined> {
    return (await db.query<TokenPolicyRecord>(ONE, [db.orgId, provider]))[0];
  },

  async list(db: TenantDb): Promise<TokenPolicyRecord[]> {
    return db.query<TokenPolicyRecord>(ALL, [db.orgId]);
  },
};
