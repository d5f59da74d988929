/**
 * The interface every provider shares: it turns decrypted credentials and a request into a token.
 * Providers know nothing of HTTP routes, tenancy or audit; the minting pipeline calls them.
 */
export type MintProviderName = 'sinch' | 'twilio' | 'signalwire-chat' | 'call-token' | 'sinch-oauth';

export interface MintResult {
  /** The token handed to the client. Never logged or stored; audit keeps only its fingerprint. */
  token: string;
  expiresAt: Date;
}

export interface TokenProvider<TCredentials, TRequest, TResult extends MintResult = MintResult> {
  readonly name: MintProviderName;
  mint(credentials: TCredentials, request: TRequest): Promise<TResult>;
}
