import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AccessRefusal } from '@mintline/access/access-refusal';
import { ACCESS_RULE, AccessRule, REQUIRED_FEATURE } from '@mintline/access/access.decorators';
import { enforceAccessRule } from '@mintline/access/access-rule';
import { ORG_FEATURES, OrgFeature, OrgFeatures } from '@mintline/access/org-features';
import { Principal } from '@mintline/access/principal';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ApiError } from '@mintline/common/errors/api-error';
import { MINT_ROUTE } from '@mintline/access/mint-route';
import { CacheFreshness } from '@mintline/common/http/request-context';
import { BearerStrategy } from './bearer.strategy';

/** What a handler declares, read once per handler rather than per request. */
interface Declared {
  rule: AccessRule | undefined;
  mint: boolean;
  feature: OrgFeature | undefined;
}

/**
 * The one global guard. Deny by default: a route with no access declaration is refused before any
 * credential is read. Otherwise the bearer strategy authenticates, then the rule is enforced.
 *
 * The strategy is called directly, not through passport's middleware: with one strategy, no sessions
 * and no redirects, passport only wrapped the call in closures on every request (and its registry of
 * names is process-wide, so by name the last application started in a process would authenticate the
 * requests of every other one).
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ORG_FEATURES) private readonly features: OrgFeatures,
    private readonly bearer: BearerStrategy,
    private readonly bus: InvalidationBus,
  ) {}

  /** Declarations by controller class and handler (an inherited handler may serve several classes); fixed once the application has started. */
  private readonly declared = new WeakMap<object, WeakMap<object, Declared>>();

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const declared = this.declarationsOf(context);
    const rule = declared.rule;
    if (!rule) throw ApiError.forbidden('ROUTE_NOT_DECLARED', 'This route declares no access rule and is refused');
    if (rule.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest & { user: Principal; freshness?: CacheFreshness }>();
    if (declared.mint && this.bus.synced) {
      // A mint skips reading the cache epochs here: the statement that commits its audit entry reads
      // them and refuses the entry if they moved since `version`; the pipeline then checks the request
      // again (`recheck`) from fresh caches. A refusal from caches that may be stale is not final:
      // it is decided again below, from fresh ones.
      const version = this.bus.version;
      try {
        await this.admit(context, rule, request, false);
        const freshness: CacheFreshness = {
          version,
          recheck: async () => {
            await this.bus.sync();
            freshness.version = this.bus.version;
            await this.admit(context, rule, request, true);
          },
        };
        request.freshness = freshness;
        return true;
      } catch (error) {
        if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) throw error;
      }
    }
    // Caches (users, keys, org settings, credentials) must reflect every change committed before now.
    await this.bus.sync();
    await this.admit(context, rule, request, true);
    return true;
  }

  /** Authenticates and enforces the rule and the route's feature; a `final` 403 is an AccessRefusal. */
  private async admit(context: ExecutionContext, rule: AccessRule, request: FastifyRequest & { user: Principal }, final: boolean): Promise<void> {
    // Who a credential belongs to is a cross-tenant question (a key by its hash, a user by id): the
    // resolvers ask it through the database's system handle; everything after is bound to the org.
    request.user = await this.bearer.validate(request);
    const feature = this.declarationsOf(context).feature;
    try {
      const principal = request.user;
      if (feature && principal.kind !== 'operator' && !(await this.features.isEnabled(principal.orgId, feature))) {
        throw ApiError.forbidden('FEATURE_DISABLED', `The ${feature} feature is not enabled for this org`);
      }
      enforceAccessRule(rule, principal, { params: (request.params ?? {}) as Record<string, string | undefined>, body: request.body });
    } catch (error) {
      // The final refusal of someone authenticated names them and the route, for the route's owner to
      // record (mint routes audit it as a denied mint); a refusal from caches that may be stale is not final
      // (canActivate decides it again), and a failure to read the feature switch passes as it is.
      if (final && error instanceof ApiError && error.status === 403) throw new AccessRefusal(error, request.user, context.getHandler());
      throw error;
    }
  }

  private declarationsOf(context: ExecutionContext): Declared {
    const handler = context.getHandler();
    const cls = context.getClass();
    let ofClass = this.declared.get(cls);
    if (!ofClass) this.declared.set(cls, (ofClass = new WeakMap()));
    let declared = ofClass.get(handler);
    if (!declared) {
      const targets = [handler, cls];
      declared = {
        rule: this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, targets),
        mint: Boolean(this.reflector.get<string | undefined>(MINT_ROUTE, handler)),
        feature: this.reflector.getAllAndOverride<OrgFeature | undefined>(REQUIRED_FEATURE, targets),
      };
      ofClass.set(handler, declared);
    }
    return declared;
  }
}
