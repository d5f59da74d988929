import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { isInt, IsInt, IsOptional, isString, IsString, isUUID, IsUUID, max, Max, maxLength, MaxLength, min, Min } from 'class-validator';
import { plainBodyWith } from '@mintline/common/errors/validation.pipe';
import { CALL_TOKEN_TTL } from '@mintline/providers/call-token/call-token.provider';

export class CreateCallTokenDto {
  @ApiProperty({ format: 'uuid', description: 'A WebRTC-capable, active endpoint of your org' })
  @IsUUID()
  endpointId: string;

  // The default is stated in words, not as `default`: generated clients type a field with a default as required.
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    minimum: CALL_TOKEN_TTL.min,
    maximum: CALL_TOKEN_TTL.max,
    description: `Seconds; ${CALL_TOKEN_TTL.default} when absent`,
  })
  @IsOptional()
  @IsInt()
  @Min(CALL_TOKEN_TTL.min)
  @Max(CALL_TOKEN_TTL.max)
  ttlSeconds?: number;

  /** The hot path (every mint and redemption): a body the decorators above certainly accept, checked by their own functions (see AcceptsBody). */
  static accepts(body: unknown): CreateCallTokenDto | undefined {
    if (!plainBodyWith(body, ['endpointId', 'ttlSeconds'], ['endpointId']) || !isUUID(body.endpointId)) return undefined;
    const ttl = body.ttlSeconds;
    if (ttl !== undefined && !(isInt(ttl) && min(ttl, CALL_TOKEN_TTL.min) && max(ttl, CALL_TOKEN_TTL.max))) return undefined;
    return Object.assign(new CreateCallTokenDto(), body);
  }
}

export class RedeemCallTokenDto {
  @ApiProperty({ maxLength: 256, description: 'The call token a backend minted (mct_...)' })
  @IsString()
  @MaxLength(256)
  token: string;

  /** The hot path (every mint and redemption): a body the decorators above certainly accept, checked by their own functions (see AcceptsBody). */
  static accepts(body: unknown): RedeemCallTokenDto | undefined {
    if (!plainBodyWith(body, ['token'], ['token']) || !isString(body.token) || !maxLength(body.token, 256)) return undefined;
    return Object.assign(new RedeemCallTokenDto(), body);
  }
}

export class CreatedCallTokenView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ maxLength: 256, pattern: '^mct_', description: 'Single use; shown only in this answer', example: 'mct_...' }) token: string;
  @ApiProperty({ format: 'uuid' }) endpointId: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}

export class CallTokenMinterView {
  @ApiProperty({ enum: ['user', 'api_key'] }) kind: string;
  @ApiProperty({ maxLength: 64 }) id: string;
}

export class CallTokenView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) endpointId: string;
  @ApiProperty({ enum: ['active', 'redeemed', 'expired', 'revoked'] }) status: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) redeemedAt: string | null;
  @ApiProperty({ type: CallTokenMinterView }) mintedBy: CallTokenMinterView;
}

export class RedeemedCallTokenView {
  @ApiProperty({ format: 'uuid' }) sessionId: string;
  @ApiProperty({ format: 'uuid' }) endpointId: string;
  @ApiProperty({ format: 'uuid' }) orgId: string;
}
