import type { AnyDb, SystemDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import type { Scope } from '@mintline/access/scopes';

/** What authenticating with a key needs of its row (the entity, ApiKeyEntity, maps the whole row). */
export interface ApiKeyRecord {
  id: string;
  ownerOrgId: string;
  orgId: string;
  scopes: Scope[];
  expiresAt: Date | null;
  maxRequestsPerDay: number | null;
  lastUsedAt: Date | null;
}

const BY_HASH = prepared(
  'api_keys_by_hash',
  `SELECT id, owner_org_id AS "ownerOrgId", org_id AS "orgId", scopes, expires_at AS "expiresAt",
          max_requests_per_day AS "maxRequestsPerDay", last_used_at AS "lastUsedAt"
     FROM api_keys WHERE token_hash = $1`,
);
const TOUCH = prepared('api_keys_touch', 'UPDATE api_keys SET last_used_at = $2 WHERE id = $1');

/** The reads and writes of `api_keys` on the authentication path (management goes through the entity). */
export const ApiKeysRepository = {
  /** A presented key names no org until it is found: a cross-tenant lookup by the hash of its token. */
  async byHash(db: SystemDb, hash: Buffer): Promise<ApiKeyRecord | null> {
    return (await db.query<ApiKeyRecord>(BY_HASH, [hash]))[0] ?? null;
  },

  /** Records that a key was used (the owner org's handle: the key's row is the owner's to write). */
  async touch(db: AnyDb, id: string, at: Date): Promise<void> {
    await db.execute(TOUCH, [id, at]);
  },
};
