import { MintRequestBody } from '../registry/mint-request-body';
import { field, optionalField, outboundUrl, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';
import { TELNYX_DEFAULT_BASE_URL } from './telnyx-api.client';
import { TELNYX_TOKEN_TTL_SECONDS, TelnyxMintRequest, TelnyxProvider } from './telnyx.provider';

/** A Telnyx account: WebRTC login JWTs minted by the Telnyx API for a telephony credential per user. */
export const TELNYX = defineProvider({
  credentials: 'telnyx',
  title: 'Telnyx',
  fields: [
    secret('apiKey'),
    field('connectionId', { description: 'The credential connection the telephony credentials belong to' }),
    // Tenant-supplied and receives the API key: the outbound-address rules apply.
    optionalField('baseUrl', { check: outboundUrl(), description: `The Telnyx API (default ${TELNYX_DEFAULT_BASE_URL})` }),
  ],
  notConfiguredCode: 'TELNYX_NOT_CONFIGURED',
  // GET {baseUrl}/v2/balance with the key: a read that makes nothing.
  verify: { kind: 'upstream', checker: TelnyxProvider },
  tokens: {
    name: 'telnyx',
    summary:
      "A Telnyx WebRTC login JWT (24 hours), minted by the Telnyx API for the user's telephony credential, which Mintline makes on the org's " +
      'connection on first use and remembers (made again once if Telnyx lost it)',
    request: { properties: {} },
    parse: (body: Record<string, unknown>): TelnyxMintRequest => new MintRequestBody(body, 'telnyx', []).done({}),
    answer: {
      sipUsername: { type: 'string', minLength: 1, maxLength: 256, description: "The SIP username of the user's telephony credential (gencred…)" },
    },
    // Telnyx's lifetime is its own (24 hours); the token names no room and carries no publish right a policy governs.
    grant: () => ({ room: null, ttlSeconds: TELNYX_TOKEN_TTL_SECONDS, fixedTtl: true, publish: 'none' }),
    target: (_request: TelnyxMintRequest, fields: { connectionId: string }) => `telnyx:connection:${fields.connectionId}`,
    minter: TelnyxProvider,
  },
});
