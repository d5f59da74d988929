import type { TenantDb, TenantTx } from '@mintline/common/database/db';
import { prepared, Sql } from '@mintline/common/database/statement-batch';

export type CallerIdProvider = 'sinch' | 'twilio';

/** A row of `phone_numbers`: a user's caller ID for one provider (the one description of the table's columns). */
export interface PhoneNumberRow {
  id: string;
  org_id: string;
  user_id: string;
  provider: CallerIdProvider;
  /** E.164, e.g. +14165550100. */
  phone_number: string;
  is_default: boolean;
  label: string | null;
  created_at: Date;
}

/** A user's default number for one provider, as every voice mint reads it. */
export type DefaultNumberRow = Pick<PhoneNumberRow, 'provider' | 'phone_number'>;
export type NewPhoneNumber = Omit<PhoneNumberRow, 'org_id' | 'created_at'>;

const COLUMNS = 'id, org_id, user_id, provider, phone_number, is_default, label, created_at';

const DEFAULTS = prepared('phone_numbers_defaults', 'SELECT provider, phone_number FROM phone_numbers WHERE org_id = $1 AND user_id = $2 AND is_default');
const OF_USER: Sql = { text: `SELECT ${COLUMNS} FROM phone_numbers WHERE org_id = $1 AND user_id = $2 ORDER BY created_at, id` };
const ONE_OF_USER: Sql = { text: `SELECT ${COLUMNS} FROM phone_numbers WHERE id = $1 AND user_id = $2 AND org_id = $3` };
const HAS_NUMBER: Sql = { text: 'SELECT 1 FROM phone_numbers WHERE org_id = $1 AND user_id = $2 AND provider = $3 AND phone_number = $4' };
const HAS_ANY: Sql = { text: 'SELECT 1 FROM phone_numbers WHERE org_id = $1 AND user_id = $2 AND provider = $3' };
const CLEAR_DEFAULT: Sql = { text: 'UPDATE phone_numbers SET is_default = false WHERE org_id = $1 AND user_id = $2 AND provider = $3 AND is_default' };
const INSERT: Sql = {
  text: `INSERT INTO phone_numbers (id, org_id, user_id, provider, phone_number, is_default, label) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
};
const DELETE: Sql = { text: 'DELETE FROM phone_numbers WHERE id = $1 AND org_id = $2' };

/** The table `phone_numbers`: every method works in one org, the handle's or the transaction's. */
export const PhoneNumbersRepository = {
  async defaultsOf(db: TenantDb, userId: string): Promise<DefaultNumberRow[]> {
    return db.query<DefaultNumberRow>(DEFAULTS, [db.orgId, userId]);
  },

  /** The user's numbers, oldest first. */
  async ofUser(db: TenantDb, userId: string): Promise<PhoneNumberRow[]> {
    return db.query<PhoneNumberRow>(OF_USER, [db.orgId, userId]);
  },

  async findOfUser(tx: TenantTx, id: string, userId: string): Promise<PhoneNumberRow | undefined> {
    return (await tx.query<PhoneNumberRow>(ONE_OF_USER, [id, userId, tx.orgId]))[0];
  },

  /** Whether the user has this number for the provider, or (no number given) any number for it. */
  async has(tx: TenantTx, userId: string, provider: CallerIdProvider, phoneNumber?: string): Promise<boolean> {
    const rows = phoneNumber === undefined ? await tx.query(HAS_ANY, [tx.orgId, userId, provider]) : await tx.query(HAS_NUMBER, [tx.orgId, userId, provider, phoneNumber]);
    return rows.length > 0;
  },

  /** The user's number for the provider is no longer the default (there is at most one). */
  async clearDefault(tx: TenantTx, userId: string, provider: CallerIdProvider): Promise<void> {
    await tx.query(CLEAR_DEFAULT, [tx.orgId, userId, provider]);
  },

  async insert(tx: TenantTx, number: NewPhoneNumber): Promise<PhoneNumberRow> {
    const [row] = await tx.query<PhoneNumberRow>(INSERT, [number.id, tx.orgId, number.user_id, number.provider, number.phone_number, number.is_default, number.label]);
    return row;
  },

  async delete(tx: TenantTx, id: string): Promise<void> {
    await tx.query(DELETE, [id, tx.orgId]);
  },
};
