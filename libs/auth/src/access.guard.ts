import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import passport from 'passport';
import type { FastifyRequest } from 'fastify';
import { MINT_ROUTE } from '@mintline/audit/mints/mint-route.decorator';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ApiError } from '@mintline/common/errors/api-error';
import { TenantScope } from '@mintline/common/database/tenant-scope';
import { requestMetaOf } from '@mintline/common/http/request-context';
import { ACCESS_RULE, AccessRule, OrgFeature, REQUIRED_FEATURE } from '@mintline/access/access.decorators';
import { enforceAccessRule } from '@mintline/access/access-rule';
import { BearerStrategy } from './bearer.strategy';
import { OrgSettingsService } from '@mintline/tenancy/orgs/org-settings.service';
import { Principal, scopeOf } from '@mintline/access/principal';

/**
 * The one global guard. Deny by default: a route with no access declaration is refused before any
 * credential is read. Otherwise passport authenticates with the bearer strategy, then the rule is enforced.
 *
 * Passport is handed this application's own strategy instance (a fresh object per request, whose
 * prototype is that instance) rather than the name 'bearer': passport's registry of names is
 * process-wide, so by name the last application started in a process would authenticate the requests
 * of every other one (their JWT secret, database and counters).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly mintAudit: MintAuditWriter,
    private readonly orgSettings: OrgSettingsService,
    private readonly bearer: BearerStrategy,
    private readonly bus: InvalidationBus,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]);
    if (!rule) throw ApiError.forbidden('ROUTE_NOT_DECLARED', 'This route declares no access rule and is refused');
    if (rule.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user: Principal }>();
    // Caches (users, keys, org settings, credentials) must reflect every change committed before now.
    await this.bus.sync();
    // Who a credential belongs to is a cross-tenant question (a key by its hash, a user by id).
    request.user = await TenantScope.system(() => this.authenticate(request, context.switchToHttp().getResponse<FastifyReply>()));
    const feature = this.reflector.getAllAndOverride<OrgFeature | undefined>(REQUIRED_FEATURE, [context.getHandler(), context.getClass()]);
    try {
      const principal = request.user;
      if (feature && principal.kind !== 'operator' && !(await TenantScope.org(principal.orgId, () => this.isEnabled(principal.orgId, feature)))) {
        throw ApiError.forbidden('FEATURE_DISABLED', `The ${feature} feature is not enabled for this org`);
      }
      enforceAccessRule(rule, request.user);
    } catch (error) {
      await this.recordMintDenial(context, request, error as ApiError);
      throw error;
    }
    // Everything the handler asks the database is bound (row-level security) to the principal's org.
    TenantScope.enterRequest(scopeOf(request.user));
    return true;
  }

  /** A mint refused for its scopes or a disabled feature is still a mint attempt by an authenticated principal: audit it. */
  private async recordMintDenial(context: ExecutionContext, request: FastifyRequest & { user: Principal }, error: ApiError): Promise<void> {
    const provider = this.reflector.get<MintAuditProvider | undefined>(MINT_ROUTE, context.getHandler());
    const principal = request.user;
    if (!provider || principal.kind === 'operator') return;
    const meta = requestMetaOf(request);
    try {
      await this.mintAudit.record({
        orgId: principal.orgId,
        provider,
        actor: principal.kind === 'user' ? { kind: 'user', id: principal.userId } : { kind: 'api_key', id: principal.apiKeyId },
        subjectUserId: principal.kind === 'user' ? principal.userId : null,
        target: null,
        outcome: 'denied',
        code: error.code,
        expiresAt: null,
        ip: meta.ip,
        userAgent: meta.userAgent,
        requestId: meta.requestId,
      });
    } catch {
      throw ApiError.unavailable('The audit log is unavailable');
    }
  }

  private async isEnabled(orgId: string, feature: OrgFeature): Promise<boolean> {
    const settings = await this.orgSettings.get(orgId);
    return feature === 'webrtc' && settings?.webrtcEnabled === true;
  }

  private authenticate(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    return new Promise<Principal>((resolve, reject) => {
      const strategy = Object.create(this.bearer) as passport.Strategy;
      const done = (error: unknown, user: Principal | false | undefined) => {
        if (error) reject(error);
        else if (!user) reject(ApiError.unauthorized());
        else resolve(user);
      };
      passport.authenticate(strategy, { session: false }, done)(request, reply, (error: unknown) => reject(error ?? ApiError.unauthorized()));
    });
  }

}
