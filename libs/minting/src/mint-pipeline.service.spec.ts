import type { MintAuditInput } from '@mintline/audit/mints/mint-audit.types';
import type { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import type { TenantPrincipal } from '@mintline/access/principal';
import { ApiError } from '@mintline/common/errors/api-error';
import type { RequestMeta } from '@mintline/common/http/request-context';
import type { MetricsService } from '@mintline/common/metrics/metrics.service';
import { CachesMovedError } from '@mintline/common/cache/invalidation-bus';
import type { TokenPolicyJudge } from '@mintline/policies/token-policy-judge.service';
import type { MintGrant } from '@mintline/providers/registry/mint-grant';
import { MintPipeline, MintRequest } from './mint-pipeline.service';
import type { MintRateLimit } from './mint-rate-limit.service';

const ORG = '7f0c3a52-2f0e-4c53-9a55-1c2b8a7d6e01';
const USER = 'b3c1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d';
const OTHER_USER = 'c4d2e3f5-6a71-4b8c-9d0e-1f2a3b4c5d6e';
const KEY = 'd5e3f4a6-7b82-4c9d-8e1f-2a3b4c5d6e7f';
const user: TenantPrincipal = { kind: 'user', orgId: ORG, userId: USER, role: 'agent', scopes: [] };
const apiKey: TenantPrincipal = { kind: 'api_key', orgId: ORG, apiKeyId: KEY, ownerOrgId: ORG, scopes: [] };
const meta: RequestMeta = { requestId: 'req-1', ip: '203.0.113.7', userAgent: 'sdk/1.0' };
const expiresAt = new Date('2026-11-26T15:00:00.000Z');

describe('MintPipeline', () => {
  let entries: MintAuditInput[];
  let auditDown: boolean;
  let rateLimited: boolean;
  let counted: Array<{ provider: string; outcome: string }>;
  let steps: string[];
  let record: (entry: MintAuditInput) => Promise<void>;
  let pipeline: MintPipeline;
  /** What the org's policy makes of a grant (the judge's answer), per call. */
  let policy: (asked: MintGrant) => MintGrant;

  beforeEach(() => {
    policy = (asked) => asked;
    entries = [];
    auditDown = false;
    rateLimited = false;
    counted = [];
    steps = [];
    record = async (entry) => {
      if (auditDown) throw ApiError.unavailable('The audit log is unavailable');
      entries.push(entry);
    };
    const audit = { record: (entry: MintAuditInput) => record(entry) } as unknown as MintAuditWriter;
    const metrics = { mints: { inc: (labels: { provider: string; outcome: string }) => counted.push(labels) } } as unknown as MetricsService;
    const rateLimit = {
      admit: async () => {
        steps.push('rate limit');
        if (rateLimited) throw ApiError.rateLimited(30);
      },
    } as unknown as MintRateLimit;
    const judge = {
      grantInForce: async (principal: TenantPrincipal, provider: string, asked: MintGrant, subjectUserId: string | null) => {
        steps.push(`policy of ${provider} for ${subjectUserId}`);
        return policy(asked);
      },
    } as unknown as TokenPolicyJudge;
    pipeline = new MintPipeline(audit, metrics, rateLimit, judge);
  });

  /** A sinch-like mint for OTHER_USER against an application key; `fail` makes one step throw. */
  function request(principal: TenantPrincipal, fail: Partial<Record<'subject' | 'target' | 'mint', ApiError>> = {}): MintRequest<string, string, { token: string }> {
    return {
      provider: 'sinch',
      principal,
      meta,
      subject: async () => {
        steps.push('subject');
        if (fail.subject) throw fail.subject;
        return OTHER_USER;
      },
      target: async (subjectUserId) => {
        steps.push(`target for ${subjectUserId}`);
        if (fail.target) throw fail.target;
        return { name: 'sinch:app-key', value: 'app-key' };
      },
      mint: async ({ subjectUserId, target }) => {
        steps.push(`mint ${target} for ${subjectUserId}`);
        if (fail.mint) throw fail.mint;
        return { token: 'tok-1', expiresAt, body: { token: 'tok-1' } };
      },
    };
  }

  async function refusalOf(promise: Promise<unknown>): Promise<ApiError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }

  it('runs rate limit, subject, target and mint in order, and returns the body once its entry is written', async () => {
    await expect(pipeline.run(request(apiKey))).resolves.toEqual({ token: 'tok-1' });
    expect(steps).toEqual(['rate limit', 'subject', `target for ${OTHER_USER}`, `mint app-key for ${OTHER_USER}`]);
    expect(entries).toEqual([
      {
        orgId: ORG,
        provider: 'sinch',
        action: 'mint',
        actor: { kind: 'api_key', id: KEY },
        subjectUserId: OTHER_USER,
        target: 'sinch:app-key',
        outcome: 'issued',
        code: null,
        token: 'tok-1',
        expiresAt,
        ip: meta.ip,
        userAgent: meta.userAgent,
        requestId: meta.requestId,
      },
    ]);
    expect(counted).toEqual([{ provider: 'sinch', outcome: 'issued' }]);
  });

  it('hands out no token when its entry cannot be written', async () => {
    auditDown = true;
    expect((await refusalOf(pipeline.run(request(user)))).code).toBe('UNAVAILABLE');
    expect(counted).toEqual([]);
  });

  it('audits a rate-limited attempt with what is known before any step: a user mints for itself', async () => {
    rateLimited = true;
    expect((await refusalOf(pipeline.run(request(user)))).code).toBe('RATE_LIMITED');
    expect(steps).toEqual(['rate limit']);
    expect(entries).toEqual([
      expect.objectContaining({ actor: { kind: 'user', id: USER }, subjectUserId: USER, target: null, outcome: 'denied', code: 'RATE_LIMITED', expiresAt: null }),
    ]);
    expect(entries[0].token).toBeUndefined();
  });

  it('audits a refusal while resolving the subject without a subject for an API key, with the target the request names', async () => {
    const refusal = ApiError.notFound('User not found');
    const named = { ...request(apiKey, { subject: refusal }), requestedTarget: 'sinch:named' };
    expect(await refusalOf(pipeline.run(named))).toBe(refusal);
    expect(steps).toEqual(['rate limit', 'subject']);
    expect(entries).toEqual([expect.objectContaining({ subjectUserId: null, target: 'sinch:named', outcome: 'denied', code: 'NOT_FOUND' })]);
    expect(counted).toEqual([{ provider: 'sinch', outcome: 'denied' }]);
  });

  it('audits a refusal while resolving the target with the subject already resolved', async () => {
    const refusal = new ApiError(400, 'SINCH_NOT_CONFIGURED', 'This org has no sinch-voice credentials');
    expect(await refusalOf(pipeline.run(request(apiKey, { target: refusal })))).toBe(refusal);
    expect(entries).toEqual([expect.objectContaining({ subjectUserId: OTHER_USER, target: null, outcome: 'denied', code: 'SINCH_NOT_CONFIGURED' })]);
  });

  it('audits a provider failure as failed, with subject and target', async () => {
    const failure = ApiError.provider('PROVIDER_UNAVAILABLE', 'Sinch answered HTTP 503');
    expect(await refusalOf(pipeline.run(request(apiKey, { mint: failure })))).toBe(failure);
    expect(entries).toEqual([
      expect.objectContaining({ subjectUserId: OTHER_USER, target: 'sinch:app-key', outcome: 'failed', code: 'PROVIDER_UNAVAILABLE', expiresAt: null }),
    ]);
    expect(counted).toEqual([{ provider: 'sinch', outcome: 'failed' }]);
  });

  it('answers 503 instead of the refusal when the refusal cannot be audited', async () => {
    auditDown = true;
    expect((await refusalOf(pipeline.run(request(apiKey, { target: ApiError.notFound() })))).code).toBe('UNAVAILABLE');
  });

  it('answers a refusal caused by the database being away at once, and writes its entry if it can', async () => {
    const away = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    let release!: () => void;
    // An audit write that waits, as one does while the database is away.
    record = (entry) =>
      new Promise<void>((resolve) => {
        release = () => {
          entries.push(entry);
          resolve();
        };
      });
    // The refusal comes back while its entry is still waiting for the database.
    await expect(pipeline.run({ ...request(apiKey), target: () => Promise.reject(away) })).rejects.toBe(away);
    expect(entries).toEqual([]);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(entries).toEqual([expect.objectContaining({ subjectUserId: OTHER_USER, outcome: 'failed', code: 'UNAVAILABLE' })]);
  });

  it('audits a refusal from before the handler (the access guard’s) as denied, fail-closed', async () => {
    await pipeline.refused('twilio', user, meta, ApiError.forbidden('INSUFFICIENT_SCOPE', 'Missing scope'));
    expect(entries).toEqual([
      expect.objectContaining({ provider: 'twilio', actor: { kind: 'user', id: USER }, subjectUserId: USER, target: null, outcome: 'denied', code: 'INSUFFICIENT_SCOPE' }),
    ]);
    auditDown = true;
    expect((await refusalOf(pipeline.refused('twilio', apiKey, meta, ApiError.forbidden('FEATURE_DISABLED', 'Off')))).code).toBe('UNAVAILABLE');
  });

  describe("with a grant (the org's token policy)", () => {
    const asked: MintGrant = { room: 'agent-room', ttlSeconds: 3600, fixedTtl: false, publish: 'default' };
    const denied = new ApiError(403, 'POLICY_DENIED', 'refused', [{ field: 'rooms', message: 'room "agent-room" matches none' }]);

    function granted(principal: TenantPrincipal): { request: MintRequest<string, string, { token: string }>; grants: Array<MintGrant | undefined> } {
      const grants: Array<MintGrant | undefined> = [];
      const base = request(principal);
      return {
        grants,
        request: {
          ...base,
          grant: asked,
          mint: async (resolved) => {
            grants.push(resolved.grant);
            return base.mint(resolved);
          },
        },
      };
    }

    it('judges the grant after subject and target, before the provider, and mints with the grant in force', async () => {
      policy = (grant) => ({ ...grant, ttlSeconds: 900, publish: 'none' });
      const { request: mint, grants } = granted(apiKey);
      await expect(pipeline.run(mint)).resolves.toEqual({ token: 'tok-1' });
      expect(steps).toEqual(['rate limit', 'subject', `target for ${OTHER_USER}`, `policy of sinch for ${OTHER_USER}`, `mint app-key for ${OTHER_USER}`]);
      expect(grants).toEqual([{ ...asked, ttlSeconds: 900, publish: 'none' }]);
    });

    it('audits a policy refusal as denied, with subject and target, and never asks the provider', async () => {
      policy = () => {
        throw denied;
      };
      const { request: mint, grants } = granted(apiKey);
      expect(await refusalOf(pipeline.run(mint))).toBe(denied);
      expect(grants).toEqual([]);
      expect(entries).toEqual([expect.objectContaining({ subjectUserId: OTHER_USER, target: 'sinch:app-key', outcome: 'denied', code: 'POLICY_DENIED', expiresAt: null })]);
      expect(counted).toEqual([{ provider: 'sinch', outcome: 'denied' }]);
    });

    it('does not judge a mint that declares no grant', async () => {
      await pipeline.run(request(user));
      expect(steps.some((step) => step.startsWith('policy'))).toBe(false);
    });

    describe('checked again after its caches moved (a policy changed on another instance)', () => {
      let rechecks: number;
      let movedOnce: boolean;

      beforeEach(() => {
        rechecks = 0;
        movedOnce = true;
        const write = record;
        // The first entry finds the cache epochs moved; the next ones are written.
        record = async (entry) => {
          if (movedOnce) {
            movedOnce = false;
            throw new CachesMovedError();
          }
          return write(entry);
        };
      });

      const freshMeta = (): RequestMeta => ({ ...meta, freshness: { version: 1, recheck: async () => void (rechecks += 1) } });

      it('is judged again, and refused when the policy now refuses it: the token made before is never handed out', async () => {
        let tries = 0;
        policy = (grant) => {
          tries += 1;
          if (tries > 1) throw denied;
          return grant;
        };
        const { request: mint, grants } = granted(apiKey);
        expect(await refusalOf(pipeline.run({ ...mint, meta: freshMeta() }))).toBe(denied);
        expect(rechecks).toBe(1);
        expect(grants).toHaveLength(1);
        expect(entries).toEqual([expect.objectContaining({ outcome: 'denied', code: 'POLICY_DENIED', token: undefined })]);
      });

      it('is made again with the grant the policy now gives', async () => {
        let tries = 0;
        policy = (grant) => (++tries > 1 ? { ...grant, ttlSeconds: 900 } : grant);
        const { request: mint, grants } = granted(apiKey);
        await expect(pipeline.run({ ...mint, meta: freshMeta() })).resolves.toEqual({ token: 'tok-1' });
        expect(grants.map((grant) => grant?.ttlSeconds)).toEqual([3600, 900]);
        expect(entries).toEqual([expect.objectContaining({ outcome: 'issued' })]);
      });

      it('keeps the token it made when the grant in force is the same (the provider is asked once)', async () => {
        const { request: mint, grants } = granted(apiKey);
        await expect(pipeline.run({ ...mint, meta: freshMeta() })).resolves.toEqual({ token: 'tok-1' });
        expect(rechecks).toBe(1);
        expect(grants).toHaveLength(1);
        expect(steps.filter((step) => step === 'subject')).toHaveLength(1);
        expect(steps.filter((step) => step.startsWith('policy'))).toHaveLength(2);
      });

      it('is allowed when a policy that refused it is gone', async () => {
        let tries = 0;
        policy = (grant) => {
          if (++tries === 1) throw denied;
          return grant;
        };
        const { request: mint, grants } = granted(apiKey);
        await expect(pipeline.run({ ...mint, meta: freshMeta() })).resolves.toEqual({ token: 'tok-1' });
        expect(grants).toHaveLength(1);
        expect(entries).toEqual([expect.objectContaining({ outcome: 'issued' })]);
      });
    });
  });
});
