import { Injectable } from '@nestjs/common';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ApiError } from '@mintline/common/errors/api-error';
import { isDatabaseUnavailable } from '@mintline/common/errors/database-errors';
import { toApiError } from '@mintline/common/errors/error-envelope.filter';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import { MintRateLimit } from './mint-rate-limit.service';

/** What a mint step learns as it goes, so that a refusal is audited with as much as is known. */
export interface MintAttempt {
  subjectUserId: string | null;
  target: string | null;
}

export interface Minted<T> {
  token: string;
  expiresAt: Date;
  body: T;
}

/**
 * The mint pipeline: policy → provider → audit → response. Every attempt is audited; an issued token
 * is returned only after its audit entry has committed, and if that fails the caller gets 503 and no token.
 */
@Injectable()
export class MintPipeline {
  constructor(
    private readonly audit: MintAuditWriter,
    private readonly metrics: MetricsService,
    private readonly rateLimit: MintRateLimit,
  ) {}

  async run<T>(
    provider: MintAuditProvider,
    principal: TenantPrincipal,
    meta: RequestMeta,
    mint: (attempt: MintAttempt) => Promise<Minted<T>>,
  ): Promise<T> {
    const attempt: MintAttempt = { subjectUserId: principal.kind === 'user' ? principal.userId : null, target: null };
    const base = {
      orgId: principal.orgId,
      provider,
      actor: principal.kind === 'user' ? { kind: 'user' as const, id: principal.userId } : { kind: 'api_key' as const, id: principal.apiKeyId },
      ip: meta.ip,
      userAgent: meta.userAgent,
      requestId: meta.requestId,
    };
    let minted: Minted<T>;
    try {
      await this.rateLimit.admit(principal.orgId);
      minted = await mint(attempt);
    } catch (error) {
      const refusal = toApiError(error);
      const outcome = refusal.status >= 500 ? 'failed' : 'denied';
      this.metrics.mints.inc({ provider, outcome });
      if (isDatabaseUnavailable(error)) {
        // The database is away: its entry would wait out the same outage before the caller hears a word.
        // A refusal hands out nothing, so it is answered now and its entry written if the database lets it.
        void this.audit.record({ ...base, ...attempt, outcome, code: refusal.code, expiresAt: null }).catch(() => undefined);
        throw error;
      }
      try {
        await this.audit.record({ ...base, ...attempt, outcome, code: refusal.code, expiresAt: null });
      } catch {
        throw ApiError.unavailable('The audit log is unavailable');
      }
      throw error;
    }
    // Throws 503 when the entry cannot be committed: the token never leaves this process then.
    await this.audit.record({ ...base, ...attempt, outcome: 'issued', code: null, token: minted.token, expiresAt: minted.expiresAt });
    this.metrics.mints.inc({ provider, outcome: 'issued' });
    return minted.body;
  }

  /**
   * A mint the access guard refused before its handler ran (a missing scope, the org's feature off): still
   * an attempt by an authenticated principal, audited as denied like a refusal inside `run`. Throws 503
   * when the entry cannot be written.
   */
  async refused(provider: MintAuditProvider, principal: TenantPrincipal, meta: RequestMeta, refusal: ApiError): Promise<void> {
    this.metrics.mints.inc({ provider, outcome: 'denied' });
    try {
      await this.audit.record({
        orgId: principal.orgId,
        provider,
        actor: principal.kind === 'user' ? { kind: 'user', id: principal.userId } : { kind: 'api_key', id: principal.apiKeyId },
        subjectUserId: principal.kind === 'user' ? principal.userId : null,
        target: null,
        outcome: 'denied',
        code: refusal.code,
        expiresAt: null,
        ip: meta.ip,
        userAgent: meta.userAgent,
        requestId: meta.requestId,
      });
    } catch {
      throw ApiError.unavailable('The audit log is unavailable');
    }
  }
}
