import { Module } from '@nestjs/common';
import { CallTokenProvider } from './call-token/call-token.provider';
import { ProviderHttpClient } from './http/provider-http.client';
import { SignalWireChatProvider } from './signalwire/signalwire-chat.provider';
import { SinchOAuthClient } from './sinch-project/sinch-oauth.client';
import { SinchTrunkClient } from './sinch-project/sinch-trunk.client';
import { SinchVoiceProvider } from './sinch-voice/sinch-voice.provider';
import { TelnyxApiClient } from './telnyx/telnyx-api.client';
import { TwilioVoiceProvider } from './twilio/twilio-voice.provider';
import { registryInjectables } from './provider-registry';

const PROVIDERS = [
  ...new Set([
    CallTokenProvider,
    ProviderHttpClient,
    SignalWireChatProvider,
    SinchOAuthClient,
    SinchTrunkClient,
    SinchVoiceProvider,
    TelnyxApiClient,
    TwilioVoiceProvider,
    ...registryInjectables(),
  ]),
];

/** One injectable service per provider, the minters and checkers the provider registry names, and their one HTTP client. */
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class ProvidersModule {}
