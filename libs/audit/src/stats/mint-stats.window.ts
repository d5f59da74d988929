import { ApiError } from '@mintline/common/errors/api-error';

export const STATS_BUCKETS = ['minute', 'hour', 'day'] as const;
export type StatsBucket = (typeof STATS_BUCKETS)[number];

/** The most buckets one answer may span (API.md, Console). */
export const MAX_STATS_BUCKETS = 1000;
export const DEFAULT_STATS_RANGE_MS = 24 * 60 * 60 * 1000;

export const BUCKET_MS: Record<StatsBucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/** What PostgreSQL's date_bin is given as the stride; the origin is the Unix epoch, so buckets are UTC-aligned. */
export const BUCKET_INTERVAL: Record<StatsBucket, string> = { minute: '1 minute', hour: '1 hour', day: '1 day' };

export interface StatsWindow {
  from: Date;
  to: Date;
  bucket: StatsBucket;
  /** How many aligned buckets [from, to) touches. */
  buckets: number;
}

/** The start of the UTC-aligned bucket holding `instant` (what date_bin(stride, at, epoch) answers). */
export function bucketStart(instant: number, bucket: StatsBucket): number {
  return Math.floor(instant / BUCKET_MS[bucket]) * BUCKET_MS[bucket];
}

/** Aligned buckets that [from, to) touches: the first holds `from`, the last holds the instant just before `to`. */
export function bucketsBetween(from: number, to: number, bucket: StatsBucket): number {
  return (bucketStart(to - 1, bucket) - bucketStart(from, bucket)) / BUCKET_MS[bucket] + 1;
}

/**
 * Resolves a stats request's range: `to` defaults to now, `from` to 24 hours before `to`, the bucket to an
 * hour. Refuses an empty or reversed range and one spanning more than MAX_STATS_BUCKETS buckets, naming the field.
 */
export function statsWindow(query: { from?: string; to?: string; bucket?: StatsBucket }, now: number): StatsWindow {
  const bucket = query.bucket ?? 'hour';
  const to = query.to ? Date.parse(query.to) : now;
  const from = query.from ? Date.parse(query.from) : to - DEFAULT_STATS_RANGE_MS;
  if (!(from < to)) throw ApiError.validation([{ field: 'from', message: 'must be before to' }]);
  const buckets = bucketsBetween(from, to, bucket);
  if (buckets > MAX_STATS_BUCKETS) {
    throw ApiError.validation(
      [{ field: 'bucket', message: `from..to spans ${buckets} ${bucket} buckets; at most ${MAX_STATS_BUCKETS}: choose a wider bucket or a shorter range` }],
      'Too many buckets',
    );
  }
  return { from: new Date(from), to: new Date(to), bucket, buckets };
}
