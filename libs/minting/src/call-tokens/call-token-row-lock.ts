import type { TenantDb, TenantTx } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';

/** PostgreSQL's lock_not_available: a `FOR UPDATE NOWAIT` found the row locked by another transaction. */
const LOCK_NOT_AVAILABLE = '55P03';
/**
 * At most this many transactions per instance hold a call token's row while their audit entry is
 * written. Each keeps a pooled connection (the pool has 20) and the audit writer needs one more to
 * finish their work, so they must never take them all.
 */
const MAX_HOLDERS = 8;
/** How long a request waits, in total, for a token row another request holds, before answering 503. */
const BUSY_WAIT_MS = 3_000;
const RETRY_DELAY_MS = 15;

export const BUSY = Symbol('call-token-row-busy');

/**
 * A redemption or revocation changes the token row and writes its audit entry in one transaction that
 * holds the row's lock until the entry has committed: if the entry cannot be written the change rolls
 * back with it, so the two succeed or fail together. Another request that finds the row locked does not
 * queue on the lock holding a connection (enough of those would starve the audit writer the holder is
 * waiting for); it lets go and looks again shortly, by which time the holder has committed or rolled back.
 */
export class CallTokenRowLock {
  private holders = 0;
  private readonly waiting: Array<() => void> = [];

  /**
   * Runs `attempt` until it answers something other than BUSY, for at most BUSY_WAIT_MS. `attempt` calls
   * `locked` to do its locked work, which answers BUSY when the row is held by another request.
   */
  async retrying<T>(attempt: () => Promise<T | typeof BUSY>): Promise<T> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    for (;;) {
      const result = await attempt();
      if (result !== BUSY) return result;
      if (Date.now() >= deadline) throw ApiError.unavailable('The call token is busy, try again shortly');
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS + Math.floor(Math.random() * RETRY_DELAY_MS)));
    }
  }

  /**
   * Runs `work` in a new transaction of `db`, whose first statement locks the call token's row (FOR
   * UPDATE NOWAIT, see CallTokensRepository: BEGIN, the tenant and that statement travel together); the
   * transaction commits when `work` returns and rolls back when it throws (see Db.transaction: with no
   * answer from the database, or the audit refused, the connection is closed instead, which ends the
   * transaction at once where a ROLLBACK on a silent server would wait out one more timeout). Answers
   * BUSY when the row is locked (or when `work` does, having found the row changed since it was read).
   */
  async locked<T>(db: TenantDb, work: (tx: TenantTx) => Promise<T | typeof BUSY>): Promise<T | typeof BUSY> {
    await this.acquire();
    try {
      return await db.transaction(work);
    } catch (error) {
      if (sqlState(error) === LOCK_NOT_AVAILABLE) return BUSY;
      throw error;
    } finally {
      this.release();
    }
  }

  private async acquire(): Promise<void> {
    if (this.holders < MAX_HOLDERS) {
      this.holders += 1;
      return;
    }
    // The releasing holder hands its place straight over.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.holders -= 1;
  }
}

function sqlState(error: unknown): string | undefined {
  const failure = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = failure?.driverError?.code ?? failure?.code;
  return typeof code === 'string' ? code : undefined;
}
