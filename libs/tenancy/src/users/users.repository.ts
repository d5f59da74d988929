import type { SystemDb, TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';
import type { Role } from '@mintline/access/scopes';

/** A row of `users`, as the database returns it: the one description of the table's columns. */
export interface UserRow {
  id: string;
  org_id: string;
  email: string;
  name: string | null;
  role: Role;
  password_hash: string;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A user as the org's management reads it: every column but the password hash. */
export type UserRecord = Omit<UserRow, 'password_hash'>;
export type UserStatus = Pick<UserRow, 'org_id' | 'role' | 'disabled'>;
export type UserCredentials = Pick<UserRow, 'id' | 'org_id' | 'password_hash' | 'disabled'>;
export type NewUser = Pick<UserRow, 'id' | 'email' | 'name' | 'role' | 'password_hash'>;
/** What a change may set; a password hash only when the password changes. */
export type UserChanges = Pick<UserRow, 'name' | 'role' | 'disabled'> & { password_hash?: string };

const RECORD = 'id, org_id, email, name, role, disabled, created_at, updated_at';

const BY_EMAIL = prepared('users_by_email', 'SELECT id, org_id, password_hash, disabled FROM users WHERE email = $1');
const STATUS_BY_ID = prepared('users_status_by_id', 'SELECT org_id, role, disabled FROM users WHERE id = $1');
const STATUS_IN_ORG = prepared('users_status_in_org', 'SELECT org_id, role, disabled FROM users WHERE id = $1 AND org_id = $2');
const LIST: Sql = { text: `SELECT ${RECORD} FROM users WHERE org_id = $1 ORDER BY created_at, id` };
const ONE: Sql = { text: `SELECT ${RECORD} FROM users WHERE id = $1 AND org_id = $2` };
const LOCK: Sql = { text: `SELECT ${RECORD} FROM users WHERE id = $1 AND org_id = $2 FOR UPDATE` };
const INSERT: Sql = {
  text: `INSERT INTO users (id, org_id, email, name, role, password_hash, disabled) VALUES ($1, $2, $3, $4, $5, $6, false) RETURNING ${RECORD}`,
};
const LOCK_ADMINS: Sql = { text: `SELECT id, disabled FROM users WHERE org_id = $1 AND role = 'admin' ORDER BY id FOR UPDATE` };
const UPDATE: Sql = {
  text: `UPDATE users SET name = $3, role = $4, disabled = $5, password_hash = coalesce($6, password_hash), updated_at = now() WHERE id = $1 AND org_id = $2`,
};
const DELETE: Sql = { text: 'DELETE FROM users WHERE id = $1 AND org_id = $2' };
const NAME_IN_ORG = prepared('users_name_in_org', 'SELECT name FROM users WHERE id = $1 AND org_id = $2');

/**
 * The table `users`. An org's reads and changes take its handle or transaction (the org comes from it);
 * the two cross-tenant reads (login by email, the principal of an access token) take the system handle.
 */
export const UsersRepository = {
  /** Emails are unique across orgs and a login names no org: a cross-tenant lookup. */
  async credentialsByEmail(db: SystemDb, email: string): Promise<UserCredentials | undefined> {
    return (await db.query<UserCredentials>(BY_EMAIL, [email]))[0];
  },

  /** Whose a user id is and whether it may act: the principal of an access token (cross-tenant by nature). */
  async statusById(db: SystemDb, id: string): Promise<UserStatus | undefined> {
    return (await db.query<UserStatus>(STATUS_BY_ID, [id]))[0];
  },

  /** A user of the handle's org, or undefined (another org's user does not exist for it). */
  async statusInOrg(db: TenantDb, id: string): Promise<UserStatus | undefined> {
    return (await db.query<UserStatus>(STATUS_IN_ORG, [id, db.orgId]))[0];
  },

  /** The org's users, oldest first. */
  async list(db: TenantDb): Promise<UserRecord[]> {
    return db.query<UserRecord>(LIST, [db.orgId]);
  },

  async find(db: TenantDb, id: string): Promise<UserRecord | undefined> {
    return (await db.query<UserRecord>(ONE, [id, db.orgId]))[0];
  },

  /** The org's user, its row locked until `tx` ends; undefined when the org has no such user. */
  async lock(tx: TenantTx, id: string): Promise<UserRecord | undefined> {
    return (await tx.query<UserRecord>(LOCK, [id, tx.orgId]))[0];
  },

  /** The org's admins, each row locked (in id order, so that two transactions cannot deadlock on them). */
  async lockAdmins(tx: TenantTx): Promise<Array<Pick<UserRow, 'id' | 'disabled'>>> {
    return tx.query<Pick<UserRow, 'id' | 'disabled'>>(LOCK_ADMINS, [tx.orgId]);
  },

  /** A new, enabled user of the transaction's org (a taken email fails with 23505, unique_violation). */
  async insert(tx: TenantTx, user: NewUser): Promise<UserRecord> {
    const [row] = await tx.query<UserRecord>(INSERT, [user.id, tx.orgId, user.email, user.name, user.role, user.password_hash]);
    return row;
  },

  async update(tx: TenantTx, id: string, changes: UserChanges): Promise<void> {
    await tx.query(UPDATE, [id, tx.orgId, changes.name, changes.role, changes.disabled, changes.password_hash ?? null]);
  },

  async delete(tx: TenantTx, id: string): Promise<void> {
    await tx.query(DELETE, [id, tx.orgId]);
  },

  /** The display name of a user of the handle's org: null when it has none (or is no user of the org). */
  async nameInOrg(db: TenantDb, id: string): Promise<string | null> {
    return (await db.query<Pick<UserRow, 'name'>>(NAME_IN_ORG, [id, db.orgId]))[0]?.name ?? null;
  },
};
