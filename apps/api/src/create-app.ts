import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '@mintline/common/errors/api-error';
import { ErrorEnvelopeFilter, sendError, toApiError } from '@mintline/common/errors/error-envelope.filter';
import { createValidationPipe } from '@mintline/common/errors/validation.pipe';
import { serviceDatabaseUrl } from '@mintline/common/database/service-role';
import { requestIdFor } from '@mintline/common/http/request-id';
import { PinoNestLogger } from '@mintline/common/logging/logger';
import { MetricsService } from '@mintline/common/metrics/metrics.service';
import { AppModule, AppModuleOptions } from './app.module';
import { registerConsoleRoutes } from './console/console-routes';
import { buildOpenApiDocument } from './openapi-document';

export const BODY_LIMIT_BYTES = 64 * 1024;

/** Every route under /api, but for the ops routes (the offline OpenAPI document uses the same). */
export function setGlobalPrefix(app: NestFastifyApplication): void {
  app.setGlobalPrefix('api', { exclude: ['health', 'health/ready', 'metrics'] });
}

/**
 * Node's HTTP parser refuses some requests before Fastify sees them: request line and headers over
 * 16 KiB (431), broken framing such as a bad chunk size or Content-Length with Transfer-Encoding (400),
 * a request that arrives too slowly (408). Answered like every other error (the envelope, with a fresh
 * X-Request-Id), then the connection is closed: the parser cannot go on reading it.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let apiError = ApiError.validation([{ field: 'request', message: 'is not a well-formed HTTP request' }], 'Malformed HTTP request');
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    apiError = new ApiError(431, 'HEADERS_TOO_LARGE', 'The request line and headers must fit in 16 KiB');
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    apiError = new ApiError(408, 'REQUEST_TIMEOUT', 'The request did not arrive in time');
  }
  const requestId = randomUUID();
  const body = JSON.stringify({ success: false, error: apiError.message, code: apiError.code, requestId, ...(apiError.details ? { details: apiError.details } : {}) });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Builds the HTTP application; `main.ts` and the end-to-end tests both start the service through here.
 * `options.databaseUrl` is the owner's connection, already migrated.
 */
export async function createApp(options: AppModuleOptions): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: requestIdFor,
    // Never `true` (every hop trusted: the client would pick its own address); see AppConfig.trustProxy.
    trustProxy: options.config.trustProxy,
    // JSON with __proto__ or constructor.prototype keys is refused outright (prototype pollution).
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // On close, let requests in flight finish (their mints' audit entries commit) instead of cutting
    // every connection; Node closes idle keep-alive connections itself.
    forceCloseConnections: false,
    // A request that reaches a closing server (on a keep-alive connection) is answered below, in the
    // envelope with its X-Request-Id; Fastify's own 503 has neither.
    return503OnClosing: false,
    // Errors Fastify answers before any hook or handler runs (a badly %-encoded URL) get the envelope too.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-request-id', request.id);
      sendError(reply, request, toApiError(error));
    },
    // ... and so do those of Node's HTTP parser, before there is a request at all.
    clientErrorHandler: answerClientError,
    // Node would answer an HTTP/1.1 request without Host with a bare 400; the onRequest hook below
    // refuses it instead, in the envelope. Headers that never finish are cut off after headersTimeoutMs
    // (408 above); Node's defaults (60 s, checked every 30 s) held such a connection for up to 90 s.
    // Fastify turns Node's whole-request timeout off by default (0), so a body that never finishes
    // would hold its connection forever; requestTimeoutMs bounds it (also a 408 above).
    requestTimeout: Math.max(options.config.requestTimeoutMs, options.config.headersTimeoutMs),
    http: {
      requireHostHeader: false,
      headersTimeout: options.config.headersTimeoutMs,
      connectionsCheckingInterval: options.config.connectionsCheckIntervalMs,
    },
  });
  // options.databaseUrl is the owner's (migrations); the service works as a role bound by row-level security.
  const databaseUrl = await serviceDatabaseUrl(options.databaseUrl, options.config.databaseAppUrl);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ ...options, databaseUrl }), adapter, {
    logger: new PinoNestLogger(options.logger),
    abortOnError: false,
  });
  setGlobalPrefix(app);
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorEnvelopeFilter());

  const fastify = app.getHttpAdapter().getInstance();
  const metrics = app.get(MetricsService);
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    if (!request.headers.host && request.raw.httpVersion === '1.1') {
      reply.header('connection', 'close');
      sendError(reply, request, ApiError.validation([{ field: 'host', message: 'is required (HTTP/1.1)' }], 'Missing Host header'));
      return reply;
    }
    if (closing) {
      // Shutting down: in-flight requests finish, new ones are refused and their connection closed.
      reply.header('connection', 'close');
      sendError(reply, request, ApiError.unavailable('The service is shutting down, try again shortly'));
      return reply;
    }
  });
  fastify.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    options.logger.info({ reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  const document = buildOpenApiDocument(app, BODY_LIMIT_BYTES);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json', useGlobalPrefix: false });
  await registerConsoleRoutes(app);

  await app.init();
  // JSON in and out: Nest registers a urlencoded parser and Fastify a text/plain one; without them any
  // body that is not application/json is a 415 instead of reaching validation as a string or a form.
  fastify.removeContentTypeParser(['text/plain', 'application/x-www-form-urlencoded']);
  return app;
}
