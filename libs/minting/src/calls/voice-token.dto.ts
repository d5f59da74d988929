import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

export class MintForUserQuery {
  @ApiPropertyOptional({ format: 'uuid', maxLength: 64, description: 'With an API key: the user of your org to mint for. Users mint for themselves.' })
  // Its UUID form is checked inside the mint pipeline, so that a malformed id is audited as a denied mint.
  @IsOptional()
  @IsString()
  @MaxLength(64)
  userId?: string;
}

export class TwilioTokenView {
  @ApiProperty({ maxLength: 8192, description: 'Twilio Voice AccessToken (HS256 with the API key secret; 1-hour expiry unless the org token policy shortens it)' })
  token: string;

  @ApiProperty({ maxLength: 36, pattern: '^[A-Za-z0-9_]+$', description: 'The Twilio client identity: the user id with only [A-Za-z0-9_]' })
  identity: string;

  @ApiProperty({ format: 'uuid' })
  userId: string;

  @ApiProperty({ maxLength: 16, description: "The user's default twilio caller ID (E.164), or an empty string" })
  callerIdentifier: string;

  @ApiProperty({ example: 3600, description: "Seconds until the token expires: 3600, or the org token policy's maxTtlSeconds when lower" })
  expiresIn: number;
}

export class SinchTokenView {
  @ApiProperty({ maxLength: 8192, description: 'Sinch RTC registration JWT (HS256, kid hkdfv1-YYYYMMDD, 10-minute expiry)' })
  token: string;

  @ApiProperty({ maxLength: 2048 })
  applicationKey: string;

  @ApiProperty({ format: 'uuid' })
  userId: string;

  @ApiProperty({ maxLength: 16, description: "The user's default sinch caller ID (E.164), or an empty string", example: '+14165550100' })
  callerIdentifier: string;

  @ApiProperty({ example: 600 })
  expiresIn: number;
}
