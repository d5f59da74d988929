import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { MintResult, TokenProvider } from '@mintline/providers/token-provider';
import { buildTwilioAccessToken } from './twilio-access-token';

export const TWILIO_ACCESS_TOKEN_TTL_SECONDS = 3600;

export interface TwilioCredentials {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  twimlAppSid: string;
}

export interface TwilioVoiceMintRequest {
  userId: string;
  /** The token's lifetime (default TWILIO_ACCESS_TOKEN_TTL_SECONDS); an org's token policy may shorten it. */
  ttlSeconds?: number;
  /** Whether the voice grant may place calls through the TwiML app (default true); a policy without publish rights takes it. */
  outgoing?: boolean;
}

export type TwilioVoiceMintResult = MintResult & { identity: string };

/**
 * The Twilio client identity for a user id (a UUID): '-' becomes '_', leaving only [A-Za-z0-9_].
 * Anything else is refused rather than replaced, so two users can never map to one identity.
 */
export function twilioIdentityFor(userId: string): string {
  const identity = userId.replace(/-/g, '_');
  if (!/^[A-Za-z0-9_]+$/.test(identity)) {
    throw new Error('A Twilio identity needs a user id made of letters, digits and hyphens');
  }
  return identity;
}

/**
 * Mints Twilio Voice SDK access tokens (GET /api/calls/token/twilio): the AccessToken the `twilio`
 * package's `jwt.AccessToken` with a `VoiceGrant({outgoingApplicationSid, incomingAllow: true})` builds
 * (twilio-access-token.ts), signed with node:crypto since `twilio` is not a runtime dependency.
 */
@Injectable()
export class TwilioVoiceProvider implements TokenProvider<TwilioCredentials, TwilioVoiceMintRequest, TwilioVoiceMintResult> {
  readonly name = 'twilio' as const;

  constructor(private readonly clock: Clock) {}

  async mint(credentials: TwilioCredentials, request: TwilioVoiceMintRequest): Promise<TwilioVoiceMintResult> {
    for (const field of ['accountSid', 'apiKeySid', 'apiKeySecret', 'twimlAppSid'] as const) {
      // An empty secret would still "sign" (HMAC accepts an empty key), so refuse it outright.
      const value: unknown = credentials[field];
      if (typeof value !== 'string' || value.length === 0) {
        throw new Error(`Twilio credential ${field} is missing`);
      }
    }
    const identity = twilioIdentityFor(request.userId);
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const ttlSeconds = request.ttlSeconds ?? TWILIO_ACCESS_TOKEN_TTL_SECONDS;
    const token = buildTwilioAccessToken({
      ...credentials,
      identity,
      issuedAt: iat,
      ttlSeconds,
      grants: { voice: { outgoingApplicationSid: (request.outgoing ?? true) ? credentials.twimlAppSid : undefined } },
    });
    return { token, identity, expiresAt: new Date((iat + ttlSeconds) * 1000) };
  }
}
