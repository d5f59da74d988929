import type { CredentialProvider } from '@mintline/providers/provider-registry';

/**
 * Injection token of whoever keeps something derived from an org's credentials (the Sinch OAuth token
 * cache) and must drop it when they change. Declared here, provided by the module that keeps the
 * cache, so that credentials never reach up into it.
 */
export const CREDENTIALS_CHANGED = Symbol('CREDENTIALS_CHANGED');

export interface CredentialsChangedListener {
  /** Called on every instance once a change to the org's credentials of the provider has committed. */
  credentialsChanged(orgId: string, provider: CredentialProvider): void;
}
