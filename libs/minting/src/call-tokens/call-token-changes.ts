import type { AuditedChanges } from '@mintline/audit/mints/mint-audit.types';
import { ApiError } from '@mintline/common/errors/api-error';
import { CallTokenChange, CallTokensRepository } from './call-tokens.repository';

/**
 * Redemptions and revocations of call tokens, made by the mint audit writer in the transaction that
 * commits their audit entries (MintAuditWriter.recordChange): a change commits with its entry or not
 * at all, and the token's row is locked only inside that transaction, never across a request.
 */
export const CALL_TOKEN_CHANGES: AuditedChanges<CallTokenChange> = {
  name: 'call_tokens',
  apply: (tx, changes) => CallTokensRepository.settle(tx, changes),
};

/** An attempt whose change was not made: the token was redeemed, revoked or made unusable since it was read. */
export const LOST = Symbol('call-token-change-lost');

/** How long a request keeps looking again after losing its change, before answering 503. */
const LOOK_AGAIN_MS = 3_000;

/**
 * Runs `attempt` until it answers something other than LOST. An attempt reads the token, answers (or
 * throws) what its state calls for, or hands its change to the writer; a change not made means another
 * request's change committed first, so the next look sees the token's new state and answers for it.
 */
export async function lookingAgain<T>(attempt: () => Promise<T | typeof LOST>): Promise<T> {
  const deadline = Date.now() + LOOK_AGAIN_MS;
  for (;;) {
    const result = await attempt();
    if (result !== LOST) return result;
    if (Date.now() >= deadline) throw ApiError.unavailable('The call token is busy, try again shortly');
  }
}
