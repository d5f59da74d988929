import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { ROLES, Role } from '@mintline/access/scopes';
import { IsOmittable } from '@mintline/common/errors/is-omittable';

const lowerTrim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class CreateUserDto {
  @ApiProperty({ example: 'agent@example.com', maxLength: 254 })
  @Transform(lowerTrim)
  @IsString()
  @MaxLength(254)
  @IsEmail()
  email: string;

  @ApiProperty({ minLength: 12, maxLength: 512, writeOnly: true })
  @IsString()
  @Length(12, 512)
  password: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role: Role;

  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;
}

export class UpdateUserDto {
  @ApiPropertyOptional({ maxLength: 200, nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ enum: ROLES })
  @IsOmittable()
  @IsIn(ROLES)
  role?: Role;

  @ApiPropertyOptional({ minLength: 12, maxLength: 512, writeOnly: true })
  @IsOmittable()
  @IsString()
  @Length(12, 512)
  password?: string;

  @ApiPropertyOptional({ description: 'A disabled user cannot log in and their live tokens are refused' })
  @IsOmittable()
  @IsBoolean()
  disabled?: boolean;
}

export class UserView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'email', maxLength: 254 })
  email: string;

  @ApiProperty({ nullable: true, type: String, maxLength: 200 })
  name: string | null;

  @ApiProperty({ enum: ROLES })
  role: Role;

  @ApiProperty({ format: 'uuid' })
  orgId: string;

  @ApiProperty()
  disabled: boolean;
}
