import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { ROLES, SCOPES } from '@mintline/access/scopes';

export class LoginDto {
  @ApiProperty({ example: 'admin@example.com', minLength: 1, maxLength: 254 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsString()
  @Length(1, 254)
  email: string;

  @ApiProperty({ writeOnly: true, minLength: 1, maxLength: 512 })
  @IsString()
  @Length(1, 512)
  password: string;
}

export class LoginView {
  @ApiProperty({ maxLength: 4096, description: 'A JWT for Authorization: Bearer' })
  accessToken: string;

  @ApiProperty({ enum: ['Bearer'] })
  tokenType: 'Bearer';

  @ApiProperty({ example: 900 })
  expiresIn: number;
}

export class PrincipalView {
  @ApiProperty({ enum: ['user', 'api_key', 'operator'] })
  kind: string;

  @ApiProperty({ format: 'uuid', nullable: true, type: String })
  orgId: string | null;

  @ApiPropertyOptional({ format: 'uuid' })
  userId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  apiKeyId?: string;

  @ApiPropertyOptional({ enum: ROLES })
  role?: string;

  @ApiProperty({ enum: SCOPES, isArray: true, maxItems: SCOPES.length })
  scopes: string[];
}
