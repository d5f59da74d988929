import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import type { MintedToken, TokenMinter, TokenMintInput } from '../registry/provider-entry';
import { buildLiveKitAccessToken } from './livekit-access-token';

export interface LiveKitFields {
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface LiveKitTokenRequest {
  room: string;
  ttlSeconds: number;
  canPublish: boolean;
  canSubscribe: boolean;
  canPublishData: boolean;
  /** Which publish rights the body asked for explicitly (true), rather than took by default. */
  publishAsked: boolean;
  /** Both publish rights explicitly refused (false). */
  publishRefused: boolean;
}

export interface LiveKitTokenAnswer {
  url: string;
  identity: string;
  room: string;
}

/** POST /api/tokens/livekit: a participant token for one room, its identity the user id and its name the user's. */
@Injectable()
export class LiveKitTokens implements TokenMinter<LiveKitFields, LiveKitTokenRequest, LiveKitTokenAnswer> {
  constructor(private readonly clock: Clock) {}

  async mint({ fields, request, subject, grant }: TokenMintInput<LiveKitFields, LiveKitTokenRequest>): Promise<MintedToken<LiveKitTokenAnswer>> {
    const notBefore = Math.floor(this.clock.now().getTime() / 1000);
    // The grant in force may have lost its publish rights to the org's policy: then neither media nor data.
    const publish = grant.publish !== 'none';
    const token = buildLiveKitAccessToken({
      apiKey: fields.apiKey,
      apiSecret: fields.apiSecret,
      identity: subject.userId,
      name: await subject.name(),
      notBefore,
      ttlSeconds: grant.ttlSeconds,
      grant: {
        room: request.room,
        canPublish: publish && request.canPublish,
        canSubscribe: request.canSubscribe,
        canPublishData: publish && request.canPublishData,
      },
    });
    return {
      token,
      expiresAt: new Date((notBefore + grant.ttlSeconds) * 1000),
      expiresIn: grant.ttlSeconds,
      answer: { url: fields.url, identity: subject.userId, room: request.room },
    };
  }
}
