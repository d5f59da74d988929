import { ApiError } from '@mintline/common/errors/api-error';
import { missingScopes, Scope } from './scopes';

/**
 * A principal may only act on what it could have been itself: give a key or a role, or change or delete a
 * user or key, only when every scope that object holds (or will hold) is among its own. Otherwise a key
 * holding MANAGE_USERS alone could set an admin's password and log in as that admin.
 * Refuses with 403 SCOPE_ESCALATION naming the scopes the principal lacks.
 */
export function assertScopesCover(held: readonly Scope[], required: readonly Scope[], message: string): void {
  const missing = missingScopes(required, held);
  if (missing.length > 0) throw ApiError.forbidden('SCOPE_ESCALATION', `${message}: ${missing.join(', ')}`);
}
