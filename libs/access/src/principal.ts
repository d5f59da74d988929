import type { Role, Scope } from './scopes';

/**
 * Who is calling, whatever the credential. The org id of every tenant query comes from here and
 * nowhere else (operator routes aside).
 */
export type Principal =
  | { kind: 'user'; orgId: string; userId: string; role: Role; scopes: readonly Scope[] }
  | { kind: 'api_key'; orgId: string; apiKeyId: string; ownerOrgId: string; scopes: readonly Scope[] }
  | { kind: 'operator'; orgId: null; scopes: readonly Scope[] };

export type TenantPrincipal = Exclude<Principal, { kind: 'operator' }>;

/** How an actor is written in audit and event logs. */
export interface Actor {
  kind: 'user' | 'api_key' | 'operator' | 'system';
  id: string | null;
}

export function actorOf(principal: Principal): Actor {
  switch (principal.kind) {
    case 'user':
      return { kind: 'user', id: principal.userId };
    case 'api_key':
      return { kind: 'api_key', id: principal.apiKeyId };
    case 'operator':
      return { kind: 'operator', id: null };
  }
}

/** The view `GET /api/auth/me` answers with. */
export function describePrincipal(principal: Principal): Record<string, unknown> {
  switch (principal.kind) {
    case 'user':
      return { kind: 'user', orgId: principal.orgId, userId: principal.userId, role: principal.role, scopes: principal.scopes };
    case 'api_key':
      return { kind: 'api_key', orgId: principal.orgId, apiKeyId: principal.apiKeyId, scopes: principal.scopes };
    case 'operator':
      return { kind: 'operator', orgId: null, scopes: [] };
  }
}
