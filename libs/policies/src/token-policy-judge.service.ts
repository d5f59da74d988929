import { Injectable } from '@nestjs/common';
import type { TenantPrincipal } from '@mintline/access/principal';
import type { Role } from '@mintline/access/scopes';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { UsersService } from '@mintline/tenancy/users/users.service';
import type { MintGrant } from '@mintline/providers/registry/mint-grant';
import { evaluatePolicy, PolicyDecision } from './policy-evaluator';
import { parsePolicyProvider, policyCacheKey, PolicyProvider, PROVIDER_LIFETIMES } from './policy-providers';
import type { EvaluatePolicyQuery, PolicyEvaluationView } from './token-policy.dto';
import { TokenPoliciesRepository, TokenPolicyRecord } from './token-policies.repository';

/**
 * Judges mints by their org's token policy. Policies are read through a cache kept fresh like the org
 * settings: every change bumps the `policy` cache epoch in its transaction and is published to every
 * instance, and a mint whose audit entry finds an epoch moved is judged again from fresh caches (see
 * MintPipeline), so the next mint on any instance is judged by the policy now in force.
 */
@Injectable()
export class TokenPolicyJudge {
  private readonly cache: ReadThroughCache<TokenPolicyRecord | null>;

  constructor(
    private readonly db: Db,
    private readonly users: UsersService,
    bus: InvalidationBus,
    clock: Clock,
  ) {
    // "No policy" is kept too: most orgs have none for most providers, and the keys are bounded (org × provider).
    this.cache = new ReadThroughCache(bus, 'policy', { ttlMs: 60_000, maxEntries: 50_000, now: () => clock.nowMs() });
  }

  /** The org's policy for the provider, or null. */
  policyOf(orgId: string, provider: PolicyProvider): Promise<TokenPolicyRecord | null> {
    return this.cache.get(policyCacheKey(orgId, provider), async () => (await TokenPoliciesRepository.find(this.db.forOrg(orgId), provider)) ?? null);
  }

  /**
   * What the org's policy makes of a mint for `subjectUserId` (a user of the principal's org, or null when
   * the token names none). The subject's role is what counts, whoever mints: read only when a rule asks.
   */
  async judge(principal: TenantPrincipal, provider: PolicyProvider, asked: MintGrant, subjectUserId: string | null): Promise<PolicyDecision> {
    const policy = await this.policyOf(principal.orgId, provider);
    const role = policy?.roles ? await this.roleOf(principal, subjectUserId) : null;
    return evaluatePolicy(policy, asked, { userId: subjectUserId, role });
  }

  /** The grant a mint is made with, or 403 POLICY_DENIED naming every rule that refuses it. */
  async grantInForce(principal: TenantPrincipal, provider: PolicyProvider, asked: MintGrant, subjectUserId: string | null): Promise<MintGrant> {
    const decision = await this.judge(principal, provider, asked, subjectUserId);
    if (!decision.allowed) {
      const details = decision.reasons.filter((reason) => reason.effect === 'denied').map(({ field, message }) => ({ field, message }));
      throw new ApiError(403, 'POLICY_DENIED', `The org's ${provider} token policy refuses this token (${details.map((detail) => detail.field).join(', ')})`, details);
    }
    return decision.grant;
  }

  /**
   * `GET /api/policies/{provider}/evaluate`: what the policy would make of a mint for this user (default:
   * the caller), without minting. Another org's user does not exist for the caller (404).
   */
  async evaluate(principal: TenantPrincipal, providerName: string, query: EvaluatePolicyQuery): Promise<PolicyEvaluationView> {
    const provider = parsePolicyProvider(providerName);
    const userId = query.userId?.toLowerCase() ?? (principal.kind === 'user' ? principal.userId : undefined);
    if (!userId) throw ApiError.validation([{ field: 'userId', message: 'is required when evaluating with an API key' }]);
    if (!(principal.kind === 'user' && principal.userId === userId) && !(await this.users.roleOf(principal.orgId, userId))) throw ApiError.notFound('User not found');
    const lifetime = PROVIDER_LIFETIMES[provider];
    const asked: MintGrant = {
      room: query.room ?? null,
      ttlSeconds: lifetime.fixed ? lifetime.ttlSeconds : (query.ttlSeconds ?? lifetime.ttlSeconds),
      fixedTtl: lifetime.fixed,
      publish: query.publish === 'true' ? 'asked' : query.publish === 'false' ? 'none' : 'default',
    };
    const decision = await this.judge(principal, provider, asked, userId);
    return { allowed: decision.allowed, effectiveTtlSeconds: decision.allowed ? decision.grant.ttlSeconds : null, reasons: decision.reasons };
  }

  private async roleOf(principal: TenantPrincipal, userId: string | null): Promise<Role | null> {
    if (userId === null) return null;
    // A user minting for itself: its principal's role, as fresh as the principal (the user cache epoch).
    if (principal.kind === 'user' && principal.userId === userId) return principal.role;
    return (await this.users.roleOf(principal.orgId, userId)) ?? null;
  }
}
