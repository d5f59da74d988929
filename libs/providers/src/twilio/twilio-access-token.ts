import { signHs256Jwt } from '../jwt/compact-jwt';

/** The grants a Twilio AccessToken may carry here, each as Twilio's helper libraries write it. */
export interface TwilioGrants {
  /** Voice: incoming calls allowed; outgoing calls through the TwiML app, unless left out (no publish rights). */
  voice?: { outgoingApplicationSid?: string };
  /** Video: the room the token is confined to, or any room. */
  video?: { room?: string };
  /** Conversations (the `chat` grant): the Conversations service. */
  chat?: { serviceSid: string };
  /** Sync (the `data_sync` grant): the Sync service. */
  dataSync?: { serviceSid: string };
}

export interface TwilioAccessTokenInput {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  identity: string;
  /** Seconds since the epoch; `exp` is `iat + ttlSeconds`. */
  issuedAt: number;
  ttlSeconds: number;
  grants: TwilioGrants;
}

/**
 * A Twilio AccessToken exactly as the `twilio` package's `jwt.AccessToken` builds it (header
 * `{alg, typ, cty: "twilio-fpa;v=1"}`, claims `jti, grants, iat, exp, iss, sub`, the grants in the order
 * voice, video, chat, data_sync after `identity`), HS256 with the API key secret.
 */
export function buildTwilioAccessToken(input: TwilioAccessTokenInput): string {
  for (const [name, value] of Object.entries({ accountSid: input.accountSid, apiKeySid: input.apiKeySid, apiKeySecret: input.apiKeySecret, identity: input.identity })) {
    if (typeof value !== 'string' || value.length === 0) throw new Error(`A Twilio AccessToken needs ${name}`);
  }
  const grants: Record<string, unknown> = { identity: input.identity };
  if (input.grants.voice) {
    grants.voice = {
      incoming: { allow: true },
      ...(input.grants.voice.outgoingApplicationSid ? { outgoing: { application_sid: input.grants.voice.outgoingApplicationSid } } : {}),
    };
  }
  if (input.grants.video) grants.video = input.grants.video.room ? { room: input.grants.video.room } : {};
  if (input.grants.chat) grants.chat = { service_sid: input.grants.chat.serviceSid };
  if (input.grants.dataSync) grants.data_sync = { service_sid: input.grants.dataSync.serviceSid };

  const claims = {
    jti: `${input.apiKeySid}-${input.issuedAt}`,
    grants,
    iat: input.issuedAt,
    exp: input.issuedAt + input.ttlSeconds,
    iss: input.apiKeySid,
    sub: input.accountSid,
  };
  return signHs256Jwt({ typ: 'JWT', cty: 'twilio-fpa;v=1' }, claims, input.apiKeySecret);
}
