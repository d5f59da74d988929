import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { describeFailure, requestProvider } from '../http/provider-failure';
import { ProviderHttpClient, ProviderHttpResponse } from '../http/provider-http.client';
import type { CredentialCheck, VerifyResult } from '../registry/provider-entry';
import { buildLiveKitRoomListToken, liveKitApiOrigin } from './livekit-access-token';
import type { LiveKitFields } from './livekit.tokens';

const PROVIDER = 'LiveKit';
const LIST_ROOMS_PATH = '/twirp/livekit.RoomService/ListRooms';
/** The check's own token lives just long enough for the one request it authorises. */
const CHECK_TOKEN_TTL_SECONDS = 60;

/**
 * Verifies LiveKit credentials with the server API's `RoomService/ListRooms` (Twirp: POST JSON `{}`,
 * Bearer a token with `video.roomList`), through the one outbound client and its address guard: 200
 * proves the key and secret; 401/403 (Twirp `unauthenticated`/`permission_denied`) refutes them.
 */
@Injectable()
export class LiveKitRoomsCheck implements CredentialCheck<LiveKitFields> {
  constructor(
    private readonly clock: Clock,
    private readonly http: ProviderHttpClient,
  ) {}

  async verify(fields: LiveKitFields): Promise<VerifyResult> {
    let response: ProviderHttpResponse;
    try {
      const token = buildLiveKitRoomListToken({
        apiKey: fields.apiKey,
        apiSecret: fields.apiSecret,
        notBefore: Math.floor(this.clock.now().getTime() / 1000),
        ttlSeconds: CHECK_TOKEN_TTL_SECONDS,
      });
      response = await requestProvider(this.http, PROVIDER, {
        method: 'POST',
        url: `${liveKitApiOrigin(fields.url)}${LIST_ROOMS_PATH}`,
        headers: { authorization: `Bearer ${token}` },
        json: {},
      });
    } catch (error) {
      return { ok: false, detail: `${PROVIDER} server could not be checked: ${describeFailure(error, PROVIDER)}` };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true, detail: `${PROVIDER} accepted the API key and secret (RoomService/ListRooms)` };
    if (status === 401 || status === 403) return { ok: false, detail: `${PROVIDER} rejected the API key or secret (HTTP ${status})` };
    if (status === 404) return { ok: false, detail: `${PROVIDER} has no RoomService at this URL (HTTP 404); check url` };
    return { ok: false, detail: `${PROVIDER} answered HTTP ${status}` };
  }
}
