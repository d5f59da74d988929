import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { Actor } from '@mintline/access/principal';
import { Clock } from '@mintline/common/clock';
import { ConfigEventEntity } from './config-event.entity';

export interface ConfigEventInput {
  orgId: string;
  actor: Actor;
  action: string;
  targetType: string;
  targetId: string | null;
  /** What changed, by name. Callers pass field names and non-secret values only. */
  details?: Record<string, unknown>;
  requestId?: string | null;
}

/**
 * Records configuration changes. Takes the caller's transaction so the change and its event commit
 * together or not at all.
 */
@Injectable()
export class ConfigEventsService {
  constructor(private readonly clock: Clock) {}

  async record(manager: EntityManager, input: ConfigEventInput): Promise<void> {
    await manager.insert(ConfigEventEntity, {
      id: randomUUID(),
      orgId: input.orgId,
      at: this.clock.now(),
      actorKind: input.actor.kind,
      actorId: input.actor.id,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId,
      details: (input.details ?? {}) as object,
      requestId: input.requestId ?? null,
    });
  }
}
