import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import type { MintAuditProvider } from './mint-audit.types';

export const MINT_ROUTE = 'mintline:mint-route';

/**
 * Marks a route as a mint: refusals that happen before its handler runs (a missing scope, a disabled
 * feature) are recorded in the mint audit too, as denied attempts of this provider.
 */
export const MintRoute = (provider: MintAuditProvider) =>
  applyDecorators(
    SetMetadata(MINT_ROUTE, provider),
    ApiErrorResponse(429, "RATE_LIMITED: the org's mintsPerMinute is used up, with Retry-After"),
  );
