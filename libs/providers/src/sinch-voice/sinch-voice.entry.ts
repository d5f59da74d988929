import { checkStandardBase64, field, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';

/** A Sinch Voice/Video SDK application: registration JWTs for its users. */
export const SINCH_VOICE = defineProvider({
  credentials: 'sinch-voice',
  title: 'Sinch Voice',
  fields: [field('applicationKey'), secret('applicationSecret', { check: checkStandardBase64, description: 'base64, as Sinch issues it' })],
  notConfiguredCode: 'SINCH_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The sinch-voice credentials are well-formed; sinch-voice offers no check without placing a call' },
});
