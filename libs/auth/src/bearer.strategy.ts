import { timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { ApiError } from '@mintline/common/errors/api-error';
import type { Principal } from '@mintline/access/principal';
import { PrincipalResolver } from './principal-resolver.service';

/**
 * The one passport strategy: `Authorization: Bearer <credential>` (access JWT, API key or operator
 * token) or `X-API-Key: <key>`; it yields one Principal type whatever the credential.
 */
@Injectable()
export class BearerStrategy extends PassportStrategy(Strategy, 'bearer') {
  constructor(private readonly resolver: PrincipalResolver) {
    super();
  }

  async validate(request: FastifyRequest): Promise<Principal> {
    const credential = extractCredential(request);
    if (!credential) throw ApiError.unauthorized('Missing credential: send Authorization: Bearer <token> or X-API-Key');
    return this.resolver.resolve(credential);
  }
}

/**
 * The one credential of a request. Two different ones (Authorization and X-API-Key) are refused rather
 * than one silently chosen: a proxy or client that adds its own key must not decide who the caller is.
 * The same key sent in both headers is one credential.
 */
export function extractCredential(request: Pick<FastifyRequest, 'headers'>): { value: string; via: 'bearer' | 'x-api-key' } | undefined {
  const authorization = request.headers.authorization;
  const header = request.headers['x-api-key'];
  const apiKey = typeof header === 'string' && header.length > 0 ? header.trim() : undefined;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization);
    if (!match) throw ApiError.unauthorized('Authorization header must be "Bearer <credential>"');
    if (apiKey !== undefined && !sameCredential(match[1], apiKey)) {
      throw ApiError.unauthorized('Send one credential: Authorization and X-API-Key carry different ones', 'AMBIGUOUS_CREDENTIALS');
    }
    return { value: match[1], via: 'bearer' };
  }
  if (apiKey !== undefined) return { value: apiKey, via: 'x-api-key' };
  return undefined;
}

/** Compared in constant time: the two values are credentials. */
function sameCredential(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
