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
import { MintAttempt, MintPipeline, Minted } from './mint-pipeline.service';
import { MintRateLimit } from './mint-rate-limit.service';

const ORG = '6c1e0f57-2f0b-4a39-9d0e-1f2a3b4c5d6e';
const agent: TenantPrincipal = { kind: 'user', orgId: ORG, userId: 'u-agent', role: 'agent', scopes: ROLE_SCOPES.agent };
const backendKey: TenantPrincipal = { kind: 'api_key', orgId: ORG, apiKeyId: 'k-backend', ownerOrgId: ORG, scopes: ['CREATE_CALL_TOKEN'] };
const meta: RequestMeta = { requestId: 'req-7', ip: '203.0.113.9', userAgent: 'softphone/2.1' };
const EXPIRES = new Date(Date.UTC(2026, 0, 1, 0, 10));

/** The audit writer as the pipeline sees it: entries it accepted, and a switch that makes it fail as a database outage would. */
class RecordingAudit {
  readonly entries: MintAuditInput[] = [];
  failing = false;
  /** When set, `record` waits for this before accepting (an entry still being committed). */
  hold?: Promise<void>;

  async record(input: MintAuditInput): Promise<void> {
    if (this.hold) await this.hold;
    if (this.failing) throw ApiError.unavailable('The audit log is unavailable, so no token was issued');
    this.entries.push(input);
  }
}

function setUp(options: { mintsPerMinute?: number } = {}) {
  const audit = new RecordingAudit();
  const metrics = new MetricsService();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 15));
  const settings = { get: async () => ({ webrtcEnabled: true, mintsPerMinute: options.mintsPerMinute ?? 600 }) } as unknown as OrgSettingsService;
  const rateLimit = new MintRateLimit(settings, new MemoryCounterStore(() => clock.nowMs()), clock);
  const pipeline = new MintPipeline(audit as unknown as MintAuditWriter, metrics, rateLimit);
  const counted = async (outcome: string) =>
    (await metrics.mints.get()).values.find((value) => value.labels.provider === 'sinch' && value.labels.outcome === outcome)?.value ?? 0;
  return { pipeline, audit, counted };
}

/** A provider step that learns its subject and target, then hands out a token. */
function issuing(token = 'tok.en.value') {
  return jest.fn(async (attempt: MintAttempt): Promise<Minted<{ token: string }>> => {
    attempt.subjectUserId = 'u-subject';
    attempt.target = 'sinch:app-key';
    return { token, expiresAt: EXPIRES, body: { token } };
  });
}

/** A provider step that fails after learning its target. */
function failing(error: unknown) {
  return jest.fn(async (attempt: MintAttempt): Promise<Minted<never>> => {
    attempt.target = 'sinch:app-key';
    throw error;
  });
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('the pipeline handed out a result');
}

