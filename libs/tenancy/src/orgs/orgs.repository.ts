import type { TenantDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';

/** The columns of `orgs` that every guarded route and mint reads (OrgEntity maps the whole row). */
export interface OrgSettingsRow {
  webrtc_enabled: boolean;
  mints_per_minute: number;
}

const SETTINGS = prepared('orgs_settings', 'SELECT webrtc_enabled, mints_per_minute FROM orgs WHERE id = $1');

export const OrgsRepository = {
  /** The handle's own org's switches and limits. */
  async settings(db: TenantDb): Promise<OrgSettingsRow | undefined> {
    return (await db.query<OrgSettingsRow>(SETTINGS, [db.orgId]))[0];
  },
};
