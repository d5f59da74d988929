import type { AnyDb, SystemDb, TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import type { Scope } from '@mintline/access/scopes';

/** A row of `api_keys` (the one description of the table's columns). */
export interface ApiKeyRow {
  id: string;
  /** The org that created the key and manages it. */
  owner_org_id: string;
  /** The org the key acts in: the owner, or a direct child org named by `subOrgId` at creation. */
  org_id: string;
  name: string;
  scopes: Scope[];
  prefix: string;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  token_hash: Buffer;
  created_by_kind: 'user' | 'api_key';
  created_by_id: string;
  expires_at: Date | null;
  max_requests_per_day: number | null;
  last_used_at: Date | null;
  created_at: Date;
}

/** A key as its owner's management reads it: everything but the token's hash. */
export type ApiKeyListing = Omit<ApiKeyRow, 'token_hash'>;
export type NewApiKey = Omit<ApiKeyRow, 'owner_org_id' | 'last_used_at' | 'created_at'>;

/** What authenticating with a key needs of its row, in the principal's names. */
export interface ApiKeyRecord {
  id: ApiKeyRow['id'];
  ownerOrgId: ApiKeyRow['owner_org_id'];
  orgId: ApiKeyRow['org_id'];
  scopes: ApiKeyRow['scopes'];
  expiresAt: ApiKeyRow['expires_at'];
  maxRequestsPerDay: ApiKeyRow['max_requests_per_day'];
  lastUsedAt: ApiKeyRow['last_used_at'];
}

const LISTING = 'id, owner_org_id, org_id, name, scopes, prefix, created_by_kind, created_by_id, expires_at, max_requests_per_day, last_used_at, created_at';

const BY_HASH = prepared(
  'api_keys_by_hash',
  `SELECT id, owner_org_id AS "ownerOrgId", org_id AS "orgId", scopes, expires_at AS "expiresAt",
          max_requests_per_day AS "maxRequestsPerDay", last_used_at AS "lastUsedAt"
     FROM api_keys WHERE token_hash = $1`,
);
const TOUCH = prepared('api_keys_touch', 'UPDATE api_keys SET last_used_at = $2 WHERE id = $1');
const OWNED: Sql = { text: `SELECT ${LISTING} FROM api_keys WHERE owner_org_id = $1 ORDER BY created_at, id` };
const LOCK_OWNED: Sql = { text: `SELECT ${LISTING} FROM api_keys WHERE id = $1 AND owner_org_id = $2 FOR UPDATE` };
const INSERT: Sql = {
  text: `INSERT INTO api_keys (id, owner_org_id, org_id, name, scopes, prefix, token_hash, created_by_kind, created_by_id, expires_at, max_requests_per_day, last_used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL)`,
};
const UPDATE: Sql = { text: 'UPDATE api_keys SET name = $3, scopes = $4 WHERE id = $1 AND owner_org_id = $2' };
const DELETE: Sql = { text: 'DELETE FROM api_keys WHERE id = $1 AND owner_org_id = $2' };
const HASH_HEX: Sql = { text: `SELECT encode(token_hash, 'hex') AS hash FROM api_keys WHERE id = $1 AND owner_org_id = $2` };

/**
 * The table `api_keys`. Its owner org manages a key through the org's handle or transaction; a presented
 * key is found by its hash across orgs (the system handle: it names no org until it is found).
 */
export const ApiKeysRepository = {
  /** A presented key names no org until it is found: a cross-tenant lookup by the hash of its token. */
  async byHash(db: SystemDb, hash: Buffer): Promise<ApiKeyRecord | null> {
    return (await db.query<ApiKeyRecord>(BY_HASH, [hash]))[0] ?? null;
  },

  /** Records that a key was used (the owner org's handle: the key's row is the owner's to write). */
  async touch(db: AnyDb, id: string, at: Date): Promise<void> {
    await db.execute(TOUCH, [id, at]);
  },

  /** The keys the handle's org owns, oldest first. */
  async owned(db: TenantDb): Promise<ApiKeyListing[]> {
    return db.query<ApiKeyListing>(OWNED, [db.orgId]);
  },

  /** A key the transaction's org owns, its row locked until `tx` ends. */
  async lockOwned(tx: TenantTx, id: string): Promise<ApiKeyListing | undefined> {
    return (await tx.query<ApiKeyListing>(LOCK_OWNED, [id, tx.orgId]))[0];
  },

  /** A new key owned by the transaction's org. */
  async insert(tx: TenantTx, key: NewApiKey): Promise<void> {
    await tx.query(INSERT, [
      key.id,
      tx.orgId,
      key.org_id,
      key.name,
      key.scopes,
      key.prefix,
      key.token_hash,
      key.created_by_kind,
      key.created_by_id,
      key.expires_at,
      key.max_requests_per_day,
    ]);
  },

  async update(tx: TenantTx, id: string, changes: Pick<ApiKeyRow, 'name' | 'scopes'>): Promise<void> {
    await tx.query(UPDATE, [id, tx.orgId, changes.name, changes.scopes]);
  },

  async delete(tx: TenantTx, id: string): Promise<void> {
    await tx.query(DELETE, [id, tx.orgId]);
  },

  /** The hex of the key's token hash: the key of its cache entries. */
  async tokenHashHex(tx: TenantTx, id: string): Promise<string | undefined> {
    return (await tx.query<{ hash: string }>(HASH_HEX, [id, tx.orgId]))[0]?.hash;
  },
};
