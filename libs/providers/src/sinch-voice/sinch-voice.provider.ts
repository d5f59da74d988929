import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { MintResult, TokenProvider } from '@mintline/providers/token-provider';
import { createSinchRegistrationToken, SINCH_REGISTRATION_TOKEN_TTL_SECONDS } from '@mintline/providers/sinch-voice/sinch-registration-token';

export interface SinchVoiceCredentials {
  applicationKey: string;
  /** Base64-encoded application secret. */
  applicationSecret: string;
}

export interface SinchVoiceMintRequest {
  userId: string;
}

/** Mints Sinch Voice/Video SDK user registration tokens. */
@Injectable()
export class SinchVoiceProvider implements TokenProvider<SinchVoiceCredentials, SinchVoiceMintRequest> {
  readonly name = 'sinch' as const;

  constructor(private readonly clock: Clock) {}

  async mint(credentials: SinchVoiceCredentials, request: SinchVoiceMintRequest): Promise<MintResult> {
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const token = createSinchRegistrationToken({
      applicationKey: credentials.applicationKey,
      applicationSecret: credentials.applicationSecret,
      userId: request.userId,
      issuedAt: new Date(iat * 1000),
      nonce: randomUUID(),
    });
    return { token, expiresAt: new Date((iat + SINCH_REGISTRATION_TOKEN_TTL_SECONDS) * 1000) };
  }
}
