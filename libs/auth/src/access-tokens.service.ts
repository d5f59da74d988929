import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '@mintline/common/config';
import { isUuid } from '@mintline/common/http/uuid';
import { Hs256Jwt } from './hs256-jwt';

export const ACCESS_TOKEN_TTL_SECONDS = 900;
const ISSUER = 'mintline';
const AUDIENCE = 'mintline-api';

export interface AccessTokenClaims {
  sub: string;
  org: string;
  typ: 'access';
}

/**
 * 15-minute user access tokens: HS256 only, issuer and audience pinned, `exp` required, so `alg: none`
 * never passes. Issued by @nestjs/jwt at login; verified by Hs256Jwt with a key prepared once, because
 * every authenticated request verifies one and jsonwebtoken's general-purpose checks were 5% of a mint.
 */
@Injectable()
export class AccessTokensService {
  private readonly jwt: Hs256Jwt;

  constructor(
    config: AppConfig,
    private readonly issuer: JwtService,
  ) {
    this.jwt = new Hs256Jwt(config.jwtSecret);
  }

  issue(userId: string, orgId: string): Promise<string> {
    const claims: AccessTokenClaims = { sub: userId, org: orgId, typ: 'access' };
    return this.issuer.signAsync(claims, { algorithm: 'HS256', expiresIn: ACCESS_TOKEN_TTL_SECONDS, issuer: ISSUER, audience: AUDIENCE });
  }

  /** The claims of a valid token, or undefined for anything else (bad signature, expired or no exp, other alg). */
  verify(token: string): AccessTokenClaims | undefined {
    const claims = this.jwt.verify(token, { nowSeconds: nowSeconds(), issuer: ISSUER, audience: AUDIENCE });
    // Ids are UUIDs; anything else must stay a 401 and never reach a uuid column (a 400 from the database).
    if (!claims || claims.typ !== 'access' || !isUuid(claims.sub) || !isUuid(claims.org)) return undefined;
    return { sub: claims.sub, org: claims.org, typ: 'access' };
  }
}

/** Seconds since the epoch, as JWT times are written (the system clock, as jsonwebtoken read it). */
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
