import { field, outboundUrl, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';

/** A LiveKit server (Cloud or self-hosted): HS256 access tokens with a room-join video grant. */
export const LIVEKIT = defineProvider({
  credentials: 'livekit',
  title: 'LiveKit',
  fields: [
    // The server's URL is tenant-supplied and receives tokens signed with the tenant's secret: the
    // outbound-address rules apply. Stored as given (wss or https); API calls use its https form.
    field('url', { check: outboundUrl(['wss', 'https']), description: 'The LiveKit server, wss:// or https://' }),
    field('apiKey'),
    secret('apiSecret'),
  ],
  notConfiguredCode: 'LIVEKIT_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The livekit credentials are well-formed' },
});
