import { applyDecorators, SetMetadata, UseFilters } from '@nestjs/common';
import { MINT_ROUTE } from '@mintline/access/mint-route';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import { MintRefusalFilter } from './mint-refusal.filter';
import type { MintRouteProvider } from './mint-route-provider';

/**
 * Marks a route as a mint: refusals that happen before its handler runs (a missing scope, a disabled
 * feature) are recorded in the mint audit too, as denied attempts of this provider, by the pipeline
 * (through MintRefusalFilter; the access guard itself knows nothing of mints).
 */
export const MintRoute = (provider: MintRouteProvider) =>
  applyDecorators(
    SetMetadata(MINT_ROUTE, provider),
    UseFilters(MintRefusalFilter),
    ApiErrorResponse(429, "RATE_LIMITED: the org's mintsPerMinute is used up, with Retry-After"),
  );
