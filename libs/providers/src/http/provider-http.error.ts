/**
 * What went wrong on the way to or from a provider, before any provider-specific meaning is given
 * to the answer. Messages name the method and the URL without its query string or user info, and
 * never carry request headers or bodies, so they are safe to log and to show.
 */
export type ProviderHttpErrorKind =
  /** The URL is not https and insecure provider URLs are not allowed. No request was made. */
  | 'insecure_url'
  /** The URL could not be parsed, has an unsupported scheme or embeds credentials. No request was made. */
  | 'invalid_url'
  /** The host is, or resolves to, a loopback, private or otherwise non-public address. No connection was made. */
  | 'non_public_address'
  /** Connect + headers + body took longer than the request's timeout. */
  | 'timeout'
  /** Refused, reset, DNS or TLS failure, or the client was closed. */
  | 'connection'
  /** The provider answered 3xx; redirects are never followed. */
  | 'redirect'
  /** The response body is larger than the cap. */
  | 'too_large'
  /** The response says it is JSON but does not parse. */
  | 'invalid_json';

export interface ProviderHttpErrorDetails {
  method: string;
  /** Origin and path only. */
  target: string;
  /** The upstream status when one was received. */
  status?: number;
  /** A low-level error code such as ECONNREFUSED, when there is one. */
  code?: string;
}

export class ProviderHttpError extends Error {
  constructor(
    readonly kind: ProviderHttpErrorKind,
    message: string,
    readonly details: ProviderHttpErrorDetails,
  ) {
    super(message);
    this.name = 'ProviderHttpError';
  }
}
