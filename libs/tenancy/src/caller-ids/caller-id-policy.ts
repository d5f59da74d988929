import type { CallerIdProvider } from './phone-numbers.repository';

/**
 * Injection token of the check a caller ID must pass before it is stored (the Sinch trunk check).
 * Declared here, provided by the module that can ask the provider, so tenancy never reaches up to it.
 */
export const CALLER_ID_POLICY = Symbol('CALLER_ID_POLICY');

export interface CallerIdPolicy {
  /** Throws the refusal (e.g. 422 NUMBER_NOT_ON_TRUNK) when the number may not be the org's caller ID. */
  assertAllowed(orgId: string, provider: CallerIdProvider, phoneNumber: string): Promise<void>;
}
