import { SetMetadata } from '@nestjs/common';
import type { MintAuditProvider } from './mint-audit.types';

export const MINT_ROUTE = 'mintline:mint-route';

/**
 * Marks a route as a mint: refusals that happen before its handler runs (a missing scope, a disabled
 * feature) are recorded in the mint audit too, as denied attempts of this provider.
 */
export const MintRoute = (provider: MintAuditProvider) => SetMetadata(MINT_ROUTE, provider);
