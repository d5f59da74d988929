import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ConfigEventsService } from '@mintline/audit/events/config-events.service';
import { actorOf, TenantPrincipal } from '@mintline/access/principal';
import { Db } from '@mintline/common/database/db';
import { ApiError } from '@mintline/common/errors/api-error';
import { CreateEndpointDto, EndpointView, UpdateEndpointDto } from './endpoint.dto';
import { EndpointRow, EndpointsRepository } from './endpoints.repository';

export function toEndpointView(endpoint: EndpointRow): EndpointView {
  return { id: endpoint.id, name: endpoint.name, webrtc: endpoint.webrtc, state: endpoint.state };
}

@Injectable()
export class EndpointsService {
  constructor(
    private readonly db: Db,
    private readonly events: ConfigEventsService,
  ) {}

  async create(principal: TenantPrincipal, dto: CreateEndpointDto, requestId: string): Promise<EndpointView> {
    return this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const endpoint = await EndpointsRepository.insert(tx, { id: randomUUID(), name: dto.name, webrtc: dto.webrtc, state: 'active' });
      await this.events.record(tx, {
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
    return (await EndpointsRepository.list(this.db.forOrg(orgId))).map(toEndpointView);
  }

  async get(orgId: string, id: string): Promise<EndpointView> {
    const endpoint = await EndpointsRepository.find(this.db.forOrg(orgId), id);
    if (!endpoint) throw ApiError.notFound('Endpoint not found');
    return toEndpointView(endpoint);
  }

  async update(principal: TenantPrincipal, id: string, dto: UpdateEndpointDto, requestId: string): Promise<EndpointView> {
    return this.db.forOrg(principal.orgId).transaction(async (tx) => {
      const endpoint = await EndpointsRepository.lock(tx, id);
      if (!endpoint) throw ApiError.notFound('Endpoint not found');
      const changes: Record<string, unknown> = {};
      if (dto.name !== undefined && dto.name !== endpoint.name) changes.name = endpoint.name = dto.name;
      if (dto.webrtc !== undefined && dto.webrtc !== endpoint.webrtc) changes.webrtc = endpoint.webrtc = dto.webrtc;
      if (dto.state !== undefined && dto.state !== endpoint.state) changes.state = endpoint.state = dto.state;
      if (Object.keys(changes).length > 0) {
        await EndpointsRepository.update(tx, id, endpoint);
        await this.events.record(tx, {
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
