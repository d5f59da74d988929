import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Actor } from '@mintline/access/principal';
import { Clock } from '@mintline/common/clock';
import type { SystemTx, TenantTx } from '@mintline/common/database/db';
import { ConfigEventsRepository } from './config-events.repository';

export interface ConfigEventInput {
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
 * together or not at all; the event belongs to the transaction's org.
 */
@Injectable()
export class ConfigEventsService {
  constructor(private readonly clock: Clock) {}

  record(tx: TenantTx, input: ConfigEventInput): Promise<void> {
    return this.insert(tx, tx.orgId, input);
  }

  /** For the cross-tenant paths (the operator's routes, retention, the CLI): the org is named explicitly. */
  recordFor(tx: SystemTx, orgId: string, input: ConfigEventInput): Promise<void> {
    return this.insert(tx, orgId, input);
  }

  private insert(tx: TenantTx | SystemTx, orgId: string, input: ConfigEventInput): Promise<void> {
    return ConfigEventsRepository.insert(tx, {
      id: randomUUID(),
      org_id: orgId,
      at: this.clock.now(),
      actor_kind: input.actor.kind,
      actor_id: input.actor.id,
      action: input.action,
      target_type: input.targetType,
      target_id: input.targetId,
      details: input.details ?? {},
      request_id: input.requestId ?? null,
    });
  }
}
