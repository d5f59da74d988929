import { ApiError } from '@mintline/common/errors/api-error';
import { ProviderHttpClient, ProviderHttpRequest, ProviderHttpResponse } from './provider-http.client';
import { ProviderHttpError } from './provider-http.error';

/**
 * Turns a transport failure into the contract's provider codes: an upstream that cannot be reached
 * in time is PROVIDER_UNAVAILABLE; one that answers something unusable is PROVIDER_ERROR.
 * Anything that is not a ProviderHttpError is returned unchanged.
 * The messages reach the caller, so they never carry a socket error code: telling a refused port from
 * a reset one would make the service a port scanner for whoever stores the URL (API.md, "Outbound addresses").
 */
export function transportFailure(provider: string, error: unknown): unknown {
  if (!(error instanceof ProviderHttpError)) return error;
  switch (error.kind) {
    case 'timeout':
      return ApiError.provider('PROVIDER_UNAVAILABLE', `${provider} did not answer in time`);
    case 'connection':
      return ApiError.provider('PROVIDER_UNAVAILABLE', `${provider} could not be reached`);
    case 'invalid_json':
      // A 5xx with a garbled body is still an outage, not a contract violation.
      return error.details.status !== undefined && error.details.status >= 500
        ? ApiError.provider('PROVIDER_UNAVAILABLE', `${provider} answered HTTP ${error.details.status}`)
        : ApiError.provider('PROVIDER_ERROR', `${provider} answered HTTP ${error.details.status ?? '?'} with invalid JSON`);
    case 'redirect':
      return ApiError.provider('PROVIDER_ERROR', `${provider} answered with a redirect (HTTP ${error.details.status}), which is not followed`);
    case 'too_large':
      return ApiError.provider('PROVIDER_ERROR', `${provider} answered with an oversized body`);
    case 'insecure_url':
      return ApiError.provider('PROVIDER_ERROR', `${provider} URL must use https`);
    case 'invalid_url':
      return ApiError.provider('PROVIDER_ERROR', `${provider} URL is invalid`);
    case 'non_public_address':
      return ApiError.provider('PROVIDER_ERROR', `${provider} URL does not lead to a public address; no connection was made`);
  }
}

/**
 * Sends a request and resolves with any answer below 500 (except 429); transport failures, 5xx and 429
 * become PROVIDER_UNAVAILABLE (which is what a circuit breaker counts), the rest as transportFailure says.
 */
export async function requestProvider(http: ProviderHttpClient, provider: string, request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
  let response: ProviderHttpResponse;
  try {
    response = await http.request(request);
  } catch (error) {
    throw transportFailure(provider, error);
  }
  if (response.status >= 500 || response.status === 429) {
    throw ApiError.provider('PROVIDER_UNAVAILABLE', `${provider} answered HTTP ${response.status}`);
  }
  return response;
}

/** A short, human explanation of a failure, for `verify` answers; as safe to show as transportFailure's. */
export function describeFailure(error: unknown, provider = 'The provider'): string {
  const mapped = transportFailure(provider, error);
  if (mapped instanceof ApiError) return mapped.message;
  return 'unexpected error';
}
