import type { TenantDb, TenantTx } from '@mintline/common/database/db';
import type { Sql } from '@mintline/common/database/statement-batch';

/** A row of `endpoints`: a WebRTC endpoint of an org (the one description of the table's columns). */
export interface EndpointRow {
  id: string;
  org_id: string;
  name: string;
  /** Whether browsers may open WebRTC sessions on it (call tokens are minted only for these). */
  webrtc: boolean;
  state: 'active' | 'archived';
  created_at: Date;
  updated_at: Date;
}

/** What a call-token mint checks of its endpoint. */
export type NewEndpoint = Pick<EndpointRow, 'id' | 'name' | 'webrtc' | 'state'>;
export type EndpointChanges = Pick<EndpointRow, 'name' | 'webrtc' | 'state'>;

const COLUMNS = 'id, org_id, name, webrtc, state, created_at, updated_at';

const LIST: Sql = { text: `SELECT ${COLUMNS} FROM endpoints WHERE org_id = $1 ORDER BY created_at, id` };
const ONE: Sql = { text: `SELECT ${COLUMNS} FROM endpoints WHERE id = $1 AND org_id = $2` };
const LOCK: Sql = { text: `SELECT ${COLUMNS} FROM endpoints WHERE id = $1 AND org_id = $2 FOR UPDATE` };
const INSERT: Sql = { text: `INSERT INTO endpoints (id, org_id, name, webrtc, state) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}` };
const UPDATE: Sql = { text: 'UPDATE endpoints SET name = $3, webrtc = $4, state = $5, updated_at = now() WHERE id = $1 AND org_id = $2' };

/** The table `endpoints`: every method works in one org, the handle's or the transaction's (another org's endpoint does not exist for it). */
export const EndpointsRepository = {
  /** The org's endpoints, oldest first. */
  async list(db: TenantDb): Promise<EndpointRow[]> {
    return db.query<EndpointRow>(LIST, [db.orgId]);
  },

  async find(db: TenantDb, id: string): Promise<EndpointRow | undefined> {
    return (await db.query<EndpointRow>(ONE, [id, db.orgId]))[0];
  },

  /** The endpoint, its row locked until `tx` ends. */
  async lock(tx: TenantTx, id: string): Promise<EndpointRow | undefined> {
    return (await tx.query<EndpointRow>(LOCK, [id, tx.orgId]))[0];
  },

  async insert(tx: TenantTx, endpoint: NewEndpoint): Promise<EndpointRow> {
    const [row] = await tx.query<EndpointRow>(INSERT, [endpoint.id, tx.orgId, endpoint.name, endpoint.webrtc, endpoint.state]);
    return row;
  },

  async update(tx: TenantTx, id: string, changes: EndpointChanges): Promise<void> {
    await tx.query(UPDATE, [id, tx.orgId, changes.name, changes.webrtc, changes.state]);
  },
};
