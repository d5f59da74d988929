import type { TenantPrincipal } from '@mintline/access/principal';
import { ROLE_SCOPES } from '@mintline/access/scopes';
import type { MintAuditInput } from '@mintline/audit/mints/mint-audit.types';
import type { MintAuditWriter } from '@mintline/audit/mints/mint-audit.writer';
import { ManualClock } from '@mintline/common/clock';
import { MemoryCounterStore } from '@mintline/common/counters/counter-store';
import { ApiError } from '@mintline/common/errors/api-error';
import type { RequestMeta } from '@mintline/common/http/request-context';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import type { OrgSettingsService } from '@mintline/tenancy/orgs/org-settings.service';
import type { TokenPolicyJudge } from '@mintline/policies/token-policy-judge.service';
import { MintPipeline, MintRequest } from './mint-pipeline.service';
import { MintRateLimit } from './mint-rate-limit.service';

/**
 * The pipeline with its real rate limit (in-memory counters on a manual clock) and its real Prometheus
 * counters; only the audit writer is a recorder (its own spec drives it against PostgreSQL).
 * mint-pipeline.service.spec.ts covers the steps and the entry of each outcome.
 */

const ORG = '6c1e0f57-2f0b-4a39-9d0e-1f2a3b4c5d6e';
const agent: TenantPrincipal = { kind: 'user', orgId: ORG, userId: 'u-agent', role: 'agent', scopes: ROLE_SCOPES.agent };
const backendKey: TenantPrincipal = { kind: 'api_key', orgId: ORG, apiKeyId: 'k-backend', ownerOrgId: ORG, scopes: ['CREATE_CALL_TOKEN'] };
const meta: RequestMeta = { requestId: 'req-7', ip: '203.0.113.9', userAgent: 'softphone/2.1' };
const EXPIRES = new Date(Date.UTC(2026, 0, 1, 0, 10));

/** The audit writer as the pipeline sees it: the entries it accepted; `hold` keeps an entry "being committed". */
class RecordingAudit {
  readonly entries: MintAuditInput[] = [];
  hold?: Promise<void>;

  async record(input: MintAuditInput): Promise<void> {
    if (this.hold) await this.hold;
    this.entries.push(input);
  }
}

function setUp(options: { mintsPerMinute?: number } = {}) {
  const audit = new RecordingAudit();
  const metrics = new MetricsService();
  // 15 s into a clock minute: the rate limit's window ends in 45 s.
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 15));
  const settings = { get: async () => ({ webrtcEnabled: true, mintsPerMinute: options.mintsPerMinute ?? 600 }) } as unknown as OrgSettingsService;
  const rateLimit = new MintRateLimit(settings, new MemoryCounterStore(() => clock.nowMs()), clock);
  const pipeline = new MintPipeline(audit as unknown as MintAuditWriter, metrics, rateLimit, {} as TokenPolicyJudge);
  const counted = async (outcome: string) =>
    (await metrics.mints.get()).values.find((value) => value.labels.provider === 'sinch' && value.labels.outcome === outcome)?.value ?? 0;
  return { pipeline, audit, counted };
}

/** A Sinch-like mint; `refusal` makes its provider step throw. */
function sinch(principal: TenantPrincipal, refusal?: ApiError) {
  const mint = jest.fn(async () => {
    if (refusal) throw refusal;
    return { token: 'tok.en.value', expiresAt: EXPIRES, body: { token: 'tok.en.value' } };
  });
  const request: MintRequest<string, string, { token: string }> = {
    provider: 'sinch',
    principal,
    meta,
    subject: async () => 'u-subject',
    target: async () => ({ name: 'sinch:app-key', value: 'app-key' }),
    mint,
  };
  return { request, mint };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('the pipeline handed out a result');
}

describe('MintPipeline with its real rate limit and metrics', () => {
  it('counts each outcome in mintline_mints_total', async () => {
    const { pipeline, counted } = setUp();
    await pipeline.run(sinch(agent).request);
    await rejection(pipeline.run(sinch(agent, new ApiError(400, 'SINCH_NOT_CONFIGURED', 'none')).request));
    await rejection(pipeline.run(sinch(agent, ApiError.provider('PROVIDER_UNAVAILABLE', 'down')).request));
    expect([await counted('issued'), await counted('denied'), await counted('failed')]).toEqual([1, 1, 1]);
  });

  it('does not answer before the issued entry is committed', async () => {
    const { pipeline, audit } = setUp();
    let commit!: () => void;
    audit.hold = new Promise<void>((resolve) => (commit = resolve));
    let answered = false;
    const run = pipeline.run(sinch(agent).request).then((body) => {
      answered = true;
      return body;
    });
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    commit();
    await expect(run).resolves.toEqual({ token: 'tok.en.value' });
  });

  it("refuses past the org's mints per minute with 429 and the window's Retry-After, audited, without calling the provider", async () => {
    const { pipeline, audit, counted } = setUp({ mintsPerMinute: 2 });
    await pipeline.run(sinch(agent).request);
    await pipeline.run(sinch(backendKey).request);
    const third = sinch(agent);
    expect(await rejection(pipeline.run(third.request))).toMatchObject({ status: 429, code: 'RATE_LIMITED', headers: { 'retry-after': '45' } });
    expect(third.mint).not.toHaveBeenCalled();
    expect(audit.entries.map(({ outcome, code }) => ({ outcome, code }))).toEqual([
      { outcome: 'issued', code: null },
      { outcome: 'issued', code: null },
      { outcome: 'denied', code: 'RATE_LIMITED' },
    ]);
    expect(await counted('denied')).toBe(1);
  });

  it('counts refused attempts against the limit too', async () => {
    const { pipeline } = setUp({ mintsPerMinute: 1 });
    await rejection(pipeline.run(sinch(agent, ApiError.notFound()).request));
    expect(await rejection(pipeline.run(sinch(agent).request))).toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('counts a refusal by the access guard as a denied mint, not against the limit', async () => {
    const { pipeline, audit, counted } = setUp({ mintsPerMinute: 1 });
    await pipeline.refused('sinch', agent, meta, ApiError.forbidden('MISSING_SCOPE', 'Missing scope: CREATE_CALL_TOKEN'));
    expect(audit.entries).toEqual([expect.objectContaining({ outcome: 'denied', code: 'MISSING_SCOPE', subjectUserId: 'u-agent', target: null })]);
    expect(await counted('denied')).toBe(1);
    await expect(pipeline.run(sinch(agent).request)).resolves.toEqual({ token: 'tok.en.value' });
  });
});
