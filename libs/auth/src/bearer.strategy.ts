import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { ApiError } from '@mintline/common/errors/api-error';
import type { Principal } from './principal';
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

export function extractCredential(request: Pick<FastifyRequest, 'headers'>): { value: string; via: 'bearer' | 'x-api-key' } | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(authorization);
    if (!match) throw ApiError.unauthorized('Authorization header must be "Bearer <credential>"');
    return { value: match[1], via: 'bearer' };
  }
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return { value: apiKey.trim(), via: 'x-api-key' };
  return undefined;
}
