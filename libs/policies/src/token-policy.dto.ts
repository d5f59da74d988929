import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { ROLES, Role } from '@mintline/access/scopes';
import { POLICY_PROVIDERS } from './policy-providers';

export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 86_400;
export const MAX_ROOM_PATTERNS = 100;
export const MAX_ROOM_PATTERN_LENGTH = 256;

const ROOMS_DESCRIPTION =
  'The room, channel or video-room names a token may name: one of these patterns must match the whole name. `*` is any run of characters, ' +
  "`?` one character, `{userId}` the subject user's id; every other character is itself. A token that names no room is refused.";

/** `PUT /api/policies/{provider}`: the whole policy (an omitted or null rule is no rule). */
export class PutPolicyDto {
  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    nullable: true,
    minimum: MIN_TTL_SECONDS,
    maximum: MAX_TTL_SECONDS,
    description: 'Longest token lifetime: a longer one asked for is shortened to it; a provider whose fixed lifetime is longer is refused',
    example: 900,
  })
  @IsOptional()
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(MIN_TTL_SECONDS, { message: `must be at least ${MIN_TTL_SECONDS}` })
  @Max(MAX_TTL_SECONDS, { message: `must be at most ${MAX_TTL_SECONDS}` })
  maxTtlSeconds?: number | null;

  @ApiPropertyOptional({
    type: 'array',
    nullable: true,
    items: { type: 'string', enum: [...ROLES] },
    minItems: 1,
    maxItems: ROLES.length,
    uniqueItems: true,
    description: "The subject user's role must be one of these",
    example: ['agent'],
  })
  @IsOptional()
  @IsArray({ message: 'must be an array of roles' })
  @ArrayMinSize(1, { message: 'must name at least one role (delete the policy, or omit roles, for no rule)' })
  @ArrayUnique(undefined, { message: 'must not name a role twice' })
  @IsIn(ROLES, { each: true, message: `each must be one of ${ROLES.join(', ')}` })
  roles?: Role[] | null;

  @ApiPropertyOptional({
    type: 'array',
    nullable: true,
    items: { type: 'string', minLength: 1, maxLength: MAX_ROOM_PATTERN_LENGTH },
    minItems: 1,
    maxItems: MAX_ROOM_PATTERNS,
    description: ROOMS_DESCRIPTION,
    example: ['agent-{userId}-*'],
  })
  @IsOptional()
  @IsArray({ message: 'must be an array of patterns' })
  @ArrayMinSize(1, { message: 'must hold at least one pattern' })
  @ArrayMaxSize(MAX_ROOM_PATTERNS, { message: `must hold at most ${MAX_ROOM_PATTERNS} patterns` })
  @IsString({ each: true, message: 'each pattern must be a string' })
  @Length(1, MAX_ROOM_PATTERN_LENGTH, { each: true, message: `each pattern must be 1 to ${MAX_ROOM_PATTERN_LENGTH} characters` })
  rooms?: string[] | null;

  @ApiPropertyOptional({
    type: 'boolean',
    nullable: true,
    description: 'false: no publish rights (LiveKit canPublish/canPublishData false, Agora subscriber, Twilio voice without outgoing); asking for them is refused',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be a boolean' })
  publish?: boolean | null;
}

export class PolicyActorView {
  @ApiProperty({ enum: ['user', 'api_key'] })
  kind: string;

  @ApiProperty({ nullable: true, type: String, maxLength: 64, description: 'The user or API key id' })
  id: string | null;
}

export class PolicyView {
  @ApiProperty({ enum: POLICY_PROVIDERS })
  provider: string;

  @ApiProperty({ type: 'integer', format: 'int32', nullable: true, minimum: MIN_TTL_SECONDS, maximum: MAX_TTL_SECONDS, description: 'null: no cap' })
  maxTtlSeconds: number | null;

  @ApiProperty({ type: 'array', nullable: true, items: { type: 'string', enum: [...ROLES] }, maxItems: ROLES.length, description: 'null: any role' })
  roles: Role[] | null;

  @ApiProperty({
    type: 'array',
    nullable: true,
    items: { type: 'string', minLength: 1, maxLength: MAX_ROOM_PATTERN_LENGTH },
    maxItems: MAX_ROOM_PATTERNS,
    description: 'null: any room, or none',
  })
  rooms: string[] | null;

  @ApiProperty({ type: 'boolean', nullable: true, description: 'false: no publish rights; null or true: as asked' })
  publish: boolean | null;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ type: PolicyActorView })
  updatedBy: PolicyActorView;
}

export class PolicyListView {
  @ApiProperty({ type: PolicyView, isArray: true, maxItems: POLICY_PROVIDERS.length, description: "The org's policies, by provider" })
  items: PolicyView[];
}

/** `GET /api/policies/{provider}/evaluate`: what a mint would be judged on. */
export class EvaluatePolicyQuery {
  @ApiPropertyOptional({ format: 'uuid', maxLength: 64, description: 'The user the token would be for; default: yourself (an API key must name one)' })
  @IsOptional()
  @IsUUID(undefined, { message: 'must be a UUID' })
  userId?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_ROOM_PATTERN_LENGTH, description: 'The room, channel or video room; absent: the token would name none' })
  @IsOptional()
  @IsString()
  @Length(1, MAX_ROOM_PATTERN_LENGTH, { message: `must be 1 to ${MAX_ROOM_PATTERN_LENGTH} characters` })
  room?: string;

  @ApiPropertyOptional({
    type: 'integer',
    format: 'int32',
    minimum: MIN_TTL_SECONDS,
    maximum: MAX_TTL_SECONDS,
    description: "The lifetime asked for; default: the provider's own. Ignored for a provider whose lifetime is fixed (sinch 600, telnyx 86400)",
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer number of seconds' })
  @Min(MIN_TTL_SECONDS, { message: `must be at least ${MIN_TTL_SECONDS}` })
  @Max(MAX_TTL_SECONDS, { message: `must be at most ${MAX_TTL_SECONDS}` })
  ttlSeconds?: number;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: "true: publish rights asked for explicitly; false: none asked; absent: the provider's default publish rights",
  })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'must be true or false' })
  @MaxLength(5)
  publish?: 'true' | 'false';
}

export class PolicyReasonView {
  @ApiProperty({ enum: ['roles', 'rooms', 'publish', 'maxTtlSeconds'], description: 'The rule' })
  field: string;

  @ApiProperty({
    enum: ['denied', 'shortened', 'withheld'],
    description: 'denied: the mint is refused; shortened: its lifetime is capped; withheld: its publish rights are taken',
  })
  effect: string;

  @ApiProperty({ maxLength: 1024 })
  message: string;
}

export class PolicyEvaluationView {
  @ApiProperty({ description: 'Whether the mint would be allowed' })
  allowed: boolean;

  @ApiProperty({ type: 'integer', format: 'int32', nullable: true, minimum: 1, maximum: MAX_TTL_SECONDS, description: 'The lifetime the token would get; null when refused' })
  effectiveTtlSeconds: number | null;

  @ApiProperty({ type: PolicyReasonView, isArray: true, maxItems: 4, description: 'Every rule that would refuse or change the mint; empty when it would be minted as asked' })
  reasons: PolicyReasonView[];
}
