import { MintRequestBody } from '../registry/mint-request-body';
import { AGORA_CHANNEL_MAX_LENGTH, AGORA_NAME, AGORA_NAME_RULE } from './agora-names';
import type { AgoraRtcRole } from './agora-token';

/** `ttlSeconds` when the request names none. */
export const AGORA_DEFAULT_TTL_SECONDS = 3600;

/**
 * `POST /api/tokens/agora` without its `userId`: RTC for a channel (`roleAsked` tells an explicit
 * `role` from the default, for the org's policy), or RTM, which names no channel (one sent is ignored).
 */
export type AgoraMintRequest = { service: 'rtc'; channel: string; role: AgoraRtcRole; roleAsked: boolean; ttlSeconds: number } | { service: 'rtm'; ttlSeconds: number };

const FIELDS = ['channel', 'role', 'ttlSeconds', 'service'] as const;

export function parseAgoraMintRequest(body: Record<string, unknown>): AgoraMintRequest {
  const reader = new MintRequestBody(body, 'agora', FIELDS);
  const service = reader.string('service', { min: 1, max: 16, pattern: /^(rtc|rtm)$/, patternMessage: 'must be "rtc" or "rtm"', optional: true }) ?? 'rtc';
  const role = reader.string('role', { min: 1, max: 16, pattern: /^(publisher|subscriber)$/, patternMessage: 'must be "publisher" or "subscriber"', optional: true }) as
    AgoraRtcRole | undefined;
  const ttlSeconds = reader.ttlSeconds(AGORA_DEFAULT_TTL_SECONDS);
  if (service === 'rtm') return reader.done({ service: 'rtm', ttlSeconds });
  const channel = reader.string('channel', { min: 1, max: AGORA_CHANNEL_MAX_LENGTH, pattern: AGORA_NAME, patternMessage: `must use only ${AGORA_NAME_RULE}` });
  return reader.done({ service: 'rtc', channel: channel ?? '', role: role ?? 'publisher', roleAsked: role !== undefined, ttlSeconds });
}
