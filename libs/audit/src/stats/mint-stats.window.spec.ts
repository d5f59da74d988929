import type { TenantDb } from '@mintline/common/database/db';
import type { Sql } from '@mintline/common/database/statement-batch';
import { ApiError } from '@mintline/common/errors/api-error';
import { MintAuditRepository } from '../mints/mint-audit.repository';
import { toStatsPoint } from './mint-stats.query';
import { BUCKET_INTERVAL, bucketsBetween, bucketStart, MAX_STATS_BUCKETS, StatsWindow, statsWindow } from './mint-stats.window';

const NOW = Date.parse('2026-03-10T09:15:30.000Z');
const ORG = '6f1c8a52-3d4e-4c1b-9a7e-2b5d8f0e1a23';

function refusal(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('stats buckets', () => {
  it('aligns buckets to whole UTC minutes, hours and days', () => {
    expect(new Date(bucketStart(NOW, 'minute')).toISOString()).toBe('2026-03-10T09:15:00.000Z');
    expect(new Date(bucketStart(NOW, 'hour')).toISOString()).toBe('2026-03-10T09:00:00.000Z');
    expect(new Date(bucketStart(NOW, 'day')).toISOString()).toBe('2026-03-10T00:00:00.000Z');
  });

  it('counts the aligned buckets a half-open range touches', () => {
    expect(bucketsBetween(Date.parse('2026-03-10T00:00:00Z'), Date.parse('2026-03-11T00:00:00Z'), 'hour')).toBe(24);
    // A range starting mid-hour touches the hour it starts in; `to` itself is excluded.
    expect(bucketsBetween(Date.parse('2026-03-10T00:30:00Z'), Date.parse('2026-03-10T02:00:00Z'), 'hour')).toBe(2);
    expect(bucketsBetween(Date.parse('2026-03-10T00:30:00Z'), Date.parse('2026-03-10T02:00:00.001Z'), 'hour')).toBe(3);
    expect(bucketsBetween(Date.parse('2026-03-10T23:59:59Z'), Date.parse('2026-03-11T00:00:01Z'), 'day')).toBe(2);
    expect(bucketsBetween(NOW, NOW + 1, 'minute')).toBe(1);
  });
});

describe('statsWindow', () => {
  it('defaults to the last 24 hours in hour buckets', () => {
    const window = statsWindow({}, NOW);
    expect(window).toEqual({ from: new Date(NOW - 86_400_000), to: new Date(NOW), bucket: 'hour', buckets: 25 });
  });

  it('takes 24 hours before an explicit to, and now after an explicit from', () => {
    expect(statsWindow({ to: '2026-03-01T00:00:00Z', bucket: 'day' }, NOW)).toMatchObject({ from: new Date('2026-02-28T00:00:00Z'), buckets: 1 });
    expect(statsWindow({ from: '2026-03-10T09:00:00Z', bucket: 'minute' }, NOW)).toMatchObject({ to: new Date(NOW), buckets: 16 });
  });

  it('refuses from at or after to, naming from', () => {
    for (const query of [
      { from: '2026-03-10T00:00:00Z', to: '2026-03-10T00:00:00Z' },
      { from: '2026-03-11T00:00:00Z', to: '2026-03-10T00:00:00Z' },
      { from: '2026-03-11T00:00:00Z' },
    ]) {
      const error = refusal(() => statsWindow(query, NOW));
      expect({ status: error.status, code: error.code, details: error.details }).toEqual({
        status: 400,
        code: 'VALIDATION_FAILED',
        details: [{ field: 'from', message: 'must be before to' }],
      });
    }
  });

  it('allows exactly 1,000 buckets and refuses 1,001, naming bucket', () => {
    const from = '2026-03-10T00:00:00Z';
    expect(statsWindow({ from, to: new Date(Date.parse(from) + MAX_STATS_BUCKETS * 60_000).toISOString(), bucket: 'minute' }, NOW).buckets).toBe(1000);
    const error = refusal(() => statsWindow({ from, to: new Date(Date.parse(from) + MAX_STATS_BUCKETS * 60_000 + 1).toISOString(), bucket: 'minute' }, NOW));
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details).toEqual([{ field: 'bucket', message: expect.stringContaining('spans 1001 minute buckets; at most 1000') }]);
    // The default range (24 h) in minutes is 1,441 buckets: refused; in hours it is fine.
    expect(refusal(() => statsWindow({ bucket: 'minute' }, NOW)).details?.[0].field).toBe('bucket');
    expect(statsWindow({ from: '2024-01-01T00:00:00Z', to: '2026-09-27T00:00:00Z', bucket: 'day' }, NOW).buckets).toBe(1000);
  });
});

/** The statement MintAuditRepository.mintCounts sends through an org's handle, and its values. */
async function mintStatsStatement(orgId: string, window: StatsWindow, provider?: string): Promise<{ text: string; values: readonly unknown[] }> {
  const sent: Array<{ text: string; values: readonly unknown[] }> = [];
  const db = {
    orgId,
    query: async (sql: Sql, values: readonly unknown[]) => {
      sent.push({ text: sql.text, values });
      return [];
    },
  } as unknown as TenantDb;
  await MintAuditRepository.mintCounts(db, { from: window.from, to: window.to, stride: BUCKET_INTERVAL[window.bucket] }, provider);
  expect(sent).toHaveLength(1);
  return sent[0];
}

describe('MintAuditRepository.mintCounts', () => {
  const window = statsWindow({ from: '2026-03-10T00:00:00Z', to: '2026-03-11T00:00:00Z', bucket: 'hour' }, NOW);

  it('counts per bucket and provider in SQL, scoped to the org and range, values bound as parameters', async () => {
    const statement = await mintStatsStatement(ORG, window);
    expect(statement.values).toEqual([ORG, window.from, window.to, '1 hour']);
    expect(statement.text).toMatch(/date_bin\(\$4::interval, at, TIMESTAMPTZ '1970-01-01 00:00:00\+00'\)/);
    expect(statement.text).toMatch(/WHERE org_id = \$1 AND at >= \$2 AND at < \$3 AND action = 'mint'/);
    expect(statement.text).toMatch(/GROUP BY 1, 2\s+ORDER BY 1, 2/);
    expect(statement.text).not.toContain(ORG);
  });

  it('narrows to one provider by a parameter', async () => {
    const statement = await mintStatsStatement(ORG, window, 'twilio');
    expect(statement.values).toEqual([ORG, window.from, window.to, '1 hour', 'twilio']);
    expect(statement.text).toContain('AND provider = $5');
    expect(statement.text).not.toContain('twilio');
  });

  it("reads PostgreSQL's bigint counts as numbers", () => {
    expect(toStatsPoint({ at: new Date('2026-03-10T09:00:00Z'), provider: 'sinch', issued: '3', denied: '0', failed: '12' })).toEqual({
      at: '2026-03-10T09:00:00.000Z',
      provider: 'sinch',
      issued: 3,
      denied: 0,
      failed: 12,
    });
  });
});
