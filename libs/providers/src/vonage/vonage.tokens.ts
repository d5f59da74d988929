import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Clock } from '@mintline/common/clock';
import type { MintedToken, TokenMinter, TokenMintInput } from '../registry/provider-entry';
import { buildVonageClientJwt } from './vonage-client-jwt';

export interface VonageFields {
  applicationId: string;
  privateKey: string;
}

export interface VonageTokenRequest {
  ttlSeconds: number;
}

export interface VonageTokenAnswer {
  applicationId: string;
  sub: string;
}

/** POST /api/tokens/vonage: a Client SDK JWT for the user (sub = the user id), with the documented ACL paths. */
@Injectable()
export class VonageTokens implements TokenMinter<VonageFields, VonageTokenRequest, VonageTokenAnswer> {
  constructor(private readonly clock: Clock) {}

  async mint({ fields, subject, grant }: TokenMintInput<VonageFields, VonageTokenRequest>): Promise<MintedToken<VonageTokenAnswer>> {
    const issuedAt = Math.floor(this.clock.now().getTime() / 1000);
    const token = buildVonageClientJwt({
      applicationId: fields.applicationId,
      privateKey: fields.privateKey,
      subject: subject.userId,
      issuedAt,
      ttlSeconds: grant.ttlSeconds,
      jti: randomUUID(),
    });
    return {
      token,
      expiresAt: new Date((issuedAt + grant.ttlSeconds) * 1000),
      expiresIn: grant.ttlSeconds,
      answer: { applicationId: fields.applicationId, sub: subject.userId },
    };
  }
}
