import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, ErrorDetail } from './api-error';
import { isDatabaseUnavailable, translateDatabaseError } from './database-errors';

export interface ErrorEnvelope {
  success: false;
  error: string;
  code: string;
  requestId: string;
  details?: ErrorDetail[];
}

/**
 * Turns every error — ours, Nest's, Fastify's (bad JSON, body too large) and the database's — into the
 * contract's envelope. Anything not recognised is a 500 and is logged; bad input must never end here.
 */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorEnvelope');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = toApiError(exception);
    if (error.status >= 500 && error.code !== 'UNAVAILABLE' && !(exception instanceof ApiError)) {
      this.logger.error({ err: exception, requestId: request.id }, 'unhandled error');
    }
    sendError(reply, request, error);
  }
}

export function sendError(reply: FastifyReply, request: FastifyRequest, error: ApiError): void {
  const body: ErrorEnvelope = { success: false, error: error.message, code: error.code, requestId: String(request.id) };
  if (error.details && error.details.length > 0) body.details = error.details;
  if (error.headers) reply.headers(error.headers);
  void reply.status(error.status).header('content-type', 'application/json; charset=utf-8').send(body);
}

/** Maps anything thrown to an ApiError. Exported for Fastify's own error handler to share. */
export function toApiError(exception: unknown): ApiError {
  if (exception instanceof ApiError) return exception;
  if (exception instanceof HttpException) return fromHttpException(exception);
  const database = translateDatabaseError(exception);
  if (database) return database;
  if (isDatabaseUnavailable(exception)) return ApiError.unavailable();
  const fastify = fromFastifyError(exception);
  if (fastify) return fastify;
  return new ApiError(500, 'INTERNAL', 'Internal server error');
}

function fromHttpException(exception: HttpException): ApiError {
  const status = exception.getStatus();
  const codes: Record<number, string> = {
    400: 'VALIDATION_FAILED',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_ALLOWED',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    422: 'UNPROCESSABLE',
    429: 'RATE_LIMITED',
    503: 'UNAVAILABLE',
  };
  const code = codes[status] ?? (status >= 500 ? 'INTERNAL' : 'ERROR');
  const message = status === 404 ? 'Route not found' : status >= 500 ? 'Internal server error' : exception.message;
  // Nest re-throws Fastify's body-parser errors (malformed or empty JSON, __proto__ keys) as a plain
  // 400 HttpException; the contract's 400 always names the field, which here is the body itself.
  if (status === 400) return ApiError.validation([{ field: 'body', message }], message);
  return new ApiError(status, code, message);
}

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  message?: string;
}

function fromFastifyError(exception: unknown): ApiError | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { statusCode, code, message } = exception as FastifyLikeError;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || statusCode === 413) {
    return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'Request body is larger than 64 KiB');
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || statusCode === 415) {
    return new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body must be application/json');
  }
  if (exception instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return ApiError.validation([{ field: 'body', message: 'must be valid JSON' }], 'Malformed JSON body');
  }
  if (statusCode === 400) {
    return ApiError.validation([{ field: code === 'FST_ERR_BAD_URL' ? 'url' : 'request', message: message || 'is malformed' }], message || 'Bad request');
  }
  if (typeof statusCode === 'number' && statusCode > 400 && statusCode < 500) {
    return new ApiError(statusCode, 'BAD_REQUEST', message || 'Bad request');
  }
  return undefined;
}
