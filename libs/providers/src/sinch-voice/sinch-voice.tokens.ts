import { Injectable } from '@nestjs/common';
import type { MintedToken, TokenMinter, TokenMintInput } from '../registry/provider-entry';
import { SINCH_REGISTRATION_TOKEN_TTL_SECONDS } from './sinch-registration-token';
import { SinchVoiceCredentials, SinchVoiceProvider } from './sinch-voice.provider';

/** POST /api/tokens/sinch takes nothing but `userId`. */
export type SinchTokenRequest = Record<string, never>;

export interface SinchTokenAnswer {
  applicationKey: string;
  /** The user's default sinch caller ID, or "". */
  callerIdentifier: string;
}

/** POST /api/tokens/sinch: the same registration JWT and answer as GET /api/calls/token/sinch. */
@Injectable()
export class SinchVoiceTokens implements TokenMinter<SinchVoiceCredentials, SinchTokenRequest, SinchTokenAnswer> {
  constructor(private readonly sinch: SinchVoiceProvider) {}

  async mint({ fields, subject }: TokenMintInput<SinchVoiceCredentials, SinchTokenRequest>): Promise<MintedToken<SinchTokenAnswer>> {
    // The lifetime is Sinch's own (fixedTtl): a policy capping below it refuses the mint before this runs.
    const [minted, callerIdentifier] = await Promise.all([this.sinch.mint(fields, { userId: subject.userId }), subject.callerId('sinch')]);
    return {
      token: minted.token,
      expiresAt: minted.expiresAt,
      expiresIn: SINCH_REGISTRATION_TOKEN_TTL_SECONDS,
      answer: { applicationKey: fields.applicationKey, callerIdentifier },
    };
  }
}
