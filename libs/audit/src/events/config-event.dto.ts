import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsOptional, IsString, IsUUID, Matches } from 'class-validator';
import { PageQuery } from '../paging/page-query.dto';

/** The filters of the configuration events, without the page fields. */
export class ConfigEventFilterDto {
  @ApiPropertyOptional({ pattern: '^[a-z_]{1,40}$', maxLength: 40, description: 'e.g. user, api_key, credentials, org, endpoint, policy' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,40}$/)
  targetType?: string;

  @ApiPropertyOptional({ pattern: '^[a-z_.]{1,60}$', maxLength: 60, description: 'e.g. user.created, credentials.replaced, policy.replaced' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_.]{1,60}$/)
  action?: string;

  // Actor ids are user and API key ids, UUIDs; the operator and the system act without one (id null),
  // so there is nothing else to filter on.
  @ApiPropertyOptional({ format: 'uuid', maxLength: 36, description: 'The user or API key id that made the change' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;
}

export class ConfigEventQueryDto extends PageQuery(ConfigEventFilterDto) {}

export class ConfigEventActorView {
  @ApiProperty({ enum: ['user', 'api_key', 'operator', 'system'] })
  kind: string;

  @ApiProperty({ nullable: true, type: String, maxLength: 64 })
  id: string | null;
}

export class ConfigEventView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) orgId: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: ConfigEventActorView }) actor: ConfigEventActorView;
  @ApiProperty({ example: 'credentials.replaced', maxLength: 60 }) action: string;
  @ApiProperty({ example: 'credentials', maxLength: 40 }) targetType: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 64, description: 'The id, or the provider of credentials' }) targetId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What changed; never a secret value' }) details: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String, maxLength: 128 }) requestId: string | null;
}

export class ConfigEventPageView {
  @ApiProperty({ type: ConfigEventView, isArray: true, maxItems: 500, description: 'Newest first, at most limit' })
  items: ConfigEventView[];

  @ApiProperty({ nullable: true, type: String, maxLength: 512 })
  nextCursor: string | null;
}
