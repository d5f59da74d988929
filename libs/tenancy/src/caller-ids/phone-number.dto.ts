import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsE164 } from './e164';

export class CreatePhoneNumberDto {
  @ApiProperty({ enum: ['sinch', 'twilio'] })
  @IsIn(['sinch', 'twilio'])
  provider: 'sinch' | 'twilio';

  @ApiProperty({ example: '+14165550100', maxLength: 20, description: 'E.164' })
  @IsString()
  @MaxLength(20)
  @IsE164()
  phoneNumber: string;

  @ApiPropertyOptional({
    description:
      "true: make this the user's default caller ID for the provider (clears the previous default). " +
      "false: never the default. Omitted: the default only when it is the user's first number for the provider.",
  })
  @IsOptional()
  @IsBoolean()
  isDefault?: boolean;

  @ApiPropertyOptional({ maxLength: 100 })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  label?: string;
}

export class PhoneNumberView {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ enum: ['sinch', 'twilio'] })
  provider: string;

  @ApiProperty({ example: '+14165550100', maxLength: 16, pattern: '^\\+[1-9][0-9]{1,14}$' })
  phoneNumber: string;

  @ApiProperty()
  isDefault: boolean;

  @ApiProperty({ nullable: true, type: String, maxLength: 100 })
  label: string | null;
}
