import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { CounterStore } from '@mintline/common/counters/counter-store';
import { Db, TenantTx } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { actorOf, Principal, TenantPrincipal } from '@mintline/access/principal';
import { assertScopesCover } from '@mintline/access/scope-escalation';
import { OrgsRepository } from '@mintline/tenancy/orgs/orgs.repository';
import { ApiKeyListing, ApiKeyRecord, ApiKeysRepository } from './api-keys.repository';
import { generateApiKeyToken, hashApiKeyToken, looksLikeApiKey } from './api-key-token';
import { ApiKeyView, CreateApiKeyDto, CreatedApiKeyView, UpdateApiKeyDto } from './api-key.dto';

/** lastUsedAt is written at most this often per key, so using a key does not cost a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const DAY_MS = 86_400_000;

export function toApiKeyView(key: ApiKeyListing): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    orgId: key.org_id,
    prefix: key.prefix,
    createdAt: key.created_at.toISOString(),
    lastUsedAt: key.last_used_at?.toISOString() ?? null,
    expiresAt: key.expires_at?.toISOString() ?? null,
    maxRequestsPerDay: key.max_requests_per_day,
  };
}

@Injectable()
export class ApiKeysService {
  /** Keys by the hex of their token hash. Only keys that exist are kept; changes drop them via the bus. */
  private readonly byHash: ReadThroughCache<ApiKeyRecord | null>;

  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
    private readonly clock: Clock,
    @Inject(CounterStore) private readonly counters: CounterStore,
    private readonly bus: InvalidationBus,
  ) {
    this.byHash = new ReadThroughCache(bus, 'api-key', { ttlMs: 60_000, maxEntries: 100_000, now: () => clock.nowMs(), keep: (key) => key !== null });
  }

  async create(principal: TenantPrincipal, dto: CreateApiKeyDto, requestId: string): Promise<CreatedApiKeyView> {
    assertScopesCover(principal.scopes, dto.scopes, 'You cannot give a key scopes you do not hold');
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= this.clock.nowMs()) {
      throw ApiError.validation([{ field: 'expiresAt', message: 'must be in the future' }]);
    }
    const { token, hash, prefix } = generateApiKeyToken();
    return this.db.forOrg(principal.orgId).transaction(async (tx) => {
      let orgId = principal.orgId;
      if (dto.subOrgId) {
        if (!(await OrgsRepository.isChild(tx, dto.subOrgId))) throw ApiError.unprocessable('INVALID_SUB_ORG', 'subOrgId must be a direct child org of your org');
        orgId = dto.subOrgId;
      }
      const key = {
        id: randomUUID(),
        org_id: orgId,
        name: dto.name,
        scopes: dto.scopes,
        prefix,
        token_hash: hash,
        created_by_kind: principal.kind,
        created_by_id: principal.kind === 'user' ? principal.userId : principal.apiKeyId,
        expires_at: expiresAt,
        max_requests_per_day: dto.maxRequestsPerDay ?? null,
      };
      await ApiKeysRepository.insert(tx, key);
      await this.events.record(tx, {
        actor: actorOf(principal),
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: key.id,
        details: { name: key.name, scopes: key.scopes, orgId, expiresAt: expiresAt?.toISOString() ?? null, maxRequestsPerDay: key.max_requests_per_day },
        requestId,
      });
      return { id: key.id, name: key.name, scopes: key.scopes, orgId, expiresAt: expiresAt?.toISOString() ?? null, maxRequestsPerDay: key.max_requests_per_day, token };
    });
  }

  async list(ownerOrgId: string): Promise<ApiKeyView[]> {
    return (await ApiKeysRepository.owned(this.db.forOrg(ownerOrgId))).map(toApiKeyView);
  }

  async update(principal: TenantPrincipal, id: string, dto: UpdateApiKeyDto, requestId: string): Promise<ApiKeyView> {
    return this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const key = await ApiKeysRepository.lockOwned(tx, id);
      if (!key) throw ApiError.notFound('API key not found');
      // Found in this org first (another org's key stays a 404), then: only a principal holding all of
      // the key's scopes may change it.
      assertScopesCover(principal.scopes, key.scopes, 'Changing this key needs scopes you do not hold');
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== key.name) changes.name = key.name = dto.name;
      if (dto.scopes !== undefined) {
        assertScopesCover(key.scopes, dto.scopes, 'Scopes of a key may only be narrowed');
        if (dto.scopes.length !== key.scopes.length) changes.scopes = key.scopes = dto.scopes;
      }
      if (Object.keys(changes).length > 0) {
        await ApiKeysRepository.update(tx, id, key);
        await this.publishChange(tx, id);
        await this.events.record(tx, {
          actor: actorOf(principal),
          action: 'api_key.updated',
          targetType: 'api_key',
          targetId: id,
          details: changes,
          requestId,
        });
      }
      return toApiKeyView(key);
    });
  }

  async remove(principal: TenantPrincipal, id: string, requestId: string): Promise<void> {
    await this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const key = await ApiKeysRepository.lockOwned(tx, id);
      if (!key) throw ApiError.notFound('API key not found');
      assertScopesCover(principal.scopes, key.scopes, 'Deleting this key needs scopes you do not hold');
      await this.publishChange(tx, id);
      await ApiKeysRepository.delete(tx, id);
      await this.events.record(tx, { actor: actorOf(principal), action: 'api_key.deleted', targetType: 'api_key', targetId: id, requestId });
    });
  }

  /** Resolves a presented API key to its principal, enforcing expiry and the daily request quota. */
  async authenticate(token: string): Promise<Principal> {
    if (!looksLikeApiKey(token)) throw ApiError.unauthorized('Invalid API key');
    const hash = hashApiKeyToken(token);
    const key = await this.byHash.get(hash.toString('hex'), () => ApiKeysRepository.byHash(this.db.system('credential lookup by hash'), hash));
    if (!key) throw ApiError.unauthorized('Invalid API key');
    const now = this.clock.nowMs();
    if (key.expiresAt && key.expiresAt.getTime() <= now) throw ApiError.unauthorized('API key has expired');
    if (key.maxRequestsPerDay !== null) await this.consumeDailyQuota(key, now);
    if (!key.lastUsedAt || now - key.lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
      key.lastUsedAt = new Date(now);
      await ApiKeysRepository.touch(this.db.forOrg(key.ownerOrgId), key.id, key.lastUsedAt);
    }
    return { kind: 'api_key', orgId: key.orgId, apiKeyId: key.id, ownerOrgId: key.ownerOrgId, scopes: key.scopes };
  }

  /** Drops the key from every instance's cache when its transaction commits (and from this one now). */
  private async publishChange(tx: TenantTx, id: string): Promise<void> {
    const hash = await ApiKeysRepository.tokenHashHex(tx, id);
    if (hash) await this.bus.publish('api-key', hash, tx);
  }

  private async consumeDailyQuota(key: ApiKeyRecord, now: number): Promise<void> {
    const dayStart = now - (now % DAY_MS);
    const dayEnd = dayStart + DAY_MS;
    const count = await this.counters.increment(`api-key-day:${key.id}:${dayStart}`, dayEnd);
    if (count > (key.maxRequestsPerDay as number)) {
      throw ApiError.rateLimited((dayEnd - now) / 1000, 'This API key has used its requests for today (UTC)');
    }
  }
}
