import { Injectable } from '@nestjs/common';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ApiError } from '@mintline/common/errors/api-error';
import { isDatabaseUnavailable } from '@mintline/common/errors/database-errors';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import { MintAuditFacts, mintActorOf, mintAuditEntry } from './mint-audit-entry';
import { MintRateLimit } from './mint-rate-limit.service';

export interface Minted<T> {
  token: string;
  expiresAt: Date;
  body: T;
}

/** What a mint is made against, and the name its audit entries give it (`sinch:<applicationKey>`). */
export interface MintTarget<T> {
  name: string;
  value: T;
}

/**
 * One mint as its service describes it. The pipeline runs the steps in order (subject, target, mint)
 * and audits the outcome with whatever the steps that succeeded found, so a refusal while resolving
 * (an unknown user, no credentials) is audited too.
 */
export interface MintRequest<Subject extends string | null, Target, Body> {
  provider: MintAuditProvider;
  principal: TenantPrincipal;
  meta: RequestMeta;
  /** Whom the token is for: a user of the principal's org, or null when the token names none. */
  subject(): Promise<Subject>;
  /** The target as the request itself names it, if it does (a call token's endpoint): audited even if resolving it fails. */
  requestedTarget?: string;
  /** What the token is minted against (the org's credentials, an endpoint), resolved for the subject. */
  target(subjectUserId: Subject): Promise<MintTarget<Target>>;
  /** Mints with the provider; called only once subject and target are resolved. */
  mint(resolved: { subjectUserId: Subject; target: Target }): Promise<Minted<Body>>;
}

/**
 * The mint pipeline: rate limit → subject → target → provider → audit → response. Every attempt is
 * audited; an issued token is returned only after its audit entry has committed, and if that fails
 * the caller gets 503 and no token.
 */
@Injectable()
export class MintPipeline {
  constructor(
    private readonly audit: MintAuditWriter,
    private readonly metrics: MetricsService,
    private readonly rateLimit: MintRateLimit,
  ) {}

  async run<Subject extends string | null, Target, Body>(request: MintRequest<Subject, Target, Body>): Promise<Body> {
    const { provider, principal } = request;
    const known = knownBeforeResolving(provider, principal, request.meta, request.requestedTarget ?? null);
    let minted: Minted<Body>;
    try {
      await this.rateLimit.admit(principal.orgId);
      const subjectUserId = await request.subject();
      known.subjectUserId = subjectUserId;
      const target = await request.target(subjectUserId);
      known.target = target.name;
      minted = await request.mint({ subjectUserId, target: target.value });
    } catch (error) {
      await this.recordRefusal(known, error);
      throw error;
    }
    // Throws 503 when the entry cannot be committed: the token never leaves this process then.
    await this.audit.record(mintAuditEntry(known, { outcome: 'issued', token: minted.token, expiresAt: minted.expiresAt }));
    this.metrics.mints.inc({ provider, outcome: 'issued' });
    return minted.body;
  }

  /**
   * A mint refused before its handler ran (a missing scope, the org's feature off): still an attempt
   * by an authenticated principal, audited like a refusal inside `run`. Throws 503 when the entry
   * cannot be written.
   */
  async refused(provider: MintAuditProvider, principal: TenantPrincipal, meta: RequestMeta, refusal: ApiError): Promise<void> {
    await this.recordRefusal(knownBeforeResolving(provider, principal, meta, null), refusal);
  }

  /** Audits a refusal with what was known when it happened; the caller then rethrows it, or 503 if the entry failed. */
  private async recordRefusal(known: MintAuditFacts, error: unknown): Promise<void> {
    const entry = mintAuditEntry(known, { outcome: 'refused', error });
    this.metrics.mints.inc({ provider: known.provider, outcome: entry.outcome });
    if (isDatabaseUnavailable(error)) {
      // The database is away: its entry would wait out the same outage before the caller hears a word.
      // A refusal hands out nothing, so it is answered now and its entry written if the database lets it.
      void this.audit.record(entry).catch(() => undefined);
      return;
    }
    try {
      await this.audit.record(entry);
    } catch {
      throw ApiError.unavailable('The audit log is unavailable');
    }
  }
}

/** What an entry can say before any step has run: a user mints for itself; the request may name its target. */
function knownBeforeResolving(provider: MintAuditProvider, principal: TenantPrincipal, meta: RequestMeta, target: string | null): MintAuditFacts {
  return {
    orgId: principal.orgId,
    provider,
    actor: mintActorOf(principal),
    subjectUserId: principal.kind === 'user' ? principal.userId : null,
    target,
    meta,
  };
}
