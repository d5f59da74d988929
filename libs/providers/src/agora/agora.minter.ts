import { randomInt } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import type { MintedToken, TokenMinter, TokenMintInput } from '../registry/provider-entry';
import { AGORA_MAX_SALT } from './agora-access-token';
import { AgoraCredentials, createAgoraToken } from './agora-token';
import type { AgoraMintRequest } from './agora-mint-request';

export interface AgoraAnswer {
  appId: string;
  /** The channel of an RTC token; null for RTM, which names none. */
  channel: string | null;
  /** The user account the token is for: the user id. */
  account: string;
}

/**
 * Agora AccessToken2 for the subject user's account, minted locally: RTC for the asked channel
 * (publisher unless the request or the org's policy says subscriber) or RTM login, for the lifetime
 * in force (the policy may have shortened it).
 */
@Injectable()
export class AgoraMinter implements TokenMinter<AgoraCredentials, AgoraMintRequest, AgoraAnswer> {
  constructor(private readonly clock: Clock) {}

  async mint({ fields, request, subject, grant }: TokenMintInput<AgoraCredentials, AgoraMintRequest>): Promise<MintedToken<AgoraAnswer>> {
    const issueTs = Math.floor(this.clock.nowMs() / 1000);
    const ttlSeconds = grant.ttlSeconds;
    const token = createAgoraToken({
      credentials: { appId: fields.appId, appCertificate: fields.appCertificate },
      request:
        request.service === 'rtm'
          ? { service: 'rtm', userId: subject.userId }
          : { service: 'rtc', channel: request.channel, account: subject.userId, role: grant.publish === 'none' ? 'subscriber' : 'publisher' },
      issuedAt: new Date(issueTs * 1000),
      ttlSeconds,
      salt: randomInt(1, AGORA_MAX_SALT + 1),
    });
    return {
      token,
      expiresAt: new Date((issueTs + ttlSeconds) * 1000),
      expiresIn: ttlSeconds,
      answer: { appId: fields.appId, channel: request.service === 'rtc' ? request.channel : null, account: subject.userId },
    };
  }
}
