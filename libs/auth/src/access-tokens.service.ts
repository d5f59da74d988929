import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isUuid } from '@mintline/common/http/uuid';

export const ACCESS_TOKEN_TTL_SECONDS = 900;
const ISSUER = 'mintline';
const AUDIENCE = 'mintline-api';

export interface AccessTokenClaims {
  sub: string;
  org: string;
  typ: 'access';
}

/** 15-minute user access tokens: HS256 only, issuer and audience pinned, so `alg: none` never passes. */
@Injectable()
export class AccessTokensService {
  constructor(private readonly jwt: JwtService) {}

  issue(userId: string, orgId: string): Promise<string> {
    const claims: AccessTokenClaims = { sub: userId, org: orgId, typ: 'access' };
    return this.jwt.signAsync(claims, { algorithm: 'HS256', expiresIn: ACCESS_TOKEN_TTL_SECONDS, issuer: ISSUER, audience: AUDIENCE });
  }

  /** The claims of a valid token, or undefined for anything else (bad signature, expired or no exp, other alg). */
  async verify(token: string): Promise<AccessTokenClaims | undefined> {
    try {
      const claims = await this.jwt.verifyAsync<AccessTokenClaims & { iat: number; exp?: unknown }>(token, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      // Ids are UUIDs; anything else must stay a 401 and never reach a uuid column (a 400 from the database).
      if (claims.typ !== 'access' || typeof claims.sub !== 'string' || typeof claims.org !== 'string') return undefined;
      // The library checks exp only when present; a token without one would never expire.
      if (typeof claims.exp !== 'number') return undefined;
      if (!isUuid(claims.sub) || !isUuid(claims.org)) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}
