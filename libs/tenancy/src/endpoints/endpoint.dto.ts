import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, Length } from 'class-validator';
import { IsOmittable } from '@mintline/common/errors/is-omittable';

export class CreateEndpointDto {
  @ApiProperty({ example: 'Support line', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name: string;

  @ApiProperty({ description: 'WebRTC-capable: call tokens can be minted for it' })
  @IsBoolean()
  webrtc: boolean;
}

export class UpdateEndpointDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOmittable()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional()
  @IsOmittable()
  @IsBoolean()
  webrtc?: boolean;

  @ApiPropertyOptional({ enum: ['active', 'archived'], description: 'An archived endpoint takes no new call tokens (409)' })
  @IsOmittable()
  @IsIn(['active', 'archived'])
  state?: 'active' | 'archived';
}

export class EndpointView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ maxLength: 200 })
  name: string;

  @ApiProperty()
  webrtc: boolean;

  @ApiProperty({ enum: ['active', 'archived'] })
  state: string;
}
