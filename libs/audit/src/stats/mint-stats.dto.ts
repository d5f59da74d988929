import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsOptional } from 'class-validator';
import { MINT_PROVIDERS } from '../mints/mint-audit.dto';
import { MAX_STATS_BUCKETS, STATS_BUCKETS, StatsBucket } from './mint-stats.window';

export class MintStatsQueryDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Mints at or after this instant (default: 24 hours before `to`)' })
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Mints before this instant (default: now)' })
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: STATS_BUCKETS, default: 'hour', description: `Width of a bucket (UTC-aligned); from..to may span at most ${MAX_STATS_BUCKETS} of them` })
  @IsOptional()
  @IsIn(STATS_BUCKETS)
  bucket?: StatsBucket;

  @ApiPropertyOptional({ enum: MINT_PROVIDERS, description: 'Only this provider' })
  @IsOptional()
  @IsIn(MINT_PROVIDERS)
  provider?: string;
}

export class MintStatsPointView {
  @ApiProperty({ format: 'date-time', description: "The bucket's start (UTC-aligned: a whole minute, hour or day)" }) at: string;
  @ApiProperty({ enum: MINT_PROVIDERS }) provider: string;
  @ApiProperty({ type: 'integer', format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Tokens handed out' }) issued: number;
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'Refused attempts (4xx: scope, policy, limits, not configured, ...)',
  })
  denied: number;
  @ApiProperty({ type: 'integer', format: 'int64', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Failed attempts (5xx: provider or database unavailable, ...)' })
  failed: number;
}

export class MintStatsView {
  @ApiProperty({ enum: STATS_BUCKETS }) bucket: StatsBucket;
  @ApiProperty({ format: 'date-time', description: 'The range counted, from (inclusive), after defaults' }) from: string;
  @ApiProperty({ format: 'date-time', description: 'The range counted, to (exclusive), after defaults' }) to: string;
  @ApiProperty({
    type: MintStatsPointView,
    isArray: true,
    maxItems: MAX_STATS_BUCKETS * MINT_PROVIDERS.length,
    description: 'One point per bucket and provider that had mints, oldest first (by provider within a bucket); buckets without mints are left out',
  })
  series: MintStatsPointView[];
}
