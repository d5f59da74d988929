import { checkHex32, field, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';

/**
 * An Agora project: AccessToken2 (`007…`) for RTC and RTM, minted locally.
 * The credential fields are complete; the agora-telnyx branch adds `tokens` (its request, grant,
 * target, scopes: CREATE_CHAT_TOKEN for `service: "rtm"`, and its minter).
 */
export const AGORA = defineProvider({
  credentials: 'agora',
  title: 'Agora',
  fields: [
    field('appId', { check: checkHex32, description: 'The App ID (32 hex characters)' }),
    secret('appCertificate', { check: checkHex32, description: 'The App Certificate (32 hex characters)' }),
  ],
  notConfiguredCode: 'AGORA_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The agora App ID and App Certificate are 32 hexadecimal characters each; Agora offers no check of the pair' },
});
