import { Injectable } from '@nestjs/common';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Clock } from '@mintline/common/clock';
import { Db, TenantTx } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import type { PolicyRules } from './policy-evaluator';
import { parsePolicyProvider, policyCacheKey, PolicyProvider } from './policy-providers';
import { TokenPoliciesRepository, TokenPolicyRecord } from './token-policies.repository';
import { PolicyListView, PolicyView, PutPolicyDto } from './token-policy.dto';

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
    const row: TokenPolicyRecord = {
      provider,
      maxTtlSeconds: rules.maxTtlSeconds,
      roles: rules.roles ? [...rules.roles] : null,
      rooms: rules.rooms ? [...rules.rooms] : null,
      publish: rules.publish,
      updatedAt: this.clock.now(),
      updatedByKind: actor.kind,
      updatedById: actor.id,
    };
    await this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const before = await TokenPoliciesRepository.lock(tx, provider);
      await TokenPoliciesRepository.upsert(tx, row);
      await this.changed(tx, provider);
      await this.events.record(tx, {
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
    await this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const before = await TokenPoliciesRepository.lock(tx, provider);
      if (!before) throw noPolicy(provider);
      await TokenPoliciesRepository.delete(tx, provider);
      await this.changed(tx, provider);
      await this.events.record(tx, {
        actor: actorOf(principal),
        action: 'policy.deleted',
        targetType: 'policy',
        targetId: provider,
        details: { provider, before: rulesOf(before), after: null },
        requestId,
      });
    });
  }

  /**
   * Every instance's cached policy is dropped, and the next mint anywhere reads the one committed (see TokenPolicyJudge):
   * the `policy` epoch is bumped in the change's own transaction.
   */
  private changed(tx: TenantTx, provider: PolicyProvider): Promise<void> {
    return this.bus.publish('policy', policyCacheKey(tx.orgId, provider), tx);
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
