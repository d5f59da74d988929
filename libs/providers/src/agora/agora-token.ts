import {
  AGORA_RTC_JOIN_CHANNEL,
  AGORA_RTC_PUBLISH_AUDIO,
  AGORA_RTC_PUBLISH_DATA,
  AGORA_RTC_PUBLISH_VIDEO,
  AGORA_RTC_SERVICE,
  AGORA_RTM_LOGIN,
  AGORA_RTM_SERVICE,
  AgoraService,
  buildAgoraAccessToken,
} from './agora-access-token';

export interface AgoraCredentials {
  /** 32 hexadecimal characters. */
  appId: string;
  /** 32 hexadecimal characters; signs every token. */
  appCertificate: string;
}

export type AgoraRtcRole = 'publisher' | 'subscriber';

/** RTC for a channel as a user account, or RTM (Signaling) login as a user id. */
export type AgoraTokenRequest = { service: 'rtc'; channel: string; account: string; role: AgoraRtcRole } | { service: 'rtm'; userId: string };

export interface AgoraTokenInput {
  credentials: AgoraCredentials;
  request: AgoraTokenRequest;
  issuedAt: Date;
  ttlSeconds: number;
  /** 1..99,999,999, random per token. */
  salt: number;
}

/**
 * The token Agora's RtcTokenBuilder2.buildTokenWithUserAccount (publisher: join and publish audio,
 * video and data; subscriber: join only) or RtmTokenBuilder2.buildToken (login) would build, with
 * the token and its privileges both lasting ttlSeconds.
 */
export function createAgoraToken(input: AgoraTokenInput): string {
  const { credentials, request, issuedAt, ttlSeconds, salt } = input;
  const issuedMs = issuedAt.getTime();
  if (!Number.isFinite(issuedMs)) throw new Error('issuedAt must be a valid date');
  return buildAgoraAccessToken({
    appId: credentials.appId,
    appCertificate: credentials.appCertificate,
    issueTs: Math.floor(issuedMs / 1000),
    expireSeconds: ttlSeconds,
    salt,
    services: [agoraService(request, ttlSeconds)],
  });
}

function agoraService(request: AgoraTokenRequest, ttlSeconds: number): AgoraService {
  if (request.service === 'rtm') {
    return { type: AGORA_RTM_SERVICE, privileges: new Map([[AGORA_RTM_LOGIN, ttlSeconds]]), userId: request.userId };
  }
  const privileges =
    request.role === 'publisher' ? [AGORA_RTC_JOIN_CHANNEL, AGORA_RTC_PUBLISH_AUDIO, AGORA_RTC_PUBLISH_VIDEO, AGORA_RTC_PUBLISH_DATA] : [AGORA_RTC_JOIN_CHANNEL];
  return {
    type: AGORA_RTC_SERVICE,
    privileges: new Map(privileges.map((privilege) => [privilege, ttlSeconds])),
    channel: request.channel,
    account: request.account,
  };
}
