import type { AnyDb, Db } from '@mintline/common/database/db';
import type { Principal } from './principal';

/** The database handle of a principal's request: its org's rows, or every org's for the operator's routes. */
export function dbOf(db: Db, principal: Principal): AnyDb {
  return principal.kind === 'operator' ? db.system('operator') : db.forOrg(principal.orgId);
}
