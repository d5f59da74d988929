import type { MintAction, MintAuditInput, MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { toApiError } from '@mintline/common/errors/error-envelope.filter';
import type { RequestMeta } from '@mintline/common/http/request-context';

export type MintActor = MintAuditInput['actor'];

/** What the entry of one mint attempt (or redemption, or revocation) says, whatever its outcome. */
export interface MintAuditFacts {
  orgId: string;
  provider: MintAuditProvider;
  /** Defaults to 'mint'. */
  action?: MintAction;
  actor: MintActor;
  subjectUserId: string | null;
  target: string | null;
  /** The HTTP request it answers; null for what the service does on its own (a Sinch OAuth fetch). */
  meta: RequestMeta | null;
}

/** How the attempt ended. A refusal is `denied` when it is the caller's (4xx) and `failed` when it is ours or upstream's (5xx). */
export type MintAuditResult = { outcome: 'issued'; token?: string; expiresAt: Date | null } | { outcome: 'refused'; error: unknown; token?: string; expiresAt?: Date | null };

/** The one way a mint audit entry is built, so that every path writes the same fields the same way. */
export function mintAuditEntry(facts: MintAuditFacts, result: MintAuditResult): MintAuditInput {
  const refusal = result.outcome === 'refused' ? toApiError(result.error) : null;
  return {
    orgId: facts.orgId,
    provider: facts.provider,
    action: facts.action ?? 'mint',
    actor: facts.actor,
    subjectUserId: facts.subjectUserId,
    target: facts.target,
    outcome: refusal ? (refusal.status >= 500 ? 'failed' : 'denied') : 'issued',
    code: refusal?.code ?? null,
    token: result.token,
    expiresAt: result.expiresAt ?? null,
    ip: facts.meta?.ip ?? null,
    userAgent: facts.meta?.userAgent ?? null,
    requestId: facts.meta?.requestId ?? null,
    freshAsOf: facts.meta?.freshness?.version,
  };
}

/** The actor of an entry made on a tenant principal's request (a user or an API key). */
export function mintActorOf(principal: { kind: 'user'; userId: string } | { kind: 'api_key'; apiKeyId: string }): MintActor {
  return principal.kind === 'user' ? { kind: 'user', id: principal.userId } : { kind: 'api_key', id: principal.apiKeyId };
}

/** The actor of what the service does on its own behalf. */
export const SYSTEM_ACTOR: MintActor = { kind: 'system', id: null };
