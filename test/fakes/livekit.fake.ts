import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { bearerToken, FakeReply, FakeRequestContext, FakeServer, startFakeHttpServer } from './fake-http-server';

/**
 * Plays a LiveKit server's Twirp API (RoomService) by LiveKit's documentation: every call is
 * `POST /twirp/livekit.RoomService/<Method>` with a JSON body and `Authorization: Bearer <access token>`,
 * an HS256 JWT signed with the API secret whose `iss` is the API key; `ListRooms` needs the
 * `video.roomList` grant. Errors are Twirp's JSON `{code, msg}`: 401 `unauthenticated` (no, bad or
 * expired token), 403 `permission_denied` (a valid token without the grant), 404 `bad_route`.
 * `ListRooms` answers `{"rooms": [...]}`.
 */
export interface LiveKitFake extends FakeServer {
  /** The https-style URL (http on loopback) of the fake; `wsUrl` is the same server as ws://. */
  url: string;
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
  /** The claims of every token the fake accepted or refused, in order. */
  readonly tokens: Array<Record<string, unknown> | null>;
}

const ROOM_SERVICE = '/twirp/livekit.RoomService/';

export async function startLiveKitFake(options: { apiKey?: string; apiSecret?: string } = {}): Promise<LiveKitFake> {
  const apiKey = options.apiKey ?? `API${randomBytes(6).toString('hex')}`;
  const apiSecret = options.apiSecret ?? randomBytes(24).toString('base64url');
  const tokens: Array<Record<string, unknown> | null> = [];

  const twirpError = (status: number, code: string, msg: string): FakeReply => ({ status, body: { code, msg } });

  const server = await startFakeHttpServer({
    failureReply: (mode) =>
      mode === 'server-error'
        ? twirpError(500, 'internal', 'internal error')
        : mode === 'forbidden'
          ? twirpError(403, 'permission_denied', 'permissions denied')
          : twirpError(401, 'unauthenticated', 'invalid token'),
    handle: (context) => handle(context),
  });

  function handle({ req, url, rawBody, record }: FakeRequestContext): FakeReply {
    if (req.method !== 'POST' || !url.pathname.startsWith(ROOM_SERVICE)) return twirpError(404, 'bad_route', 'no handler for path');
    const token = bearerToken(req.headers.authorization);
    let claims: Record<string, unknown> | null = null;
    try {
      claims = token ? (jwt.verify(token, apiSecret, { algorithms: ['HS256'], issuer: apiKey }) as Record<string, unknown>) : null;
    } catch {
      claims = null;
    }
    tokens.push(claims ?? (token ? (jwt.decode(token) as Record<string, unknown> | null) : null));
    record.authorized = claims !== null;
    if (!claims) return twirpError(401, 'unauthenticated', 'invalid token');
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return twirpError(400, 'malformed', 'unexpected content type');
    try {
      record.body = JSON.parse(rawBody || '{}') as unknown;
    } catch {
      return twirpError(400, 'malformed', 'the body is not JSON');
    }
    const method = url.pathname.slice(ROOM_SERVICE.length);
    if (method !== 'ListRooms') return twirpError(404, 'bad_route', 'no handler for path');
    const video = claims.video as Record<string, unknown> | undefined;
    if (video?.roomList !== true) return twirpError(403, 'permission_denied', 'permissions denied');
    return { status: 200, body: { rooms: [] } };
  }

  return Object.assign(server, { wsUrl: server.url.replace(/^http:/, 'ws:'), apiKey, apiSecret, tokens });
}
