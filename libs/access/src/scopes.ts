export const SCOPES = [
  'CREATE_CALL_TOKEN',
  'READ_CALL_TOKEN',
  'CREATE_CHAT_TOKEN',
  'MANAGE_USERS',
  'MANAGE_CREDENTIALS',
  'MANAGE_API_KEYS',
  'MANAGE_ENDPOINTS',
  'READ_AUDIT',
] as const;

export type Scope = (typeof SCOPES)[number];

export const ROLES = ['admin', 'agent', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  admin: SCOPES,
  agent: ['CREATE_CALL_TOKEN', 'READ_CALL_TOKEN', 'CREATE_CHAT_TOKEN'],
  auditor: ['READ_AUDIT'],
};

/** The scopes in `wanted` that `held` does not cover; empty when `wanted` ⊆ `held`. */
export function missingScopes(wanted: readonly string[], held: readonly string[]): string[] {
  const heldSet = new Set(held);
  return wanted.filter((scope) => !heldSet.has(scope));
}
