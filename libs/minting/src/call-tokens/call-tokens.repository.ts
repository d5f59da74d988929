import type { SystemDb, TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';

/** A row of `call_tokens` as the service reads it (the token's hash and session stay in the database). */
export interface CallTokenRow {
  id: string;
  org_id: string;
  endpoint_id: string;
  created_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
  revoked_at: Date | null;
  minted_by_kind: 'user' | 'api_key';
  minted_by_id: string;
  /** Its endpoint is active and WebRTC-capable and its org has WebRTC on. */
  usable: boolean;
}

export interface NewCallToken {
  id: string;
  endpointId: string;
  tokenHash: Buffer;
  createdAt: Date;
  expiresAt: Date;
  mintedByKind: 'user' | 'api_key';
  mintedById: string;
}

const USABLE = `EXISTS (SELECT 1 FROM endpoints e JOIN orgs o ON o.id = e.org_id
                      WHERE e.id = t.endpoint_id AND e.state = 'active' AND e.webrtc AND o.webrtc_enabled)`;
const COLUMNS = `t.id, t.org_id, t.endpoint_id, t.created_at, t.expires_at, t.redeemed_at, t.revoked_at, t.minted_by_kind, t.minted_by_id, ${USABLE} AS usable`;

const INSERT = prepared(
  'call_tokens_insert',
  `INSERT INTO call_tokens (id, org_id, endpoint_id, token_hash, created_at, expires_at, minted_by_kind, minted_by_id)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
);
const BY_ID = prepared('call_tokens_by_id', `SELECT ${COLUMNS} FROM call_tokens t WHERE t.id = $1 AND t.org_id = $2`);
const BY_HASH = prepared('call_tokens_by_hash', `SELECT ${COLUMNS} FROM call_tokens t WHERE t.token_hash = $1`);
/**
 * The row, locked without waiting (see CallTokenRowLock): the first statement of a redemption's or a
 * revocation's transaction takes the lock itself, in the round trip that opens the transaction.
 */
const LOCKED_ID = '(SELECT l.id FROM call_tokens l WHERE l.id = $1 FOR UPDATE NOWAIT)';
const REVOKE = prepared('call_tokens_revoke', `UPDATE call_tokens SET revoked_at = $2 WHERE id = ${LOCKED_ID} AND redeemed_at IS NULL AND revoked_at IS NULL RETURNING id`);
const WITHDRAW = prepared('call_tokens_withdraw', 'UPDATE call_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL');
const REDEEM = prepared(
  'call_tokens_redeem',
  `UPDATE call_tokens t SET redeemed_at = $2, session_id = $3
    WHERE t.id = ${LOCKED_ID} AND t.redeemed_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > $2 AND ${USABLE}
    RETURNING t.id`,
);

export const CallTokensRepository = {
  async insert(db: TenantDb, token: NewCallToken): Promise<void> {
    await db.execute(INSERT, [token.id, db.orgId, token.endpointId, token.tokenHash, token.createdAt, token.expiresAt, token.mintedByKind, token.mintedById]);
  },

  async byId(db: TenantDb, id: string): Promise<CallTokenRow | undefined> {
    return (await db.query<CallTokenRow>(BY_ID, [id, db.orgId]))[0];
  },

  /** The token is all its (anonymous) redeemer has: it names its org, so finding it is cross-tenant. */
  async byHash(db: SystemDb, hash: Buffer): Promise<CallTokenRow | undefined> {
    return (await db.query<CallTokenRow>(BY_HASH, [hash]))[0];
  },

  /** Withdraws a stored token that was never handed out (no audit entry was committed for it). */
  async withdraw(db: TenantDb, id: string, at: Date): Promise<void> {
    await db.execute(WITHDRAW, [id, at]);
  },

  /** Locks the row (NOWAIT) and revokes the token within `tx` if it is unredeemed and unrevoked; false if it was not. */
  async revoke(tx: TenantTx, id: string, at: Date): Promise<boolean> {
    return (await tx.query(REVOKE, [id, at])).length > 0;
  },

  /** Locks the row (NOWAIT) and redeems the token within `tx` if it still may be; false if it may not. */
  async redeem(tx: TenantTx, id: string, at: Date, sessionId: string): Promise<boolean> {
    return (await tx.query(REDEEM, [id, at, sessionId])).length > 0;
  },
};
