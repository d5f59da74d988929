import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { ReadThroughCache } from '@mintline/common/cache/read-through-cache';
import { Clock } from '@mintline/common/clock';
import { CounterStore } from '@mintline/common/counters/counter-store';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { actorOf, Principal, TenantPrincipal } from '@mintline/access/principal';
import { assertScopesCover } from '@mintline/access/scope-escalation';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyRecord, ApiKeysRepository } from './api-keys.repository';
import { generateApiKeyToken, hashApiKeyToken, looksLikeApiKey } from './api-key-token';
import { ApiKeyView, CreateApiKeyDto, CreatedApiKeyView, UpdateApiKeyDto } from './api-key.dto';

/** lastUsedAt is written at most this often per key, so using a key does not cost a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const DAY_MS = 86_400_000;

export function toApiKeyView(key: ApiKeyEntity): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    orgId: key.orgId,
    prefix: key.prefix,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    maxRequestsPerDay: key.maxRequestsPerDay,
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
    return this.db.forOrg(principal.orgId).entities(async (manager) => {
      let orgId = principal.orgId;
      if (dto.subOrgId) {
        const rows: unknown[] = await manager.query('SELECT 1 FROM orgs WHERE id = $1 AND parent_org_id = $2', [dto.subOrgId, principal.orgId]);
        if (rows.length === 0) throw ApiError.unprocessable('INVALID_SUB_ORG', 'subOrgId must be a direct child org of your org');
        orgId = dto.subOrgId;
      }
      const key = manager.create(ApiKeyEntity, {
        id: randomUUID(),
        ownerOrgId: principal.orgId,
        orgId,
        name: dto.name,
        scopes: dto.scopes,
        prefix,
        tokenHash: hash,
        createdByKind: principal.kind,
        createdById: principal.kind === 'user' ? principal.userId : principal.apiKeyId,
        expiresAt,
        maxRequestsPerDay: dto.maxRequestsPerDay ?? null,
        lastUsedAt: null,
      });
      await manager.insert(ApiKeyEntity, key);
      await this.events.record(manager, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: key.id,
        details: { name: key.name, scopes: key.scopes, orgId, expiresAt: expiresAt?.toISOString() ?? null, maxRequestsPerDay: key.maxRequestsPerDay },
        requestId,
      });
      return { id: key.id, name: key.name, scopes: key.scopes, orgId, expiresAt: expiresAt?.toISOString() ?? null, maxRequestsPerDay: key.maxRequestsPerDay, token };
    });
  }

  async list(ownerOrgId: string): Promise<ApiKeyView[]> {
    const keys = await this.db.forOrg(ownerOrgId).read((manager) => manager.find(ApiKeyEntity, { where: { ownerOrgId }, order: { createdAt: 'ASC', id: 'ASC' } }));
    return keys.map(toApiKeyView);
  }

  async update(principal: TenantPrincipal, id: string, dto: UpdateApiKeyDto, requestId: string): Promise<ApiKeyView> {
    return this.db.forOrg(principal.orgId).entities(async (manager) => {
      const key = await manager.findOne(ApiKeyEntity, { where: { id, ownerOrgId: principal.orgId }, lock: { mode: 'pessimistic_write' } });
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
        await manager.update(ApiKeyEntity, { id }, { name: key.name, scopes: key.scopes });
        await this.publishChange(manager, id);
        await this.events.record(manager, {
          orgId: principal.orgId,
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
    await this.db.forOrg(principal.orgId).entities(async (manager) => {
      const key = await manager.findOne(ApiKeyEntity, { where: { id, ownerOrgId: principal.orgId }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw ApiError.notFound('API key not found');
      assertScopesCover(principal.scopes, key.scopes, 'Deleting this key needs scopes you do not hold');
      await this.publishChange(manager, id);
      await manager.delete(ApiKeyEntity, { id, ownerOrgId: principal.orgId });
      await this.events.record(manager, { orgId: principal.orgId, actor: actorOf(principal), action: 'api_key.deleted', targetType: 'api_key', targetId: id, requestId });
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
  private async publishChange(manager: EntityManager, id: string): Promise<void> {
    const rows: Array<{ hash: string }> = await manager.query(`SELECT encode(token_hash, 'hex') AS hash FROM api_keys WHERE id = $1`, [id]);
    if (rows[0]) await this.bus.publish('api-key', rows[0].hash, manager);
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
