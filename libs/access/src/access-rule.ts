import { ApiError } from '@mintline/common/errors/api-error';
import type { AccessRule } from './access.decorators';
import type { Principal } from './principal';
import { missingScopes } from './scopes';

/** Decides whether an authenticated principal may use a route with this rule; throws 403 if not. */
export function enforceAccessRule(rule: AccessRule, principal: Principal): void {
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
      const missing = missingScopes(rule.scopes, principal.scopes);
      if (missing.length > 0) throw ApiError.forbidden('MISSING_SCOPE', `Missing scope: ${missing.join(', ')}`);
      return;
    }
  }
}
