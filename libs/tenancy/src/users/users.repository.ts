import type { SystemDb, TenantDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import type { Role } from '@mintline/access/scopes';

/** A row of `users`, as the database returns it (the entity, UserEntity, maps the same columns for TypeORM). */
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

export type UserStatus = Pick<UserRow, 'org_id' | 'role' | 'disabled'>;
export type UserCredentials = Pick<UserRow, 'id' | 'org_id' | 'password_hash' | 'disabled'>;

const BY_EMAIL = prepared('users_by_email', 'SELECT id, org_id, password_hash, disabled FROM users WHERE email = $1');
const STATUS_BY_ID = prepared('users_status_by_id', 'SELECT org_id, role, disabled FROM users WHERE id = $1');
const STATUS_IN_ORG = prepared('users_status_in_org', 'SELECT org_id, role, disabled FROM users WHERE id = $1 AND org_id = $2');
const NAME_IN_ORG = prepared('users_name_in_org', 'SELECT name FROM users WHERE id = $1 AND org_id = $2');

/**
 * The reads of `users` other libraries make (auth logs users in and resolves principals, minting checks
 * the subject of a mint). The org's own management of its users (UsersService) goes through the entity.
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

  /** The display name of a user of the handle's org: null when it has none (or is no user of the org). */
  async nameInOrg(db: TenantDb, id: string): Promise<string | null> {
    return (await db.query<Pick<UserRow, 'name'>>(NAME_IN_ORG, [id, db.orgId]))[0]?.name ?? null;
  },
};
