import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CreateEndpointDto, EndpointView, UpdateEndpointDto } from './endpoint.dto';
import { EndpointEntity } from './endpoint.entity';

export function toEndpointView(endpoint: EndpointEntity): EndpointView {
  return { id: endpoint.id, name: endpoint.name, webrtc: endpoint.webrtc, state: endpoint.state };
}

@Injectable()
export class EndpointsService {
  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
  ) {}

  async create(principal: TenantPrincipal, dto: CreateEndpointDto, requestId: string): Promise<EndpointView> {
    return this.db.forOrg(principal.orgId).entities(async (manager) => {
      const endpoint = manager.create(EndpointEntity, { id: randomUUID(), orgId: principal.orgId, name: dto.name, webrtc: dto.webrtc, state: 'active' });
      await manager.insert(EndpointEntity, endpoint);
      await this.events.record(manager, {
        orgId: principal.orgId,
        actor: actorOf(principal),
        action: 'endpoint.created',
        targetType: 'endpoint',
        targetId: endpoint.id,
        details: { name: endpoint.name, webrtc: endpoint.webrtc },
        requestId,
      });
      return toEndpointView(endpoint);
    });
  }

  async list(orgId: string): Promise<EndpointView[]> {
    const endpoints = await this.db.forOrg(orgId).read((manager) => manager.find(EndpointEntity, { where: { orgId }, order: { createdAt: 'ASC', id: 'ASC' } }));
    return endpoints.map(toEndpointView);
  }

  async get(orgId: string, id: string): Promise<EndpointView> {
    const endpoint = await this.db.forOrg(orgId).read((manager) => manager.findOneBy(EndpointEntity, { id, orgId }));
    if (!endpoint) throw ApiError.notFound('Endpoint not found');
    return toEndpointView(endpoint);
  }

  async update(principal: TenantPrincipal, id: string, dto: UpdateEndpointDto, requestId: string): Promise<EndpointView> {
    return this.db.forOrg(principal.orgId).entities(async (manager) => {
      const endpoint = await manager.findOne(EndpointEntity, { where: { id, orgId: principal.orgId }, lock: { mode: 'pessimistic_write' } });
      if (!endpoint) throw ApiError.notFound('Endpoint not found');
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== endpoint.name) changes.name = endpoint.name = dto.name;
      if (dto.webrtc !== undefined && dto.webrtc !== endpoint.webrtc) changes.webrtc = endpoint.webrtc = dto.webrtc;
      if (dto.state !== undefined && dto.state !== endpoint.state) changes.state = endpoint.state = dto.state;
      if (Object.keys(changes).length > 0) {
        await manager.update(EndpointEntity, { id }, { name: endpoint.name, webrtc: endpoint.webrtc, state: endpoint.state });
        await this.events.record(manager, {
          orgId: principal.orgId,
          actor: actorOf(principal),
          action: 'endpoint.updated',
          targetType: 'endpoint',
          targetId: id,
          details: changes,
          requestId,
        });
      }
      return toEndpointView(endpoint);
    });
  }
}
