import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

export class ConfigEventQueryDto {
  @ApiPropertyOptional({ description: 'e.g. user, api_key, credentials, org, endpoint' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]{1,40}$/)
  targetType?: string;

  @ApiPropertyOptional({ description: 'e.g. user.created, credentials.replaced' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_.]{1,60}$/)
  action?: string;

  // Actor ids are user and API key ids, UUIDs; the operator and the system act without one (id null),
  // so there is nothing else to filter on.
  @ApiPropertyOptional({ format: 'uuid', description: 'The user or API key id that made the change' })
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

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class ConfigEventActorView {
  @ApiProperty({ enum: ['user', 'api_key', 'operator', 'system'] })
  kind: string;

  @ApiProperty({ nullable: true, type: String })
  id: string | null;
}

export class ConfigEventView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) orgId: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: ConfigEventActorView }) actor: ConfigEventActorView;
  @ApiProperty({ example: 'credentials.replaced' }) action: string;
  @ApiProperty({ example: 'credentials' }) targetType: string;
  @ApiProperty({ nullable: true, type: String }) targetId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'What changed; never a secret value' }) details: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
}

export class ConfigEventPageView {
  @ApiProperty({ type: ConfigEventView, isArray: true, description: 'Newest first' })
  items: ConfigEventView[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor: string | null;
}
