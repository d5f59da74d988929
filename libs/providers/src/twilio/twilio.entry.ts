import { field, optionalField, secret, twilioSid } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';

/** A Twilio account's API key: AccessTokens with Voice, Video, Conversations (chat) and Sync grants. */
export const TWILIO = defineProvider({
  credentials: 'twilio',
  title: 'Twilio',
  fields: [
    field('accountSid', { check: twilioSid('AC') }),
    field('apiKeySid', { check: twilioSid('SK') }),
    secret('apiKeySecret'),
    field('twimlAppSid', { check: twilioSid('AP') }),
    optionalField('conversationsServiceSid', { check: twilioSid('IS'), description: 'The Conversations service of chat grants (IS...)' }),
    optionalField('syncServiceSid', { check: twilioSid('IS'), description: 'The Sync service of data_sync grants (IS...)' }),
  ],
  notConfiguredCode: 'TWILIO_NOT_CONFIGURED',
  verify: { kind: 'format', detail: 'The twilio credentials are well-formed; twilio offers no check without placing a call' },
});
