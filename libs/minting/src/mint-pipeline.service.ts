import { Injectable } from '@nestjs/common';
import type { MintAuditProvider } from '@mintline/audit/mints/mint-audit.types';
import { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/access/principal';
import { CachesMovedError } from '@mintline/common/cache/invalidation-bus';
import { ApiError } from '@mintline/common/errors/api-error';
import { isDatabaseUnavailable } from '@mintline/common/errors/database-errors';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import type { MintGrant } from '@mintline/providers/registry/mint-grant';
import { MintAuditFacts, mintActorOf, mintAuditEntry } from './mint-audit-entry';
import { MintCount, MintRateLimit } from './mint-rate-limit.service';

/** How many times a mint is checked again after its caches moved under it, before it gives up with 503. */
const MAX_RECHECKS = 3;

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
  /** What the token would grant, for the org's token policy; absent for mints no policy applies to. */
  grant?: MintGrant;
  /** Mints with the provider; called only once subject and target are resolved, with the grant in force. */
  mint(resolved: { subjectUserId: Subject; target: Target; grant?: MintGrant }): Promise<Minted<Body>>;
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
    // A mint checked again keeps its place in the rate limit's window (it is counted once) and what its
    // steps made of it, token or refusal (the provider is not asked twice); its principal, feature and
    // limit are judged afresh.
    const state: MintState<Body> = {};
    for (let rechecks = 0; ; rechecks += 1) {
      try {
        return await this.runOnce(request, state);
      } catch (error) {
        // The statement that was to commit the audit entry found a cache epoch moved since the request
        // began (see InvalidationBus) and wrote nothing: check the request again from fresh caches (which
        // throws its refusal, if it is refused now) and try again.
        if (!(error instanceof CachesMovedError) || !request.meta.freshness || rechecks >= MAX_RECHECKS) throw error;
        await request.meta.freshness.recheck();
      }
    }
  }

  private async runOnce<Subject extends string | null, Target, Body>(request: MintRequest<Subject, Target, Body>, state: MintState<Body>): Promise<Body> {
    const { provider, principal } = request;
    const known = knownBeforeResolving(provider, principal, request.meta, request.requestedTarget ?? null);
    let minted: Minted<Body>;
    try {
      await this.rateLimit.admit(principal.orgId, state.count, (count) => (state.count = count));
      minted = await this.made(request, known, state);
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

  /** Subject, target and provider step, once per mint however often it is checked again; what they found goes into `known`. */
  private async made<Subject extends string | null, Target, Body>(
    request: MintRequest<Subject, Target, Body>,
    known: MintAuditFacts,
    state: MintState<Body>,
  ): Promise<Minted<Body>> {
    if (!state.made) {
      const made: NonNullable<MintState<Body>['made']> = { result: { error: undefined } };
      try {
        const subjectUserId = await request.subject();
        made.subjectUserId = subjectUserId;
        const target = await request.target(subjectUserId);
        made.target = target.name;
        made.result = { minted: await request.mint({ subjectUserId, target: target.value, grant: request.grant }) };
      } catch (error) {
        made.result = { error };
      }
      state.made = made;
    }
    if (state.made.subjectUserId !== undefined) known.subjectUserId = state.made.subjectUserId;
    if (state.made.target !== undefined) known.target = state.made.target;
    if ('error' in state.made.result) throw state.made.result.error;
    return state.made.result.minted;
  }

  /** Audits a refusal with what was known when it happened; the caller then rethrows it, or 503 if the entry failed. */
  private async recordRefusal(known: MintAuditFacts, error: unknown): Promise<void> {
    const entry = mintAuditEntry(known, { outcome: 'refused', error });
    if (isDatabaseUnavailable(error)) {
      this.metrics.mints.inc({ provider: known.provider, outcome: entry.outcome });
      // The database is away: its entry would wait out the same outage before the caller hears a word.
      // A refusal hands out nothing, so it is answered now and its entry written if the database lets it.
      void this.audit.record(entry).catch(() => undefined);
      return;
    }
    try {
      await this.audit.record(entry);
    } catch (auditError) {
      // Checked again and decided afresh (see `run`): not an outcome yet.
      if (auditError instanceof CachesMovedError) throw auditError;
      this.metrics.mints.inc({ provider: known.provider, outcome: entry.outcome });
      throw ApiError.unavailable('The audit log is unavailable');
    }
    this.metrics.mints.inc({ provider: known.provider, outcome: entry.outcome });
  }
}

/** What a mint checked again (its caches moved under it) carries over from the try before. */
interface MintState<Body> {
  count?: MintCount;
  made?: { subjectUserId?: string | null; target?: string; result: { minted: Minted<Body> } | { error: unknown } };
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
