import type { TenantDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import type { CallerIdProvider } from './phone-number.entity';

/** A user's default number for one provider, as every voice mint reads it (PhoneNumberEntity maps the whole row). */
export interface DefaultNumberRow {
  provider: CallerIdProvider;
  phone_number: string;
}

const DEFAULTS = prepared('phone_numbers_defaults', 'SELECT provider, phone_number FROM phone_numbers WHERE org_id = $1 AND user_id = $2 AND is_default');

export const PhoneNumbersRepository = {
  async defaultsOf(db: TenantDb, userId: string): Promise<DefaultNumberRow[]> {
    return db.query<DefaultNumberRow>(DEFAULTS, [db.orgId, userId]);
  },
};
