import { applyDecorators, SetMetadata, UseFilters } from '@nestjs/common';
import { MINT_ROUTE } from '@mintline/access/mint-route';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { isPolicyProvider } from '@mintline/policies/policy-providers';
import { MintRefusalFilter } from './mint-refusal.filter';
import type { MintRouteProvider } from './mint-route-provider';

/** The refusal of a mint outside its org's token policy (see TokenPolicyJudge). */
export const POLICY_DENIED_DOC = "POLICY_DENIED: outside the org's token policy for this provider; details name the rules (roles, rooms, publish, maxTtlSeconds)";

/**
 * Marks a route as a mint: refusals that happen before its handler runs (a missing scope, a disabled
 * feature) are recorded in the mint audit too, as denied attempts of this provider, by the pipeline
 * (through MintRefusalFilter; the access guard itself knows nothing of mints). A provider that takes
 * token policies (every one of POST /api/tokens/{provider}) documents their refusal.
 */
export const MintRoute = (provider: MintRouteProvider) =>
  applyDecorators(
    SetMetadata(MINT_ROUTE, provider),
    UseFilters(MintRefusalFilter),
    ApiErrorResponse(429, "RATE_LIMITED: the org's mintsPerMinute is used up, with Retry-After"),
    ...(typeof provider === 'function' || isPolicyProvider(provider) ? [ApiErrorResponse(403, POLICY_DENIED_DOC)] : []),
  );
