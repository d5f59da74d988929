import { randomUUID } from 'node:crypto';
import { ApiError, ErrorDetail } from '@mintline/common/errors/api-error';

export interface ChatChannelPermissions {
  read: boolean;
  write: boolean;
}

/** The body of `POST /api/chat/tokens`, validated, with `member_id` filled in. */
export interface ChatTokenRequest {
  /** Minutes, 1–43200. */
  ttl: number;
  channels: Record<string, ChatChannelPermissions>;
  member_id: string;
  state?: Record<string, unknown>;
}

export const CHAT_TOKEN_LIMITS = {
  ttlMin: 1,
  ttlMax: 43_200,
  channelsMin: 1,
  channelsMax: 500,
  channelNameMax: 250,
  reservedChannelPrefix: 'sw_',
  memberIdMax: 250,
  stateJsonMax: 2000,
} as const;

const TOP_LEVEL_FIELDS = new Set(['ttl', 'channels', 'member_id', 'state']);
const CHANNEL_FIELDS = new Set(['read', 'write']);

/**
 * Checks a chat token body against SignalWire's documented rules before any call is made, reporting
 * every violation at once. Lengths count characters (code points), as SignalWire does.
 */
export function parseChatTokenRequest(body: unknown, newMemberId: () => string = randomUUID): ChatTokenRequest {
  const details: ErrorDetail[] = [];
  if (!isPlainObject(body)) {
    throw invalid([{ field: 'body', message: 'must be a JSON object' }]);
  }

  for (const field of Object.keys(body)) {
    if (!TOP_LEVEL_FIELDS.has(field)) details.push({ field, message: 'is not an allowed field' });
  }

  const ttl = body.ttl;
  if (ttl === undefined) {
    details.push({ field: 'ttl', message: 'is required' });
  } else if (typeof ttl !== 'number' || !Number.isInteger(ttl)) {
    details.push({ field: 'ttl', message: 'must be an integer number of minutes' });
  } else if (ttl < CHAT_TOKEN_LIMITS.ttlMin || ttl > CHAT_TOKEN_LIMITS.ttlMax) {
    details.push({ field: 'ttl', message: `must be between ${CHAT_TOKEN_LIMITS.ttlMin} and ${CHAT_TOKEN_LIMITS.ttlMax} minutes` });
  }

  const channels: Record<string, ChatChannelPermissions> = {};
  if (body.channels === undefined) {
    details.push({ field: 'channels', message: 'is required' });
  } else if (!isPlainObject(body.channels)) {
    details.push({ field: 'channels', message: 'must be an object of channel names to {read, write}' });
  } else {
    const entries = Object.entries(body.channels);
    if (entries.length < CHAT_TOKEN_LIMITS.channelsMin || entries.length > CHAT_TOKEN_LIMITS.channelsMax) {
      details.push({
        field: 'channels',
        message: `must hold between ${CHAT_TOKEN_LIMITS.channelsMin} and ${CHAT_TOKEN_LIMITS.channelsMax} channels`,
      });
    }
    for (const [name, permissions] of entries) {
      const field = `channels.${name}`;
      const length = characterCount(name);
      if (length < 1 || length > CHAT_TOKEN_LIMITS.channelNameMax) {
        details.push({ field, message: `channel name must be 1 to ${CHAT_TOKEN_LIMITS.channelNameMax} characters` });
      }
      if (name.startsWith(CHAT_TOKEN_LIMITS.reservedChannelPrefix)) {
        details.push({ field, message: `channel name must not start with the reserved prefix "${CHAT_TOKEN_LIMITS.reservedChannelPrefix}"` });
      }
      const parsed = parseChannel(permissions, field, details);
      // defineProperty, not assignment: a channel literally named "__proto__" must stay a channel.
      if (parsed) Object.defineProperty(channels, name, { value: parsed, enumerable: true, writable: true, configurable: true });
    }
  }

  let memberId: string | undefined;
  if (body.member_id !== undefined) {
    const length = typeof body.member_id === 'string' ? characterCount(body.member_id) : -1;
    if (typeof body.member_id !== 'string') {
      details.push({ field: 'member_id', message: 'must be a string' });
    } else if (length < 1 || length > CHAT_TOKEN_LIMITS.memberIdMax) {
      details.push({ field: 'member_id', message: `must be 1 to ${CHAT_TOKEN_LIMITS.memberIdMax} characters` });
    } else {
      memberId = body.member_id;
    }
  }

  let state: Record<string, unknown> | undefined;
  if (body.state !== undefined) {
    if (!isPlainObject(body.state)) {
      details.push({ field: 'state', message: 'must be a JSON object' });
    } else if (characterCount(JSON.stringify(body.state)) > CHAT_TOKEN_LIMITS.stateJsonMax) {
      details.push({ field: 'state', message: `must be at most ${CHAT_TOKEN_LIMITS.stateJsonMax} characters as JSON` });
    } else {
      state = body.state;
    }
  }

  if (details.length > 0) throw invalid(details);
  const request: ChatTokenRequest = { ttl: ttl as number, channels, member_id: memberId ?? newMemberId() };
  if (state !== undefined) request.state = state;
  return request;
}

function parseChannel(value: unknown, field: string, details: ErrorDetail[]): ChatChannelPermissions | undefined {
  if (!isPlainObject(value)) {
    details.push({ field, message: 'must be an object {read: boolean, write: boolean}' });
    return undefined;
  }
  const before = details.length;
  for (const key of Object.keys(value)) {
    if (!CHANNEL_FIELDS.has(key)) details.push({ field: `${field}.${key}`, message: 'is not an allowed field' });
  }
  for (const key of ['read', 'write'] as const) {
    if (value[key] === undefined) details.push({ field: `${field}.${key}`, message: 'is required' });
    else if (typeof value[key] !== 'boolean') details.push({ field: `${field}.${key}`, message: 'must be a boolean' });
  }
  return details.length === before ? { read: value.read as boolean, write: value.write as boolean } : undefined;
}

function invalid(details: ErrorDetail[]): ApiError {
  return ApiError.unprocessable('VALIDATION_FAILED', 'The chat token request is invalid', details);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}
