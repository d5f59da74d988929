import { Injectable } from '@nestjs/common';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { SinchAccessToken } from '@mintline/providers/sinch-project/sinch-access-token';
import type { SinchTokenAudit } from '@mintline/providers/sinch-project/sinch-token-audit';
import { mintAuditEntry, SYSTEM_ACTOR } from '../mint-audit-entry';

/** Every Sinch OAuth access token fetched is a token Mintline obtained: audited (actor system) before it is used. */
@Injectable()
export class SinchTokenAuditor implements SinchTokenAudit {
  constructor(private readonly audit: MintAuditWriter) {}

  tokenFetched(orgId: string, token: SinchAccessToken): Promise<void> {
    return this.audit.record(
      mintAuditEntry(
        { orgId, provider: 'sinch-oauth', actor: SYSTEM_ACTOR, subjectUserId: null, target: 'sinch:oauth', meta: null },
        { outcome: 'issued', token: token.token, expiresAt: token.expiresAt },
      ),
    );
  }
}
