import type { SystemTx } from '@mintline/common/database/db';
import type { MINT_PROVIDERS } from './mint-audit.dto';

/** Whose token an entry records: the token routes' providers (POST /api/tokens/{provider}), and the mints of their own routes. */
export type MintAuditProvider = (typeof MINT_PROVIDERS)[number];
export type MintOutcome = 'issued' | 'denied' | 'failed';
/** A mint; for call tokens also their redemption and revocation. */
export type MintAction = 'mint' | 'redeem' | 'revoke';

/** What a caller hands the audit writer for one mint attempt. The token is fingerprinted, never kept. */
export interface MintAuditInput {
  orgId: string;
  provider: MintAuditProvider;
  /** Defaults to 'mint'. */
  action?: MintAction;
  actor: { kind: 'user' | 'api_key' | 'system'; id: string | null };
  subjectUserId: string | null;
  target: string | null;
  outcome: MintOutcome;
  code: string | null;
  token?: string;
  expiresAt: Date | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /**
   * The cache bus version the attempt's cached reads were made at (RequestMeta.freshness): the entry is
   * then committed only if no cache epoch has moved since, else refused with CachesMovedError.
   */
  freshAsOf?: number;
}

/**
 * A kind of change to another table that must commit together with its audit entry, or not at all (a
 * call token's redemption or revocation): MintAuditWriter.recordChange makes it in the transaction that
 * writes the entry. The owning library implements it through its repository.
 */
export interface AuditedChanges<A> {
  /** Orders the kinds of change within one batch (each kind locks its rows before the next). */
  readonly name: string;
  /**
   * Makes those of `changes` that still may be made, within `tx` (the batch's transaction), in as few
   * statements as it can, locking rows in a fixed order; answers the indexes (into `changes`) of those made.
   */
  apply(tx: SystemTx, changes: readonly A[]): Promise<ReadonlySet<number>>;
}
