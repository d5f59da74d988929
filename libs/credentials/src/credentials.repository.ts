import type { TenantDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import type { CredentialEntity } from './credential.entity';
import type { CredentialProvider } from '@mintline/providers/provider-registry';

/** A row of `credentials` in the entity's shape (CredentialEntity is the one description of its columns). */
export type CredentialRecord = Pick<CredentialEntity, 'orgId' | 'provider' | 'fields' | 'secrets' | 'updatedAt' | 'updatedByKind' | 'updatedById'>;

const ONE = prepared(
  'credentials_one',
  `SELECT org_id AS "orgId", provider, fields, secrets, updated_at AS "updatedAt", updated_by_kind AS "updatedByKind", updated_by_id AS "updatedById"
     FROM credentials WHERE org_id = $1 AND provider = $2`,
);

/** The read of `credentials` every mint makes (management goes through the entity). */
export const CredentialsRepository = {
  async find(db: TenantDb, provider: CredentialProvider): Promise<CredentialRecord | undefined> {
    return (await db.query<CredentialRecord>(ONE, [db.orgId, provider]))[0];
  },
};
