import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Actor } from '@mintline/access/principal';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { InvalidationBus } from '@mintline/common/cache/invalidation-bus';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CreateOrgDto, OrgView, UpdateOrgDto } from './org.dto';
import { OrgRow, OrgsRepository } from './orgs.repository';

export function toOrgView(org: OrgRow): OrgView {
  return {
    id: org.id,
    name: org.name,
    parentOrgId: org.parent_org_id,
    features: { webrtc: org.webrtc_enabled },
    limits: { mintsPerMinute: org.mints_per_minute },
  };
}

/** The operator's management of orgs: cross-tenant by nature, so through the system handle ('operator'). */
@Injectable()
export class OrgsService {
  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
    private readonly bus: InvalidationBus,
  ) {}

  async create(dto: CreateOrgDto, actor: Actor, requestId: string): Promise<OrgView> {
    return this.db.system('operator').transaction(async (tx) => {
      if (dto.parentOrgId && !(await OrgsRepository.existsAny(tx, dto.parentOrgId))) {
        throw ApiError.unprocessable('INVALID_PARENT_ORG', 'parentOrgId does not name an existing org');
      }
      const org = await OrgsRepository.insert(tx, { id: randomUUID(), name: dto.name, parent_org_id: dto.parentOrgId ?? null });
      await this.events.recordFor(tx, org.id, {
        actor,
        action: 'org.created',
        targetType: 'org',
        targetId: org.id,
        details: { name: org.name, parentOrgId: org.parent_org_id },
        requestId,
      });
      return toOrgView(org);
    });
  }

  async get(id: string): Promise<OrgRow> {
    const org = await OrgsRepository.find(this.db.system('operator'), id);
    if (!org) throw ApiError.notFound('Org not found');
    return org;
  }

  async update(id: string, dto: UpdateOrgDto, actor: Actor, requestId: string): Promise<OrgView> {
    return this.db.system('operator').transaction(async (tx) => {
      const org = await OrgsRepository.lockAny(tx, id);
      if (!org) throw ApiError.notFound('Org not found');
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== org.name) changes.name = org.name = dto.name;
      if (dto.features?.webrtc !== undefined && dto.features.webrtc !== org.webrtc_enabled) {
        changes['features.webrtc'] = org.webrtc_enabled = dto.features.webrtc;
      }
      if (dto.limits?.mintsPerMinute !== undefined && dto.limits.mintsPerMinute !== org.mints_per_minute) {
        changes['limits.mintsPerMinute'] = org.mints_per_minute = dto.limits.mintsPerMinute;
      }
      if (Object.keys(changes).length > 0) {
        await OrgsRepository.update(tx, id, org);
        await this.bus.publish('org', id, tx);
        await this.events.recordFor(tx, id, { actor, action: 'org.updated', targetType: 'org', targetId: id, details: changes, requestId });
      }
      return toOrgView(org);
    });
  }
}
