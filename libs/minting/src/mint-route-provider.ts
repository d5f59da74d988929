import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';

/**
 * Whose mint a route is: one provider, or (POST /api/tokens/{provider}) the one its path names, null
 * when the path names none the registry mints (that request is answered 404 and is no mint of anyone's).
 */
export type MintRouteProvider = MintAuditProvider | ((params: Readonly<Record<string, string | undefined>>) => MintAuditProvider | null);

/** The provider of a mint route for one request's path params. */
export function mintRouteProviderOf(declared: MintRouteProvider, params: Readonly<Record<string, string | undefined>>): MintAuditProvider | null {
  return typeof declared === 'function' ? declared(params) : declared;
}