describe('MintPipeline.run', () => {
  it('hands out the body once its audit entry is recorded, with everything the attempt learnt', async () => {
    const { pipeline, audit, counted } = setUp();
    await expect(pipeline.run('sinch', agent, meta, issuing())).resolves.toEqual({ token: 'tok.en.value' });
    expect(audit.entries).toEqual([
      {
        orgId: ORG,
        provider: 'sinch',
        actor: { kind: 'user', id: 'u-agent' },
        subjectUserId: 'u-subject',
        target: 'sinch:app-key',
        outcome: 'issued',
        code: null,
        token: 'tok.en.value',
        expiresAt: EXPIRES,
        ip: '203.0.113.9',
        userAgent: 'softphone/2.1',
        requestId: 'req-7',
      },
    ]);
    expect(await counted('issued')).toBe(1);
  });

  it('does not answer before the entry is committed', async () => {
    const { pipeline, audit } = setUp();
    let commit!: () => void;
    audit.hold = new Promise<void>((resolve) => (commit = resolve));
    let answered = false;
    const run = pipeline.run('sinch', agent, meta, issuing()).then((body) => {
      answered = true;
      return body;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    commit();
    await expect(run).resolves.toEqual({ token: 'tok.en.value' });
  });

  it('starts from the principal: an API key is the actor, a user is also the subject until the mint says otherwise', async () => {
    const { pipeline, audit } = setUp();
    const refusal = ApiError.forbidden('NOPE', 'no');
    await rejection(pipeline.run('sinch', backendKey, meta, failing(refusal)));
    await rejection(pipeline.run('sinch', agent, meta, failing(refusal)));
    expect(audit.entries.map(({ actor, subjectUserId }) => ({ actor, subjectUserId }))).toEqual([
      { actor: { kind: 'api_key', id: 'k-backend' }, subjectUserId: null },
      { actor: { kind: 'user', id: 'u-agent' }, subjectUserId: 'u-agent' },
    ]);
  });

  it('audits a refusal as denied with its code and passes the same error on', async () => {
    const { pipeline, audit, counted } = setUp();
    const refusal = new ApiError(400, 'SINCH_NOT_CONFIGURED', 'This org has no sinch-voice credentials');
    expect(await rejection(pipeline.run('sinch', agent, meta, failing(refusal)))).toBe(refusal);
    expect(audit.entries).toEqual([
      expect.objectContaining({ outcome: 'denied', code: 'SINCH_NOT_CONFIGURED', target: 'sinch:app-key', expiresAt: null, requestId: 'req-7' }),
    ]);
    expect(audit.entries[0]).not.toHaveProperty('token');
    expect(await counted('denied')).toBe(1);
    expect(await counted('issued')).toBe(0);
  });

  it('audits a provider or internal failure as failed, with the code the caller gets', async () => {
    const { pipeline, audit, counted } = setUp();
    await rejection(pipeline.run('sinch', agent, meta, failing(ApiError.provider('PROVIDER_UNAVAILABLE', 'Sinch did not answer'))));
    const crash = new Error('socket hang up');
    expect(await rejection(pipeline.run('sinch', agent, meta, failing(crash)))).toBe(crash);
    expect(audit.entries.map(({ outcome, code }) => ({ outcome, code }))).toEqual([
      { outcome: 'failed', code: 'PROVIDER_UNAVAILABLE' },
      { outcome: 'failed', code: 'INTERNAL' },
    ]);
    expect(await counted('failed')).toBe(2);
  });

  it('answers 503 and hands out no token when the issued entry cannot be recorded', async () => {
    const { pipeline, audit, counted } = setUp();
    audit.failing = true;
    const error = await rejection(pipeline.run('sinch', agent, meta, issuing('never.handed.out')));
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(JSON.stringify(error)).not.toContain('never.handed.out');
    expect(error.message).not.toContain('never.handed.out');
    expect(await counted('issued')).toBe(0);
  });

  it('answers 503 instead of the refusal when the refusal cannot be recorded', async () => {
    const { pipeline, audit } = setUp();
    audit.failing = true;
    expect(await rejection(pipeline.run('sinch', agent, meta, failing(ApiError.notFound())))).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
  });

  it('answers a refusal caused by the database being away at once, and still writes its entry when it can', async () => {
    const { pipeline, audit, counted } = setUp();
    let commit!: () => void;
    audit.hold = new Promise<void>((resolve) => (commit = resolve));
    const outage = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // The entry is still waiting (the database is away), yet the caller hears at once.
    expect(await rejection(pipeline.run('sinch', agent, meta, failing(outage)))).toBe(outage);
    expect(audit.entries).toEqual([]);
    commit();
    await new Promise((resolve) => setImmediate(resolve));
    expect(audit.entries).toEqual([expect.objectContaining({ outcome: 'failed', code: 'UNAVAILABLE', target: 'sinch:app-key' })]);
    expect(await counted('failed')).toBe(1);
  });

  it('does not fail such a refusal again when its entry cannot be written either', async () => {
    const { pipeline, audit } = setUp();
    audit.failing = true;
    const outage = new Error('Connection terminated unexpectedly');
    expect(await rejection(pipeline.run('sinch', agent, meta, failing(outage)))).toBe(outage);
  });

  it("refuses past the org's mints per minute with 429 and Retry-After, audited as denied, without calling the provider step", async () => {
    const { pipeline, audit, counted } = setUp({ mintsPerMinute: 2 });
    await pipeline.run('sinch', agent, meta, issuing());
    await pipeline.run('sinch', backendKey, meta, issuing());
    const third = issuing();
    const error = await rejection(pipeline.run('sinch', agent, meta, third));
    // The window is a clock minute; 15 s of it have gone.
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED', headers: { 'retry-after': '45' } });
    expect(third).not.toHaveBeenCalled();
    expect(audit.entries.map(({ outcome, code }) => ({ outcome, code }))).toEqual([
      { outcome: 'issued', code: null },
      { outcome: 'issued', code: null },
      { outcome: 'denied', code: 'RATE_LIMITED' },
    ]);
    expect(audit.entries[2]).toMatchObject({ actor: { kind: 'user', id: 'u-agent' }, subjectUserId: 'u-agent', target: null });
    expect(await counted('denied')).toBe(1);
  });

  it('counts refused attempts against the limit too', async () => {
    const { pipeline } = setUp({ mintsPerMinute: 1 });
    await rejection(pipeline.run('sinch', agent, meta, failing(ApiError.notFound())));
    expect(await rejection(pipeline.run('sinch', agent, meta, issuing()))).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

describe('MintPipeline.refused (a mint the access guard refused)', () => {
  it('audits it as denied with the refusal code, nothing learnt beyond the principal', async () => {
    const { pipeline, audit, counted } = setUp();
    await pipeline.refused('sinch', agent, meta, ApiError.forbidden('MISSING_SCOPE', 'Missing scope: CREATE_CALL_TOKEN'));
    await pipeline.refused('sinch', backendKey, meta, ApiError.forbidden('FEATURE_DISABLED', 'off'));
    expect(audit.entries).toEqual([
      {
        orgId: ORG,
        provider: 'sinch',
        actor: { kind: 'user', id: 'u-agent' },
        subjectUserId: 'u-agent',
        target: null,
        outcome: 'denied',
        code: 'MISSING_SCOPE',
        expiresAt: null,
        ip: '203.0.113.9',
        userAgent: 'softphone/2.1',
        requestId: 'req-7',
      },
      expect.objectContaining({ actor: { kind: 'api_key', id: 'k-backend' }, subjectUserId: null, outcome: 'denied', code: 'FEATURE_DISABLED' }),
    ]);
    expect(await counted('denied')).toBe(2);
  });

  it('throws 503 when the entry cannot be recorded', async () => {
    const { pipeline, audit } = setUp();
    audit.failing = true;
    expect(await rejection(pipeline.refused('sinch', agent, meta, ApiError.forbidden('MISSING_SCOPE', 'no')))).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
  });

  it('does not count against the rate limit', async () => {
    const { pipeline } = setUp({ mintsPerMinute: 1 });
    await pipeline.refused('sinch', agent, meta, ApiError.forbidden('MISSING_SCOPE', 'no'));
    await expect(pipeline.run('sinch', agent, meta, issuing())).resolves.toEqual({ token: 'tok.en.value' });
  });
});
