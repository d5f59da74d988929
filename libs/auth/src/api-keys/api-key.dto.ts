import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsDateString, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Max, Min } from 'class-validator';
import { SCOPES, Scope } from '@mintline/access/scopes';
import { IsOmittable } from '@mintline/common/errors/is-omittable';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'billing backend', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, minItems: 1, maxItems: SCOPES.length, uniqueItems: true, description: 'A subset of your own scopes' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true })
  scopes: Scope[];

  @ApiPropertyOptional({ format: 'uuid', description: 'A direct child org of yours; the key then acts in that org' })
  @IsOptional()
  @IsUUID()
  subOrgId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'After this instant the key is refused (401)' })
  @IsOptional()
  @IsDateString({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100_000_000, description: 'Requests per UTC day; past it 429' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  maxRequestsPerDay?: number;
}

export class UpdateApiKeyDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ enum: SCOPES, isArray: true, minItems: 1, maxItems: SCOPES.length, uniqueItems: true, description: 'May only narrow the current scopes' })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(SCOPES.length)
  @ArrayUnique()
  @IsIn(SCOPES, { each: true })
  scopes?: Scope[];
}

export class ApiKeyView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, maxItems: SCOPES.length })
  scopes: Scope[];

  @ApiProperty({ format: 'uuid', description: 'The org the key acts in' })
  orgId: string;

  @ApiProperty({ maxLength: 12, description: 'The first characters of the token, to recognise it' })
  prefix: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  lastUsedAt: string | null;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  expiresAt: string | null;

  @ApiProperty({ nullable: true, type: Number })
  maxRequestsPerDay: number | null;
}

export class CreatedApiKeyView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ enum: SCOPES, isArray: true, maxItems: SCOPES.length })
  scopes: Scope[];

  @ApiProperty({ format: 'uuid' })
  orgId: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  expiresAt: string | null;

  @ApiProperty({ nullable: true, type: Number })
  maxRequestsPerDay: number | null;

  @ApiProperty({
    maxLength: 47,
    pattern: '^mlk_[A-Za-z0-9_-]+$',
    description: 'The key itself. Shown only in this answer; store it now.',
    example: 'mlk_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXh',
  })
  token: string;
}
