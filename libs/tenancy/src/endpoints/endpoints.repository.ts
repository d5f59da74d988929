import type { TenantDb } from '@mintline/common/database/db';
import { prepared } from '@mintline/common/database/statement-batch';
import type { EndpointEntity } from './endpoint.entity';

/** What a call-token mint checks of its endpoint (EndpointEntity maps the whole row). */
export type EndpointState = Pick<EndpointEntity, 'webrtc' | 'state'>;

const STATE = prepared('endpoints_state', 'SELECT webrtc, state FROM endpoints WHERE id = $1 AND org_id = $2');

export const EndpointsRepository = {
  /** An endpoint of the handle's org, or undefined (another org's does not exist for it). */
  async state(db: TenantDb, id: string): Promise<EndpointState | undefined> {
    return (await db.query<EndpointState>(STATE, [id, db.orgId]))[0];
  },
};
