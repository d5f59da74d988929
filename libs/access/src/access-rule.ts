import { ApiError } from '@mintline/common/errors/api-error';
import type { AccessRequest, AccessRule } from './access.decorators';
import type { Principal } from './principal';
import { missingScopes } from './scopes';

/**
 * Decides whether an authenticated principal may use a route with this rule; throws 403 if not. A rule
 * whose scopes depend on the request is judged on `request` (without one, on its usual scopes).
 */
export function enforceAccessRule(rule: AccessRule, principal: Principal, request?: AccessRequest): void {
  switch (rule.kind) {
    case 'public':
    case 'any-principal':
      return;
    case 'operator':
      if (principal.kind !== 'operator') throw ApiError.forbidden('OPERATOR_ONLY', 'Only the operator token may call this route');
      return;
    case 'scopes': {
      if (rule.anyOf) {
        if (!rule.scopes.some((scope) => principal.scopes.includes(scope))) throw ApiError.forbidden('MISSING_SCOPE', `Missing scope: one of ${rule.scopes.join(', ')}`);
        return;
      }
      const needed = rule.byRequest && request ? rule.byRequest(request) : rule.scopes;
      // A decision that names no scope would open the route: deny by default holds here too.
      if (needed.length === 0) throw ApiError.forbidden('MISSING_SCOPE', 'This request needs a scope that no rule named');
      const missing = missingScopes(needed, principal.scopes);
      if (missing.length > 0) throw ApiError.forbidden('MISSING_SCOPE', `Missing scope: ${missing.join(', ')}`);
      return;
    }
  }
}
