import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ApiError } from './api-error';
import { toApiError } from './error-envelope.filter';

describe('toApiError', () => {
  it('keeps an ApiError as it is', () => {
    const error = ApiError.conflict('EMAIL_TAKEN', 'taken');
    expect(toApiError(error)).toBe(error);
  });

  it('turns the 400 Nest makes of a Fastify body-parser error into VALIDATION_FAILED naming the body', () => {
    const error = toApiError(new HttpException("Body is not valid JSON but content-type is set to 'application/json'", 400));
    expect(error).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: [{ field: 'body', message: expect.stringContaining('JSON') }] });
    expect(toApiError(new BadRequestException('bad'))).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: [{ field: 'body', message: 'bad' }] });
  });

  it('maps 404, 413 and 415 to their codes', () => {
    expect(toApiError(new NotFoundException('Cannot GET /x'))).toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'Route not found' });
    expect(toApiError(new HttpException('too large', 413))).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(toApiError(new HttpException('Unsupported Media Type', 415))).toMatchObject({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('answers a Fastify bad-URL error (frameworkErrors) with 400 naming the url', () => {
    const error = Object.assign(new Error("'/%E0%A4%A' is not a valid url component"), { code: 'FST_ERR_BAD_URL', statusCode: 400 });
    expect(toApiError(error)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: [{ field: 'url', message: expect.any(String) }] });
  });

  it('answers a database that refuses connections with 503 UNAVAILABLE', () => {
    const error = Object.assign(new Error('database "x" is not currently accepting connections'), { code: '55000' });
    expect(toApiError(error)).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
    expect(toApiError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toMatchObject({ status: 503 });
  });

  it('answers anything unknown with a bare 500 INTERNAL that reveals nothing', () => {
    expect(toApiError(new Error('secret internals'))).toMatchObject({ status: 500, code: 'INTERNAL', message: 'Internal server error' });
  });
});
