import type { TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';

/** The telephony credential Mintline keeps for one user (its SIP password is never stored). */
export interface TelnyxCredentialRow {
  credentialId: string;
  sipUsername: string;
  connectionId: string;
}

export interface NewTelnyxCredential extends TelnyxCredentialRow {
  userId: string;
  createdAt: Date;
}

const COLUMNS = 'credential_id AS "credentialId", sip_username AS "sipUsername", connection_id AS "connectionId"';
const BY_USER = prepared('telnyx_credentials_by_user', `SELECT ${COLUMNS} FROM telnyx_credentials WHERE org_id = $1 AND user_id = $2`);
/**
 * Serializes the making of one user's credential across instances: a transaction-scoped advisory lock on
 * the (org, user) pair, taken before the row is read again, held while Telnyx is asked and released at
 * COMMIT. A lock on a row would need the row to exist first (it does not, on first use), and one on the
 * user's row would hold up every change to the user.
 */
const LOCK_USER = prepared('telnyx_credentials_lock_user', "SELECT pg_advisory_xact_lock(hashtextextended('telnyx_credentials:' || $1::text || ':' || $2::text, 0))");
const UPSERT = prepared(
  'telnyx_credentials_upsert',
  `INSERT INTO telnyx_credentials (org_id, user_id, connection_id, credential_id, sip_username, created_at) VALUES ($1, $2, $3, $4, $5, $6)
   ON CONFLICT (org_id, user_id) DO UPDATE
     SET connection_id = EXCLUDED.connection_id, credential_id = EXCLUDED.credential_id, sip_username = EXCLUDED.sip_username, created_at = EXCLUDED.created_at`,
);

/** The table `telnyx_credentials`: one org's rows through its handle or transaction. */
export const TelnyxCredentialsRepository = {
  async byUser(db: TenantDb, userId: string): Promise<TelnyxCredentialRow | undefined> {
    return (await db.query<TelnyxCredentialRow>(BY_USER, [db.orgId, userId]))[0];
  },

  /** Within `tx`: waits for any other making of this user's credential, then reads the row. */
  async lockAndRead(tx: TenantTx, userId: string): Promise<TelnyxCredentialRow | undefined> {
    await tx.query(LOCK_USER, [tx.orgId, userId]);
    return (await tx.query<TelnyxCredentialRow>(BY_USER, [tx.orgId, userId]))[0];
  },

  /** Remembers the user's credential within `tx`, replacing the one before. */
  async save(tx: TenantTx, credential: NewTelnyxCredential): Promise<void> {
    await tx.query(UPSERT, [tx.orgId, credential.userId, credential.connectionId, credential.credentialId, credential.sipUsername, credential.createdAt]);
  },
};
