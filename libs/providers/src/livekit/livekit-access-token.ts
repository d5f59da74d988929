import { signHs256Jwt } from '../jwt/compact-jwt';

/** The room-join grant of a participant token; never an admin grant (roomCreate, roomAdmin, roomList, roomRecord, ingressAdmin, hidden, recorder). */
export interface LiveKitJoinGrant {
  room: string;
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
}

export interface LiveKitAccessTokenInput {
  apiKey: string;
  apiSecret: string;
  /** The participant identity (`sub`). */
  identity: string;
  /** The participant's display name; left out of the token when null. */
  name: string | null;
  /** Seconds since the epoch: `nbf`, and `exp = nbf + ttlSeconds`. */
  notBefore: number;
  ttlSeconds: number;
  grant: LiveKitJoinGrant;
}

/**
 * A LiveKit access token as `livekit-server-sdk`'s AccessToken writes one (claims `video`, `name`, then
 * `iss` = API key, `exp`, `nbf`, `sub` = identity; HS256 with the API secret). The video grant is built
 * field by field from a join grant, so nothing but `roomJoin` and the room's four rights can enter it.
 */
export function buildLiveKitAccessToken(input: LiveKitAccessTokenInput): string {
  if (input.identity.length === 0) throw new Error('A LiveKit join token needs an identity');
  const video = {
    roomJoin: true,
    room: input.grant.room,
    canPublish: input.grant.canPublish,
    canSubscribe: input.grant.canSubscribe,
    canPublishData: input.grant.canPublishData,
  };
  const claims = {
    video,
    ...(input.name !== null ? { name: input.name } : {}),
    iss: input.apiKey,
    exp: input.notBefore + input.ttlSeconds,
    nbf: input.notBefore,
    sub: input.identity,
  };
  return signHs256Jwt({ typ: 'JWT' }, claims, input.apiSecret);
}

/**
 * A short token for the server API's room listing (`video: {roomList: true}`), which is what
 * `RoomService/ListRooms` asks for: used only by the credentials check, never handed to anyone.
 */
export function buildLiveKitRoomListToken(input: { apiKey: string; apiSecret: string; notBefore: number; ttlSeconds: number }): string {
  const claims = { video: { roomList: true }, iss: input.apiKey, exp: input.notBefore + input.ttlSeconds, nbf: input.notBefore };
  return signHs256Jwt({ typ: 'JWT' }, claims, input.apiSecret);
}

/** The server's HTTP(S) address for its Twirp API: the stored URL may be the wss:// one clients connect to. */
export function liveKitApiOrigin(url: string): string {
  const parsed = new URL(url);
  const scheme = parsed.protocol === 'wss:' ? 'https:' : parsed.protocol === 'ws:' ? 'http:' : parsed.protocol;
  return `${scheme}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`;
}
