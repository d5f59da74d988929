import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import type { OrgFeature } from './org-features';
import type { Principal } from './principal';
import type { Scope } from './scopes';

/**
 * Every route declares who may call it. The access guard refuses a route that declares nothing,
 * so forgetting a declaration closes a route instead of opening it.
 */
export type AccessRule =
  | { kind: 'public' }
  | { kind: 'scopes'; scopes: readonly Scope[] }
  | { kind: 'operator' }
  | { kind: 'any-principal' };

export const ACCESS_RULE = 'mintline:access-rule';

const authenticatedDocs = () =>
  applyDecorators(
    ApiBearerAuth(),
    ApiSecurity('apiKey'),
    ApiUnauthorizedResponse({ description: 'No or bad credential (UNAUTHORIZED); two different credentials (AMBIGUOUS_CREDENTIALS)' }),
  );

/** Open to anyone; no credential is read. */
export const Public = () => SetMetadata(ACCESS_RULE, { kind: 'public' } satisfies AccessRule);

/** A user or API key holding every one of these scopes. */
export const RequireScopes = (...scopes: Scope[]) =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'scopes', scopes } satisfies AccessRule),
    authenticatedDocs(),
    ApiForbiddenResponse({ description: `Missing scope (MISSING_SCOPE); needs ${scopes.join(', ')}` }),
  );

/** The operator token only. */
export const OperatorOnly = () =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'operator' } satisfies AccessRule),
    authenticatedDocs(),
    ApiForbiddenResponse({ description: 'Only the operator token may call this (OPERATOR_ONLY)' }),
  );

/** Any valid credential: user, API key or operator. */
export const AnyPrincipal = () =>
  applyDecorators(SetMetadata(ACCESS_RULE, { kind: 'any-principal' } satisfies AccessRule), authenticatedDocs());

export const REQUIRED_FEATURE = 'mintline:required-feature';

/**
 * The route belongs to an org feature the operator switches on per org. When it is off the route answers
 * 403 FEATURE_DISABLED whatever the caller's scopes (checked after authentication, before scopes).
 */
export const RequireFeature = (feature: OrgFeature) =>
  applyDecorators(
    SetMetadata(REQUIRED_FEATURE, feature),
    ApiForbiddenResponse({ description: `FEATURE_DISABLED when the org's ${feature} feature is off` }),
  );

/** The authenticated principal of this request (set by the bearer strategy). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ user: Principal }>().user;
});
