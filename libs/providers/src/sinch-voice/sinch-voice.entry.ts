import { checkStandardBase64, field, secret } from '../registry/credential-field-rules';
import { MintRequestBody } from '../registry/mint-request-body';
import { defineProvider } from '../registry/provider-entry';
import { SINCH_REGISTRATION_TOKEN_TTL_SECONDS } from './sinch-registration-token';
import { SinchVoiceTokens } from './sinch-voice.tokens';

/** A Sinch Voice/Video SDK application: registration JWTs for its users. */
export const SINCH_VOICE = defineProvider({
  credentials: 'sinch-voice',
  title: 'Sinch Voice',
  fields: [field('applicationKey'), secret('applicationSecret', { check: checkStandardBase64, description: 'base64, as Sinch issues it' })],
  notConfiguredCode: 'SINCH_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The sinch-voice credentials are well-formed; sinch-voice offers no check without placing a call' },
  tokens: {
    name: 'sinch',
    summary: "sinch `{userId?}`: a 10-minute Sinch RTC registration JWT, the application key and the user's default sinch caller ID (as GET /api/calls/token/sinch)",
    request: { properties: {} },
    parse: (body) => new MintRequestBody(body, 'sinch', []).done({}),
    answer: {
      applicationKey: { type: 'string', maxLength: 2048 },
      callerIdentifier: { type: 'string', maxLength: 16, description: "The user's default sinch caller ID (E.164), or an empty string" },
    },
    grant: () => ({ room: null, ttlSeconds: SINCH_REGISTRATION_TOKEN_TTL_SECONDS, fixedTtl: true, publish: 'none' }),
    target: (_request, fields) => `sinch:${fields.applicationKey}`,
    minter: SinchVoiceTokens,
  },
});
