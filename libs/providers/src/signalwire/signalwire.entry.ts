import { field, outboundUrl, secret } from '../registry/credential-field-rules';
import { defineProvider } from '../registry/provider-entry';
import { SignalWireChatProvider } from './signalwire-chat.provider';

/** A SignalWire space; its chat tokens are minted by the space itself through POST /api/chat/tokens. */
export const SIGNALWIRE = defineProvider({
  credentials: 'signalwire',
  title: 'SignalWire',
  // The space's URL is tenant-supplied and receives the tenant's Basic auth: the outbound-address rules apply.
  fields: [field('spaceUrl', { check: outboundUrl(), description: 'https URL of the space' }), field('projectId'), secret('apiToken')],
  notConfiguredCode: 'SIGNALWIRE_NOT_CONFIGURED',
  verify: { kind: 'upstream', checker: SignalWireChatProvider },
});
