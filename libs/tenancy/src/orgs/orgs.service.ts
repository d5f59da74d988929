import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Actor } from '@mintline/access/principal';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CreateOrgDto, OrgView, UpdateOrgDto } from './org.dto';
import { OrgEntity } from './org.entity';

export function toOrgView(org: OrgEntity): OrgView {
  return {
    id: org.id,
    name: org.name,
    parentOrgId: org.parentOrgId,
    features: { webrtc: org.webrtcEnabled },
    limits: { mintsPerMinute: org.mintsPerMinute },
  };
}

@Injectable()
export class OrgsService {
  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
    private readonly bus: InvalidationBus,
  ) {}

  async create(dto: CreateOrgDto, actor: Actor, requestId: string): Promise<OrgView> {
    return this.db.system('operator').entities(async (manager) => {
      if (dto.parentOrgId && !(await manager.existsBy(OrgEntity, { id: dto.parentOrgId }))) {
        throw ApiError.unprocessable('INVALID_PARENT_ORG', 'parentOrgId does not name an existing org');
      }
      const org = manager.create(OrgEntity, { id: randomUUID(), name: dto.name, parentOrgId: dto.parentOrgId ?? null });
      await manager.insert(OrgEntity, org);
      const saved = await manager.findOneByOrFail(OrgEntity, { id: org.id });
      await this.events.record(manager, {
        orgId: org.id,
        actor,
        action: 'org.created',
        targetType: 'org',
        targetId: org.id,
        details: { name: org.name, parentOrgId: org.parentOrgId },
        requestId,
      });
      return toOrgView(saved);
    });
  }

  async get(id: string): Promise<OrgEntity> {
    const org = await this.db.system('operator').read((manager) => manager.findOneBy(OrgEntity, { id }));
    if (!org) throw ApiError.notFound('Org not found');
    return org;
  }

  async update(id: string, dto: UpdateOrgDto, actor: Actor, requestId: string): Promise<OrgView> {
    return this.db.system('operator').entities(async (manager) => {
      const org = await manager.findOne(OrgEntity, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!org) throw ApiError.notFound('Org not found');
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== org.name) changes.name = org.name = dto.name;
      if (dto.features?.webrtc !== undefined && dto.features.webrtc !== org.webrtcEnabled) {
        changes['features.webrtc'] = org.webrtcEnabled = dto.features.webrtc;
      }
      if (dto.limits?.mintsPerMinute !== undefined && dto.limits.mintsPerMinute !== org.mintsPerMinute) {
        changes['limits.mintsPerMinute'] = org.mintsPerMinute = dto.limits.mintsPerMinute;
      }
      if (Object.keys(changes).length > 0) {
        await manager.update(OrgEntity, { id }, { name: org.name, webrtcEnabled: org.webrtcEnabled, mintsPerMinute: org.mintsPerMinute });
        await this.bus.publish('org', id, manager);
        await this.events.record(manager, { orgId: id, actor, action: 'org.updated', targetType: 'org', targetId: id, details: changes, requestId });
      }
      return toOrgView(org);
    });
  }
}
