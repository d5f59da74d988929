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
import { isPolicyProvider } from '@mintline/policies/policy-providers';
import { TokenPolicyJudge } from '@mintline/policies/token-policy-judge.service';
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
 * One mint as its service describes it. The pipeline runs the steps in order (subject, target, the
 * org's token policy when the mint declares a grant, mint) and audits the outcome with whatever the
 * steps that succeeded found, so a refusal while resolving (an unknown user, no credentials, the
 * policy) is audited too.
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
  /** What the token would grant, judged by the org's token policy for `provider` before the provider is asked; absent for mints no policy applies to. */
  grant?: MintGrant;
  /** Mints with the provider; called only once subject and target are resolved, with the grant in force. */
  mint(resolved: { subjectUserId: Subject; target: Target; grant?: MintGrant }): Promise<Minted<Body>>;
}

/**
 * The mint pipeline: rate limit → subject → target → policy → provider → audit → response. Every attempt is
 * audited; an issued token is returned only after its audit entry has committed, and if that fails
 * the caller gets 503 and no token.
 */
@Injectable()
export class MintPipeline {
  constructor(
    private readonly audit: MintAuditWriter,
    private readonly metrics: MetricsService,
    private readonly rateLimit: MintRateLimit,
    private readonly policies: TokenPolicyJudge,
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

  /**
   * Subject and target are resolved once per mint however often it is checked again, and what they
   * found goes into `known`. The policy is judged on every try: a mint checked again because a cache
   * moved under it (a policy changed on another instance) is judged by the policy now in force, and
   * made again if that changes its grant; otherwise the provider is asked once.
   */
  private async made<Subject extends string | null, Target, Body>(
    request: MintRequest<Subject, Target, Body>,
    known: MintAuditFacts,
    state: MintState<Body>,
  ): Promise<Minted<Body>> {
    if (!state.resolved) {
      const resolved: NonNullable<MintState<Body>['resolved']> = {};
      try {
        const subjectUserId = await request.subject();
        resolved.subjectUserId = subjectUserId;
        resolved.target = await request.target(subjectUserId);
      } catch (error) {
        resolved.error = { error };
      }
      state.resolved = resolved;
    }
    const { subjectUserId, target, error } = state.resolved;
    if (subjectUserId !== undefined) known.subjectUserId = subjectUserId;
    if (target !== undefined) known.target = target.name;
    if (error) throw error.error;
    const subject = subjectUserId as Subject;

    const grant =
      request.grant && isPolicyProvider(request.provider) ? await this.policies.grantInForce(request.principal, request.provider, request.grant, subject) : request.grant;
    if (!state.made || !sameGrant(state.made.grant, grant)) {
      let result: NonNullable<MintState<Body>['made']>['result'];
      try {
        result = { minted: await request.mint({ subjectUserId: subject, target: target!.value as Target, grant }) };
      } catch (mintError) {
        result = { error: mintError };
      }
      state.made = { grant, result };
    }
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
  resolved?: { subjectUserId?: string | null; target?: MintTarget<unknown>; error?: { error: unknown } };
  /** The provider step's outcome, and the grant it was made with. */
  made?: { grant: MintGrant | undefined; result: { minted: Minted<Body> } | { error: unknown } };
}

function sameGrant(a: MintGrant | undefined, b: MintGrant | undefined): boolean {
  if (!a || !b) return a === b;
  return a.room === b.room && a.ttlSeconds === b.ttlSeconds && a.fixedTtl === b.fixedTtl && a.publish === b.publish;
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
