import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import { ApiError } from '@mintline/common/errors/api-error';
import type { MintedToken, TokenMinter, TokenMintInput } from '../registry/provider-entry';
import { buildTwilioAccessToken, TwilioGrants } from './twilio-access-token';
import { twilioIdentityFor } from './twilio-voice.provider';

export interface TwilioTokenFields {
  accountSid: string;
  apiKeySid: string;
  apiKeySecret: string;
  twimlAppSid: string;
  conversationsServiceSid?: string;
  syncServiceSid?: string;
}

export interface TwilioTokenRequest {
  ttlSeconds: number;
  voice: boolean;
  /** Whether `voice` was sent as true (rather than left to its default). */
  voiceAsked: boolean;
  video?: { room?: string };
  conversations: boolean;
  sync: boolean;
}

export interface TwilioTokenAnswer {
  identity: string;
}

/**
 * POST /api/tokens/twilio: one AccessToken with the asked grants. A grant whose service the org's
 * credentials do not name cannot be minted: 400 TWILIO_NOT_CONFIGURED, as for no credentials at all.
 */
@Injectable()
export class TwilioTokens implements TokenMinter<TwilioTokenFields, TwilioTokenRequest, TwilioTokenAnswer> {
  constructor(private readonly clock: Clock) {}

  async mint({ fields, request, subject, grant }: TokenMintInput<TwilioTokenFields, TwilioTokenRequest>): Promise<MintedToken<TwilioTokenAnswer>> {
    const grants: TwilioGrants = {};
    // Without publish rights the voice grant only receives calls: no outgoing application.
    if (request.voice) grants.voice = grant.publish === 'none' ? {} : { outgoingApplicationSid: fields.twimlAppSid };
    if (request.video) grants.video = request.video.room !== undefined ? { room: request.video.room } : {};
    if (request.conversations) grants.chat = { serviceSid: serviceSid(fields.conversationsServiceSid, 'conversationsServiceSid') };
    if (request.sync) grants.dataSync = { serviceSid: serviceSid(fields.syncServiceSid, 'syncServiceSid') };

    const identity = twilioIdentityFor(subject.userId);
    const issuedAt = Math.floor(this.clock.now().getTime() / 1000);
    const token = buildTwilioAccessToken({
      accountSid: fields.accountSid,
      apiKeySid: fields.apiKeySid,
      apiKeySecret: fields.apiKeySecret,
      identity,
      issuedAt,
      ttlSeconds: grant.ttlSeconds,
      grants,
    });
    return { token, expiresAt: new Date((issuedAt + grant.ttlSeconds) * 1000), expiresIn: grant.ttlSeconds, answer: { identity } };
  }
}

function serviceSid(value: string | undefined, field: 'conversationsServiceSid' | 'syncServiceSid'): string {
  if (!value) throw new ApiError(400, 'TWILIO_NOT_CONFIGURED', `This org's twilio credentials have no ${field}; store it to mint that grant`);
  return value;
}
