import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * For a mint, whose guard did not read the cache epochs first (see InvalidationBus): the bus version the
 * request's cached reads were made at, and how to check the request again from fresh data (it throws
 * the refusal, if it is refused now).
 */
export interface CacheFreshness {
  version: number;
  recheck(): Promise<void>;
}

/** Facts about the HTTP request that audit and event entries keep. */
export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  freshness?: CacheFreshness;
}

export function requestMetaOf(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  return {
    requestId: String(request.id),
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    freshness: (request as { freshness?: CacheFreshness }).freshness,
  };
}

export const RequestContext = createParamDecorator((_data: unknown, context: ExecutionContext): RequestMeta => {
  return requestMetaOf(context.switchToHttp().getRequest<FastifyRequest>());
});
