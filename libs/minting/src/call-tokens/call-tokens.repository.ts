import type { SystemDb, SystemTx, TenantDb } from '@mintline/common/database/db';
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

/**
 * The endpoint's check and the insert in one statement (one round trip instead of two): the token is
 * stored only if its endpoint (of this org: the org is $2, and row-level security says so too) is
 * WebRTC-capable and active, and the endpoint's state comes back to name the refusal; no row: no such
 * endpoint in this org.
 */
const INSERT = prepared(
  'call_tokens_insert_for_endpoint',
  `WITH e AS (
      SELECT e.webrtc, e.state FROM endpoints e WHERE e.id = $3 AND e.org_id = $2
    ), inserted AS (
      INSERT INTO call_tokens (id, org_id, endpoint_id, token_hash, created_at, expires_at, minted_by_kind, minted_by_id)
      SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM e WHERE e.webrtc AND e.state = 'active'
      RETURNING 1
    )
    SELECT e.webrtc, e.state, EXISTS (SELECT 1 FROM inserted) AS inserted FROM e`,
);
const BY_ID = prepared('call_tokens_by_id', `SELECT ${COLUMNS} FROM call_tokens t WHERE t.id = $1 AND t.org_id = $2`);
const BY_HASH = prepared('call_tokens_by_hash', `SELECT ${COLUMNS} FROM call_tokens t WHERE t.token_hash = $1`);
const WITHDRAW = prepared('call_tokens_withdraw', 'UPDATE call_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL');

/** A redemption or a revocation of one token, to be made only together with its audit entry (see CallTokensRepository.settle). */
export interface CallTokenChange {
  orgId: string;
  id: string;
  action: 'redeem' | 'revoke';
  /** When it happens: a redemption needs the token unexpired at this moment. */
  at: Date;
  /** The session a redemption hands out; null for a revocation. */
  sessionId: string | null;
}

/**
 * Settles one org's changes ($1: a JSON array of {i, id, action, at, session_id}) and answers the `i` of
 * those made. The rows are locked first, in id order (so that two batches, on any instances, never wait
 * for each other in a cycle), then changed only if still unredeemed and unrevoked (a redemption also
 * unexpired and usable). Of several changes to one token only the first in the batch is tried; the
 * others are not made. Under READ COMMITTED a row another transaction changed while this one waited for
 * its lock is judged again as that transaction left it, so of any number of concurrent redeemers, on
 * any instances, exactly one changes the row.
 */
const SETTLE = prepared(
  'call_tokens_settle',
  `WITH c AS (
      SELECT * FROM jsonb_to_recordset($1::jsonb) AS c(i int, id uuid, action text, at timestamptz, session_id uuid)
    ), w AS (
      SELECT DISTINCT ON (c.id) c.* FROM c ORDER BY c.id, c.i
    ), locked AS MATERIALIZED (
      SELECT l.id FROM call_tokens l WHERE l.id IN (SELECT id FROM w) ORDER BY l.id FOR UPDATE OF l
    )
    UPDATE call_tokens t
       SET redeemed_at = CASE WHEN w.action = 'redeem' THEN w.at END,
           session_id = CASE WHEN w.action = 'redeem' THEN w.session_id END,
           revoked_at = CASE WHEN w.action = 'revoke' THEN w.at END
      FROM w JOIN locked ON locked.id = w.id
     WHERE t.id = w.id AND t.redeemed_at IS NULL AND t.revoked_at IS NULL
       AND (w.action = 'revoke' OR (t.expires_at > w.at AND ${USABLE}))
    RETURNING w.i`,
);

export const CallTokensRepository = {
  /** Stores the token if its endpoint takes new sessions; else answers why not (and stores nothing). */
  async insertForEndpoint(db: TenantDb, token: NewCallToken): Promise<'inserted' | 'no_endpoint' | 'not_webrtc' | 'archived'> {
    const [endpoint] = await db.query<{ webrtc: boolean; state: string; inserted: boolean }>(INSERT, [
      token.id,
      db.orgId,
      token.endpointId,
      token.tokenHash,
      token.createdAt,
      token.expiresAt,
      token.mintedByKind,
      token.mintedById,
    ]);
    if (!endpoint) return 'no_endpoint';
    if (endpoint.inserted) return 'inserted';
    return endpoint.webrtc ? 'archived' : 'not_webrtc';
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

  /**
   * Makes the changes that still may be made, within `tx` (the audit batch's transaction, see
   * MintAuditWriter.recordChange), each org's under its own tenant setting (SystemTx.asOrgs: row-level
   * security confines every statement to its org, though the batch spans orgs), orgs in id order; all in
   * one round trip. Answers the indexes (into `changes`) of those made.
   */
  async settle(tx: SystemTx, changes: readonly CallTokenChange[]): Promise<Set<number>> {
    const byOrg = new Map<string, Array<{ i: number; id: string; action: string; at: string; session_id: string | null }>>();
    changes.forEach((change, i) => {
      const orgId = change.orgId.toLowerCase();
      let list = byOrg.get(orgId);
      if (!list) byOrg.set(orgId, (list = []));
      list.push({ i, id: change.id, action: change.action, at: change.at.toISOString(), session_id: change.sessionId });
    });
    const orgIds = [...byOrg.keys()].sort();
    const results = await tx.asOrgs<{ i: number }>(orgIds.map((orgId) => ({ orgId, sql: SETTLE, values: [JSON.stringify(byOrg.get(orgId))] })));
    const made = new Set<number>();
    for (const result of results) for (const row of result.rows) made.add(row.i);
    return made;
  },
};
