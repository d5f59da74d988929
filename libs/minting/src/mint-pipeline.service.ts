import { Injectable } from '@nestjs/common';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/auth/principal';
import { CachesMovedError } from '@mintline/common/cache/invalidation-bus';
import { ApiError } from '@mintline/common/errors/api-error';
import { isDatabaseUnavailable } from '@mintline/common/errors/database-errors';
import { toApiError } from '@mintline/common/errors/error-envelope.filter';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import { MintCount, MintRateLimit } from './mint-rate-limit.service';

/** How many times a mint is checked again after its caches moved under it, before it gives up with 503. */
const MAX_RECHECKS = 3;

/** What a mint checked again (its caches moved under it) carries over from the try before. */
interface MintState<T> {
  count?: MintCount;
  made?: { attempt: MintAttempt; minted: Minted<T> } | { attempt: MintAttempt; error: unknown };
}

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
    // A mint checked again keeps its place in the rate limit's window (it is counted once) and what its
    // provider step made of it, token or refusal (the provider is not asked twice); its principal,
    // feature and limit are judged afresh.
    const state: MintState<T> = {};
    for (let rechecks = 0; ; rechecks += 1) {
      try {
        return await this.runOnce(provider, principal, meta, mint, state);
      } catch (error) {
        // The statement that was to commit the audit entry found a cache epoch moved since the request
        // began (see InvalidationBus) and wrote nothing: check the request again from fresh caches (which
        // throws its refusal, if it is refused now) and try again.
        if (!(error instanceof CachesMovedError) || !meta.freshness || rechecks >= MAX_RECHECKS) throw error;
        await meta.freshness.recheck();
      }
    }
  }

  /** The provider step's result, or its refusal, once per mint however often the mint is checked again. */
  private async made<T>(state: MintState<T>, attempt: MintAttempt, mint: (attempt: MintAttempt) => Promise<Minted<T>>): Promise<Minted<T>> {
    if (!state.made) {
      try {
        state.made = { attempt, minted: await mint(attempt) };
      } catch (error) {
        state.made = { attempt, error };
      }
    }
    if ('error' in state.made) throw state.made.error;
    return state.made.minted;
  }

  private async runOnce<T>(
    provider: MintAuditProvider,
    principal: TenantPrincipal,
    meta: RequestMeta,
    mint: (attempt: MintAttempt) => Promise<Minted<T>>,
    state: MintState<T>,
  ): Promise<T> {
    const attempt: MintAttempt = state.made?.attempt ?? { subjectUserId: principal.kind === 'user' ? principal.userId : null, target: null };
    const base = {
      orgId: principal.orgId,
      provider,
      actor: principal.kind === 'user' ? { kind: 'user' as const, id: principal.userId } : { kind: 'api_key' as const, id: principal.apiKeyId },
      ip: meta.ip,
      userAgent: meta.userAgent,
      requestId: meta.requestId,
      freshAsOf: meta.freshness?.version,
    };
    let minted: Minted<T>;
    try {
      await this.rateLimit.admit(principal.orgId, state.count, (count) => (state.count = count));
      minted = await this.made(state, attempt, mint);
    } catch (error) {
      const refusal = toApiError(error);
      const outcome = refusal.status >= 500 ? 'failed' : 'denied';
      if (isDatabaseUnavailable(error)) {
        this.metrics.mints.inc({ provider, outcome });
        // The database is away: its entry would wait out the same outage before the caller hears a word.
        // A refusal hands out nothing, so it is answered now and its entry written if the database lets it.
        void this.audit.record({ ...base, ...attempt, outcome, code: refusal.code, expiresAt: null }).catch(() => undefined);
        throw error;
      }
      try {
        await this.audit.record({ ...base, ...attempt, outcome, code: refusal.code, expiresAt: null });
      } catch (auditError) {
        if (auditError instanceof CachesMovedError) throw auditError;
        this.metrics.mints.inc({ provider, outcome });
        throw ApiError.unavailable('The audit log is unavailable');
      }
      this.metrics.mints.inc({ provider, outcome });
      throw error;
    }
    // Throws 503 when the entry cannot be committed: the token never leaves this process then.
    await this.audit.record({ ...base, ...attempt, outcome: 'issued', code: null, token: minted.token, expiresAt: minted.expiresAt });
    this.metrics.mints.inc({ provider, outcome: 'issued' });
    return minted.body;
  }
}
