import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDateString, IsIn, IsOptional, IsUUID } from 'class-validator';
import { PageQuery } from '../paging/page-query.dto';

export const MINT_PROVIDERS = ['sinch', 'twilio', 'signalwire-chat', 'call-token', 'sinch-oauth', 'livekit', 'agora', 'vonage', 'telnyx'] as const;
export const MINT_OUTCOMES = ['issued', 'denied', 'failed'] as const;
export const MINT_ACTIONS = ['mint', 'redeem', 'revoke'] as const;

export class MintAuditFilterDto {
  @ApiPropertyOptional({ enum: MINT_PROVIDERS })
  @IsOptional()
  @IsIn(MINT_PROVIDERS)
  provider?: string;

  @ApiPropertyOptional({ enum: MINT_OUTCOMES })
  @IsOptional()
  @IsIn(MINT_OUTCOMES)
  outcome?: string;

  @ApiPropertyOptional({ enum: MINT_ACTIONS, description: 'mint, or for call tokens also redeem and revoke' })
  @IsOptional()
  @IsIn(MINT_ACTIONS)
  action?: string;

  // Actor ids are user and API key ids, UUIDs; the operator and the system act without one (id null),
  // so there is nothing else to filter on.
  @ApiPropertyOptional({ format: 'uuid', maxLength: 36, description: 'The user or API key id that asked for the token' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'The user the token was minted for' })
  @IsOptional()
  @IsUUID()
  subjectUserId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this instant' })
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this instant' })
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;
}

export class MintAuditQueryDto extends PageQuery(MintAuditFilterDto) {}

export class MintAuditExportQueryDto extends MintAuditFilterDto {
  @ApiProperty({ enum: ['ndjson', 'csv'] })
  @IsIn(['ndjson', 'csv'])
  format: 'ndjson' | 'csv';

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description:
      'NDJSON only: interleave signed checkpoint lines ({"type":"checkpoint",...}) after the entry each covers; entry lines then carry "type":"entry", seq, prevHash and hash. ' +
      'The export is then a contiguous stretch of the chain, so only from and to may narrow it. Verify it offline with `npm run cli -- audit:verify-export FILE --public-keys FILE`.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'checkpoints must be true or false' })
  checkpoints?: boolean;
}

export class ChainVerificationView {
  @ApiProperty({ description: "Whether the org's whole chain verifies, its checkpoints included" }) ok: boolean;
  @ApiProperty({ description: 'Entries whose hash was recomputed and found in place' }) checked: number;
  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: String,
    description: 'The first entry that does not follow from the one before it, or whose checkpoint does not hold (null when the break is at the end of the chain)',
  })
  firstBrokenId: string | null;
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description: 'Checkpoints whose Ed25519 signature (by a configured key) and position in the chain were checked and found right',
  })
  checkpoints: number;
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
    nullable: true,
    description: 'The seq of the newest entry a valid checkpoint vouches for; null when none does yet',
  })
  signedThroughSeq: number | null;
  @ApiProperty({
    type: 'integer',
    format: 'int64',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    description:
      'Entries after the newest valid checkpoint: their hashes link up but no signature covers them yet, so an entry forged there with database access is not told apart',
  })
  unsignedTail: number;
  @ApiProperty({ maxLength: 4096, description: 'What was found, in words' }) detail: string;
}

export class AuditPublicKeyView {
  @ApiProperty({ maxLength: 64, description: 'The key id checkpoints name' }) keyId: string;
  @ApiProperty({ enum: ['Ed25519'] }) algorithm: 'Ed25519';
  @ApiProperty({ format: 'byte', maxLength: 128, description: 'The public key, SPKI DER in standard base64' }) publicKey: string;
}

export class AuditActorView {
  @ApiProperty({ enum: ['user', 'api_key', 'system'] })
  kind: string;

  @ApiProperty({ nullable: true, type: String, maxLength: 64 })
  id: string | null;
}

export class MintAuditEntryView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) orgId: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ enum: MINT_PROVIDERS }) provider: string;
  @ApiProperty({ enum: MINT_ACTIONS, description: 'mint; for call tokens also redeem and revoke' }) action: string;
  @ApiProperty({ type: AuditActorView }) actor: AuditActorView;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) subjectUserId: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 4096, description: 'What the token is for, e.g. sinch:<applicationKey>' }) target: string | null;
  @ApiProperty({ enum: MINT_OUTCOMES }) outcome: string;
  @ApiProperty({ nullable: true, type: String, maxLength: 64, description: 'The error code of a denied or failed attempt' }) code: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 16, pattern: '^[0-9a-f]{16}$', description: 'First 16 hex characters of SHA-256 of the token' }) tokenFingerprint:
    string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) expiresAt: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 45 }) ip: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 512, description: 'Its first 512 characters' }) userAgent: string | null;
  @ApiProperty({ nullable: true, type: String, maxLength: 128 }) requestId: string | null;
}

export class MintAuditPageView {
  @ApiProperty({ type: MintAuditEntryView, isArray: true, maxItems: 500, description: 'Newest first, at most limit' })
  items: MintAuditEntryView[];

  @ApiProperty({ nullable: true, type: String, maxLength: 512, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor: string | null;
}
