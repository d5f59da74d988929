import type { SystemDb, SystemTx, TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';

/** A row of `orgs`: the one description of the table's columns. */
export interface OrgRow {
  id: string;
  name: string;
  parent_org_id: string | null;
  webrtc_enabled: boolean;
  mints_per_minute: number;
  created_at: Date;
  updated_at: Date;
}

/** The columns of `orgs` that every guarded route and mint reads. */
export type OrgSettingsRow = Pick<OrgRow, 'webrtc_enabled' | 'mints_per_minute'>;
export type NewOrg = Pick<OrgRow, 'id' | 'name' | 'parent_org_id'>;
export type OrgChanges = Pick<OrgRow, 'name' | 'webrtc_enabled' | 'mints_per_minute'>;

const COLUMNS = 'id, name, parent_org_id, webrtc_enabled, mints_per_minute, created_at, updated_at';

const SETTINGS = prepared('orgs_settings', 'SELECT webrtc_enabled, mints_per_minute FROM orgs WHERE id = $1');
const EXISTS: Sql = { text: 'SELECT 1 FROM orgs WHERE id = $1' };
const LOCK_EXISTS: Sql = { text: 'SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE' };
const CHILD: Sql = { text: 'SELECT 1 FROM orgs WHERE id = $1 AND parent_org_id = $2' };
const ONE: Sql = { text: `SELECT ${COLUMNS} FROM orgs WHERE id = $1` };
const LOCK: Sql = { text: `SELECT ${COLUMNS} FROM orgs WHERE id = $1 FOR UPDATE` };
const INSERT: Sql = { text: `INSERT INTO orgs (id, name, parent_org_id) VALUES ($1, $2, $3) RETURNING ${COLUMNS}` };
const UPDATE: Sql = { text: 'UPDATE orgs SET name = $2, webrtc_enabled = $3, mints_per_minute = $4, updated_at = now() WHERE id = $1' };

/**
 * The table `orgs`. An org's own row (and its children's, which row-level security shows it) through its
 * handle; creating and changing orgs is the operator's, through the system handle.
 */
export const OrgsRepository = {
  /** The handle's own org's switches and limits. */
  async settings(db: TenantDb): Promise<OrgSettingsRow | undefined> {
    return (await db.query<OrgSettingsRow>(SETTINGS, [db.orgId]))[0];
  },

  /** Whether the transaction's org exists. */
  async exists(tx: TenantTx): Promise<boolean> {
    return (await tx.query(EXISTS, [tx.orgId])).length > 0;
  },

  /**
   * Locks the transaction's org row until the transaction ends: changes to an org's users take turns on
   * it. False when the org does not exist.
   */
  async lock(tx: TenantTx): Promise<boolean> {
    return (await tx.query(LOCK_EXISTS, [tx.orgId])).length > 0;
  },

  /** Whether `childId` is a direct child org of the transaction's org. */
  async isChild(tx: TenantTx, childId: string): Promise<boolean> {
    return (await tx.query(CHILD, [childId, tx.orgId])).length > 0;
  },

  /** Any org by id (the operator's). */
  async find(db: SystemDb, id: string): Promise<OrgRow | undefined> {
    return (await db.query<OrgRow>(ONE, [id]))[0];
  },

  /** Whether any org has this id (the operator's). */
  async existsAny(tx: SystemTx, id: string): Promise<boolean> {
    return (await tx.query(EXISTS, [id])).length > 0;
  },

  /** A new org, with the table's defaults for its switches and limits (the operator's). */
  async insert(tx: SystemTx, org: NewOrg): Promise<OrgRow> {
    const [row] = await tx.query<OrgRow>(INSERT, [org.id, org.name, org.parent_org_id]);
    return row;
  },

  /** Any org by id, its row locked until `tx` ends (the operator's). */
  async lockAny(tx: SystemTx, id: string): Promise<OrgRow | undefined> {
    return (await tx.query<OrgRow>(LOCK, [id]))[0];
  },

  async update(tx: SystemTx, id: string, changes: OrgChanges): Promise<void> {
    await tx.query(UPDATE, [id, changes.name, changes.webrtc_enabled, changes.mints_per_minute]);
  },
};
