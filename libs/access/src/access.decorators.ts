import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { ApiErrorResponse } from '@mintline/common/openapi/api-error-response';
import type { OrgFeature } from './org-features';
import type { Principal } from './principal';
import type { Scope } from './scopes';

/**
 * Every route declares who may call it. The access guard refuses a route that declares nothing,
 * so forgetting a declaration closes a route instead of opening it.
 */
export type AccessRule =
  | { kind: 'public' }
  | {
      kind: 'scopes';
      /** The scopes the route needs (all of them), unless `byRequest` decides otherwise for a request. */
      scopes: readonly Scope[];
      /** For a route whose needed scopes depend on what is asked (POST /api/tokens/{provider}); absent: `scopes`. */
      byRequest?: ScopesOfRequest;
      /** At least one of `scopes` instead of every one (a route that either of two kinds of work may read). */
      anyOf?: true;
    }
  | { kind: 'operator' }
  | { kind: 'any-principal' };

/** What a request-decided scope rule may look at: the path's params and the raw, not yet validated body. */
export interface AccessRequest {
  params: Readonly<Record<string, string | undefined>>;
  body: unknown;
}

/** The scopes one request needs (every one of them); it must accept any body, since validation comes later. */
export type ScopesOfRequest = (request: AccessRequest) => readonly Scope[];

export const ACCESS_RULE = 'mintline:access-rule';

const authenticatedDocs = () =>
  applyDecorators(
    ApiBearerAuth(),
    ApiSecurity('apiKey'),
    ApiErrorResponse(401, 'UNAUTHORIZED: no credential, or one that is unknown, expired, revoked or disabled'),
    ApiErrorResponse(401, 'AMBIGUOUS_CREDENTIALS: two different credentials, in Authorization and X-API-Key'),
  );

/** An API key may carry a daily request quota (maxRequestsPerDay): past it, every route it calls answers 429. */
const apiKeyQuotaDocs = () => ApiErrorResponse(429, 'RATE_LIMITED: the API key has used its requests for today (UTC), with Retry-After');

/** Open to anyone; no credential is read. */
export const Public = () => SetMetadata(ACCESS_RULE, { kind: 'public' } satisfies AccessRule);

/** A user or API key holding every one of these scopes. */
export const RequireScopes = (...scopes: Scope[]) =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'scopes', scopes } satisfies AccessRule),
    authenticatedDocs(),
    apiKeyQuotaDocs(),
    ApiErrorResponse(403, `MISSING_SCOPE: needs ${scopes.join(', ')}`),
  );

/** A user or API key holding at least one of these scopes (reading what either of two roles of work may read). */
export const RequireAnyScope = (...scopes: Scope[]) =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'scopes', scopes, anyOf: true } satisfies AccessRule),
    authenticatedDocs(),
    apiKeyQuotaDocs(),
    ApiErrorResponse(403, `MISSING_SCOPE: needs one of ${scopes.join(', ')}`),
  );

/**
 * A user or API key holding every scope this request needs, as `byRequest` decides from the path and
 * body (a token route whose scope follows what the body asks); `scopes` are the ones most requests
 * need, and `needs` says in the docs which need what.
 */
export const RequireScopesByRequest = (scopes: Scope[], byRequest: ScopesOfRequest, needs: string) =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'scopes', scopes, byRequest } satisfies AccessRule),
    authenticatedDocs(),
    apiKeyQuotaDocs(),
    ApiErrorResponse(403, `MISSING_SCOPE: needs ${needs}`),
  );

/** The operator token only. */
export const OperatorOnly = () =>
  applyDecorators(
    SetMetadata(ACCESS_RULE, { kind: 'operator' } satisfies AccessRule),
    authenticatedDocs(),
    ApiErrorResponse(403, 'OPERATOR_ONLY: only the operator token may call this'),
  );

/** Any valid credential: user, API key or operator. */
export const AnyPrincipal = () => applyDecorators(SetMetadata(ACCESS_RULE, { kind: 'any-principal' } satisfies AccessRule), authenticatedDocs(), apiKeyQuotaDocs());

export const REQUIRED_FEATURE = 'mintline:required-feature';

/**
 * The route belongs to an org feature the operator switches on per org. When it is off the route answers
 * 403 FEATURE_DISABLED whatever the caller's scopes (checked after authentication, before scopes).
 */
export const RequireFeature = (feature: OrgFeature) =>
  applyDecorators(SetMetadata(REQUIRED_FEATURE, feature), ApiErrorResponse(403, `FEATURE_DISABLED: the org's ${feature} feature is off`));

/** The authenticated principal of this request (set by the bearer strategy). */
export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ user: Principal }>().user;
});
