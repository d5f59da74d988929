import { applyDecorators, SetMetadata, UseFilters } from '@nestjs/common';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { MINT_ROUTE, MintRefusalFilter } from './mint-refusal.filter';

/**
 * Marks a route as a mint: refusals that happen before its handler runs (a missing scope, a disabled
 * feature) are recorded in the mint audit too, as denied attempts of this provider, by the pipeline
 * (through MintRefusalFilter; the access guard itself knows nothing of mints).
 */
export const MintRoute = (provider: MintAuditProvider) => applyDecorators(SetMetadata(MINT_ROUTE, provider), UseFilters(MintRefusalFilter));
