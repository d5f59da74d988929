import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Clock } from '@mintline/common/clock';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { PolicyRules } from './policy-evaluator';
import { parsePolicyProvider, policyCacheKey, PolicyProvider } from './policy-providers';
import { TokenPoliciesRepository, TokenPolicyRecord } from './token-policies.repository';
import { PolicyListView, PolicyView, PutPolicyDto } from './token-policy.dto';
import { TokenPolicyEntity } from './token-policy.entity';

/** An org's token policies: replaced, read and deleted whole, each change a configuration event with the policy before and after. */
@Injectable()
export class TokenPoliciesService {
  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
  ) {}

  async put(principal: TenantPrincipal, providerName: string, dto: PutPolicyDto, requestId: string): Promise<PolicyView> {
    const provider = parsePolicyProvider(providerName);
    const rules: PolicyRules = {
      maxTtlSeconds: dto.maxTtlSeconds ?? null,
      roles: dto.roles ?? null,
      rooms: dto.rooms ?? null,
      publish: dto.publish ?? null,
    };
    const actor = actorOf(principal);
    const row: TokenPolicyEntity = {
      orgId: principal.orgId,
      provider,
      maxTtlSeconds: rules.maxTtlSeconds,
      roles: rules.roles ? [...rules.roles] : null,
      rooms: rules.rooms ? [...rules.rooms] : null,
      publish: rules.publish,
      updatedAt: this.clock.now(),
      updatedByKind: actor.kind,
      updatedById: actor.id,
    };
    await this.db.forOrg(principal.orgId).entities(async (manager) => {
      const before = await this.locked(manager, principal.orgId, provider);
      await manager.upsert(TokenPolicyEntity, row, ['orgId', 'provider']);
      await this.changed(manager, principal.orgId, provider);
      await this.events.record(manager, {
        orgId: principal.orgId,
        actor,
        action: before ? 'policy.replaced' : 'policy.created',
        targetType: 'policy',
        targetId: provider,
        details: { provider, before: before ? rulesOf(before) : null, after: rules },
        requestId,
      });
    });
    return toView(row);
  }

  async list(orgId: string): Promise<PolicyListView> {
    const rows = await TokenPoliciesRepository.list(this.db.forOrg(orgId));
    return { items: rows.map(toView) };
  }

  async get(orgId: string, providerName: string): Promise<PolicyView> {
    const provider = parsePolicyProvider(providerName);
    const row = await TokenPoliciesRepository.find(this.db.forOrg(orgId), provider);
    if (!row) throw noPolicy(provider);
    return toView(row);
  }

  async remove(principal: TenantPrincipal, providerName: string, requestId: string): Promise<void> {
    const provider = parsePolicyProvider(providerName);
    await this.db.forOrg(principal.orgId).entities(async (manager) => {
      const before = await this.locked(manager, principal.orgId, provider);
      if (!before) throw noPolicy(provider);
      await manager.delete(TokenPolicyEntity, { orgId: principal.orgId, provider });
      await this.changed(manager, principal.orgId, provider);
      await this.events.record(manager, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'policy.deleted',
        targetType: 'policy',
        targetId: provider,
        details: { provider, before: rulesOf(before), after: null },
        requestId,
      });
    });
  }

  /** The policy as it stands, locked until the change commits, so that two changes at once record each other's result as `before`. */
  private locked(manager: EntityManager, orgId: string, provider: PolicyProvider): Promise<TokenPolicyEntity | null> {
    return manager.findOne(TokenPolicyEntity, { where: { orgId, provider }, lock: { mode: 'pessimistic_write' } });
  }

  /** Every instance's cached policy is dropped, and the next mint anywhere reads the one committed (see TokenPolicyJudge). */
  private changed(manager: EntityManager, orgId: string, provider: PolicyProvider): Promise<void> {
    return this.bus.publish('policy', policyCacheKey(orgId, provider), manager);
  }
}

function noPolicy(provider: PolicyProvider): ApiError {
  return ApiError.notFound(`The org has no ${provider} token policy`);
}

function rulesOf(row: Pick<TokenPolicyRecord, 'maxTtlSeconds' | 'roles' | 'rooms' | 'publish'>): PolicyRules {
  return { maxTtlSeconds: row.maxTtlSeconds, roles: row.roles, rooms: row.rooms, publish: row.publish };
}

function toView(row: TokenPolicyRecord): PolicyView {
  return {
    provider: row.provider,
    ...rulesOf(row),
    roles: row.roles ? [...row.roles] : null,
    rooms: row.rooms ? [...row.rooms] : null,
    updatedAt: row.updatedAt.toISOString(),
    updatedBy: { kind: row.updatedByKind, id: row.updatedById },
  };
}
