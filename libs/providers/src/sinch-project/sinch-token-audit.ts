import type { SinchAccessToken } from './sinch-access-token';

/**
 * Injection token of the audit of every Sinch OAuth access token fetched (provider `sinch-oauth`,
 * actor system). Declared here, provided by the module that owns mint auditing.
 */
export const SINCH_TOKEN_AUDIT = Symbol('SINCH_TOKEN_AUDIT');

export interface SinchTokenAudit {
  /**
   * Called once for every token fetched from Sinch (not for cache hits), before it is cached or used;
   * if it throws, the token is discarded and the caller sees the error: fail-closed.
   */
  tokenFetched(orgId: string, token: SinchAccessToken): Promise<void>;
}
