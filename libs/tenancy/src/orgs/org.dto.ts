import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, IsString, IsUUID, Length, Max, Min, ValidateNested } from 'class-validator';
import { IsOmittable } from '@mintline/common/errors/is-omittable';

export class CreateOrgDto {
  @ApiProperty({ example: 'Acme Contact Centre', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Makes the new org a child of this org' })
  @IsOptional()
  @IsUUID()
  parentOrgId?: string;
}

export class OrgFeaturesDto {
  @ApiPropertyOptional({ description: 'WebRTC endpoints and call tokens' })
  @IsOmittable()
  @IsBoolean()
  webrtc?: boolean;
}

export class OrgLimitsDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1_000_000, description: 'Mints of every provider per minute' })
  @IsOmittable()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  mintsPerMinute?: number;
}

export class UpdateOrgDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ type: OrgFeaturesDto })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => OrgFeaturesDto)
  features?: OrgFeaturesDto;

  @ApiPropertyOptional({ type: OrgLimitsDto })
  @IsOmittable()
  @IsObject()
  @ValidateNested()
  @Type(() => OrgLimitsDto)
  limits?: OrgLimitsDto;
}

export class OrgFeaturesView {
  @ApiProperty()
  webrtc: boolean;
}

export class OrgLimitsView {
  @ApiProperty()
  mintsPerMinute: number;
}

export class OrgView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  parentOrgId: string | null;

  @ApiProperty({ type: OrgFeaturesView })
  features: OrgFeaturesView;

  @ApiProperty({ type: OrgLimitsView })
  limits: OrgLimitsView;
}
