import { field, optionalField, outboundUrl, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';

/** The Telnyx API's default base URL, when the credentials name none. */
export const TELNYX_DEFAULT_BASE_URL = 'https://api.telnyx.com';

/**
 * A Telnyx account: WebRTC JWTs minted by the Telnyx API for a telephony credential per user.
 * The credential fields are complete; the agora-telnyx branch adds `tokens` and an `upstream` verify
 * (GET {baseUrl}/v2/balance).
 */
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
  verify: { kind: 'format', detail: 'The telnyx credentials are well-formed' },
});
