import { ArgumentsHost, Catch, ExceptionFilter, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessRefusal } from '@mintline/access/access-refusal';
import { MINT_ROUTE } from '@mintline/access/mint-route';
import { ApiError } from '@mintline/common/errors/api-error';
import { sendError, toApiError } from '@mintline/common/errors/error-envelope.filter';
import { requestMetaOf } from '@mintline/common/http/request-context';
import { MintPipeline } from './mint-pipeline.service';
import { MintRouteProvider, mintRouteProviderOf } from './mint-route-provider';

/**
 * On a mint route, the access guard's refusal of an authenticated tenant principal (a missing scope, the
 * org's feature off) is a mint attempt too: the pipeline audits it as denied before the refusal is
 * answered, and when that entry cannot be written the answer is 503 instead. Everything else (errors of
 * the handler, which the pipeline has audited already) goes on to the global error filter.
 */
@Catch(AccessRefusal)
@Injectable()
export class MintRefusalFilter implements ExceptionFilter<AccessRefusal> {
  constructor(
    private readonly pipeline: MintPipeline,
    private readonly reflector: Reflector,
  ) {}

  async catch(refusal: AccessRefusal, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const declared = this.reflector.get<MintRouteProvider | undefined>(MINT_ROUTE, refusal.handler);
    const provider = declared === undefined ? null : mintRouteProviderOf(declared, (request.params ?? {}) as Record<string, string | undefined>);
    let answer: ApiError = refusal;
    if (provider && refusal.principal.kind !== 'operator') {
      try {
        await this.pipeline.refused(provider, refusal.principal, requestMetaOf(request), refusal);
      } catch (error) {
        answer = toApiError(error);
      }
    }
    sendError(http.getResponse<FastifyReply>(), request, answer);
  }
}
