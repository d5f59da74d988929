import { ApiError } from '@mintline/common/errors/api-error';

/**
 * The providers an org may set a token policy for: those of `POST /api/tokens/{provider}` (the
 * `GET /api/calls/token/sinch` and `/twilio` routes are judged by the sinch and twilio policies too).
 */
export const POLICY_PROVIDERS = ['sinch', 'twilio', 'livekit', 'agora', 'vonage', 'telnyx'] as const;

export type PolicyProvider = (typeof POLICY_PROVIDERS)[number];

export function isPolicyProvider(value: unknown): value is PolicyProvider {
  return typeof value === 'string' && (POLICY_PROVIDERS as readonly string[]).includes(value);
}

/**
 * Each provider's token lifetime when the request asks for none, and whether it can be chosen at all
 * (API.md: Sinch's registration token lives 600 s, Telnyx's 86,400 s). The evaluate route judges a
 * lifetime by these when it is asked about none; a mint declares its own.
 */
export const PROVIDER_LIFETIMES: Readonly<Record<PolicyProvider, { ttlSeconds: number; fixed: boolean }>> = {
  sinch: { ttlSeconds: 600, fixed: true },
  twilio: { ttlSeconds: 3600, fixed: false },
  livekit: { ttlSeconds: 3600, fixed: false },
  agora: { ttlSeconds: 3600, fixed: false },
  vonage: { ttlSeconds: 900, fixed: false },
  telnyx: { ttlSeconds: 86_400, fixed: true },
};

/** A provider a policy may be set for, else 404: there is no such policy to reach. */
export function parsePolicyProvider(value: string): PolicyProvider {
  if (!isPolicyProvider(value)) throw ApiError.notFound(`No provider ${JSON.stringify(value.slice(0, 64))} takes token policies; they are ${POLICY_PROVIDERS.join(', ')}`);
  return value;
}

/** The key of an org's policy for a provider, in the cache and on the invalidation bus. */
export function policyCacheKey(orgId: string, provider: PolicyProvider): string {
  return `${orgId}/${provider}`;
}
