import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Facts about the HTTP request that audit and event entries keep. */
export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

export function requestMetaOf(request: FastifyRequest): RequestMeta {
  const userAgent = request.headers['user-agent'];
  return {
    requestId: String(request.id),
    ip: request.ip ?? null,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
  };
}

export const RequestContext = createParamDecorator((_data: unknown, context: ExecutionContext): RequestMeta => {
  return requestMetaOf(context.switchToHttp().getRequest<FastifyRequest>());
});
