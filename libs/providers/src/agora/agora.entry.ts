import type { Scope } from '@mintline/access/scopes';
import { checkHex32, field, secret } from '../registry/credential-field-rules';
import { ttlSecondsProperty } from '../registry/mint-request-body';
import { defineProvider } from '../registry/provider-entry';
import { AGORA_DEFAULT_TTL_SECONDS, AgoraMintRequest, parseAgoraMintRequest } from './agora-mint-request';
import { AGORA_CHANNEL_MAX_LENGTH, AGORA_NAME_PATTERN } from './agora-names';
import { AgoraMinter } from './agora.minter';

/** An Agora project: AccessToken2 (`007…`) for RTC and RTM, minted locally. */
export const AGORA = defineProvider({
  credentials: 'agora',
  title: 'Agora',
  fields: [
    field('appId', { check: checkHex32, description: 'The App ID (32 hex characters)' }),
    secret('appCertificate', { check: checkHex32, description: 'The App Certificate (32 hex characters)' }),
  ],
  notConfiguredCode: 'AGORA_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The agora App ID and App Certificate are 32 hexadecimal characters each; Agora offers no check of the pair' },
  tokens: {
    name: 'agora',
    summary:
      'An Agora AccessToken2 (007…) for the user account = the user id: RTC for a channel (publisher: join and publish audio, video and data; ' +
      'subscriber: join only; CREATE_CALL_TOKEN) or RTM login (service "rtm", CREATE_CHAT_TOKEN; channel ignored)',
    request: {
      properties: {
        channel: {
          type: 'string',
          minLength: 1,
          maxLength: AGORA_CHANNEL_MAX_LENGTH,
          pattern: AGORA_NAME_PATTERN,
          description: "Required for rtc, ignored for rtm: 1 to 64 of Agora's channel characters (a-z A-Z 0-9, space and !#$%&()+-:;<=.>?@[]^_{|}~,)",
        },
        role: {
          type: 'string',
          enum: ['publisher', 'subscriber'],
          maxLength: 10,
          default: 'publisher',
          description: 'rtc only: publisher joins and publishes, subscriber only joins',
        },
        ttlSeconds: ttlSecondsProperty(AGORA_DEFAULT_TTL_SECONDS),
        service: {
          type: 'string',
          enum: ['rtc', 'rtm'],
          maxLength: 3,
          default: 'rtc',
          description: 'rtc (CREATE_CALL_TOKEN) or rtm, the Signaling login (CREATE_CHAT_TOKEN)',
        },
      },
    },
    parse: parseAgoraMintRequest,
    answer: {
      appId: { type: 'string', pattern: '^[0-9a-fA-F]{32}$', minLength: 32, maxLength: 32 },
      channel: { type: 'string', nullable: true, maxLength: AGORA_CHANNEL_MAX_LENGTH, description: 'The RTC channel; null for rtm' },
      account: { type: 'string', format: 'uuid', maxLength: 64, description: 'The user account the token is for: the user id' },
    },
    scopes: (body: unknown): readonly Scope[] => (isRtm(body) ? ['CREATE_CHAT_TOKEN'] : ['CREATE_CALL_TOKEN']),
    grant: (request: AgoraMintRequest) =>
      request.service === 'rtm'
        ? // RTM login publishes no media: nothing a publish rule could take.
          { room: null, ttlSeconds: request.ttlSeconds, fixedTtl: false, publish: 'none' }
        : {
            room: request.channel,
            ttlSeconds: request.ttlSeconds,
            fixedTtl: false,
            publish: request.role === 'subscriber' ? 'none' : request.roleAsked ? 'asked' : 'default',
          },
    target: (request: AgoraMintRequest) => (request.service === 'rtm' ? 'agora:rtm' : `agora:channel:${request.channel}`),
    minter: AgoraMinter,
  },
});

/** Read from the raw body, before it is validated: only an exact "rtm" asks for the chat scope. */
function isRtm(body: unknown): boolean {
  return typeof body === 'object' && body !== null && (body as { service?: unknown }).service === 'rtm';
}
