import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import type { TenantPrincipal } from '@mintline/access/principal';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { CredentialsService } from '@mintline/credentials/credentials.service';
import { RegisteredTokenRoute, TOKEN_PROVIDERS, TokenProvider, tokenRouteOf } from '@mintline/providers/provider-registry';
import type { MintSubject, TokenMinter } from '@mintline/providers/registry/provider-entry';
import { CallerIdsService } from '@mintline/tenancy/caller-ids/caller-ids.service';
import { UsersRepository } from '@mintline/tenancy/users/users.repository';
import { MintPipeline } from '../mint-pipeline.service';
import { MintSubjectsService } from '../mint-subjects.service';

/** Every token route's name is an audit provider: checked when the registry or the audit's list changes. */
const TOKEN_ROUTES_ARE_AUDITED: TokenProvider extends MintAuditProvider ? true : never = true;

/** The answer of POST /api/tokens/{provider}: `{token, userId, expiresIn}` and the provider's fields. */
export type TokenAnswer = { token: string; userId: string; expiresIn: number } & Record<string, unknown>;

/**
 * POST /api/tokens/{provider}: the provider registry's token routes, each through the one mint pipeline
 * (rate limit, subject, credentials, mint, audit). The body is parsed first, so that what the token
 * would grant is known to the pipeline (and the org's token policy) before anything is resolved; a body
 * refused there is audited as a denied mint of that provider all the same.
 */
@Injectable()
export class TokensService {
  constructor(
    private readonly pipeline: MintPipeline,
    private readonly subjects: MintSubjectsService,
    private readonly credentials: CredentialsService,
    private readonly callerIds: CallerIdsService,
    private readonly db: Db,
    private readonly modules: ModuleRef,
  ) {
    void TOKEN_ROUTES_ARE_AUDITED;
  }

  async mint(principal: TenantPrincipal, providerName: string, body: unknown, meta: RequestMeta): Promise<TokenAnswer> {
    const registered = tokenRouteOf(providerName);
    if (!registered) throw ApiError.notFound(`No token provider is named ${JSON.stringify(providerName.slice(0, 64))}; one of ${TOKEN_PROVIDERS.join(', ')}`);
    const provider = registered.route.name as MintAuditProvider;

    let userId: string | undefined;
    let request: unknown;
    try {
      const fields = bodyFields(body);
      userId = fields.userId;
      request = registered.route.parse(fields.rest);
    } catch (error) {
      if (error instanceof ApiError) await this.pipeline.refused(provider, principal, meta, error);
      throw error;
    }
    const { route } = registered;
    const declared = route.grant(request);

    return this.pipeline.run({
      provider,
      principal,
      meta,
      subject: () => this.subjects.resolve(principal, userId),
      target: async () => {
        const fields = await this.credentials.require(registered.credentials, principal.orgId);
        return { name: route.target(request, fields as Record<string, string>), value: fields as Record<string, string> };
      },
      grant: declared,
      mint: async ({ subjectUserId, target: fields, grant }) => {
        const minter = this.modules.get<TokenMinter<Record<string, string>, unknown, Record<string, unknown>>>(route.minter, { strict: false });
        const minted = await minter.mint({ fields, request, subject: this.subjectOf(principal.orgId, subjectUserId), grant: grant ?? declared });
        return {
          token: minted.token,
          expiresAt: minted.expiresAt,
          body: { token: minted.token, ...minted.answer, userId: subjectUserId, expiresIn: minted.expiresIn },
        };
      },
    });
  }

  private subjectOf(orgId: string, userId: string): MintSubject {
    return {
      orgId,
      userId,
      name: () => UsersRepository.nameInOrg(this.db.forOrg(orgId), userId),
      callerId: (provider) => this.callerIds.defaultNumber(orgId, userId, provider),
    };
  }
}

/** `userId` (the subject, resolved by the pipeline) apart from the provider's own fields. */
function bodyFields(body: unknown): { userId: string | undefined; rest: Record<string, unknown> } {
  // A POST without a body asks for the defaults.
  if (body === undefined) return { userId: undefined, rest: {} };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.validation([{ field: 'body', message: 'must be a JSON object' }]);
  const { userId, ...rest } = body as Record<string, unknown>;
  if (userId !== undefined && typeof userId !== 'string') throw ApiError.validation([{ field: 'userId', message: 'must be a string (a user id)' }]);
  return { userId, rest };
}

/** The scopes a token request needs, from its path and raw body (the access guard asks before the body is validated). */
export function tokenScopesOf(provider: string | undefined, body: unknown): ReturnType<NonNullable<RegisteredTokenRoute['route']['scopes']>> {
  const route = provider === undefined ? undefined : tokenRouteOf(provider)?.route;
  return route?.scopes?.(body) ?? ['CREATE_CALL_TOKEN'];
}
