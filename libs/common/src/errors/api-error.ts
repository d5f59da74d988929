/**
 * The one error type the service throws on purpose. The error filter turns it into the contract's
 * envelope `{success: false, error, code, requestId, details?}` with this status.
 */
export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    /** Extra response headers, e.g. Retry-After for 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  static validation(details: ErrorDetail[], message = 'Request validation failed'): ApiError {
    return new ApiError(400, 'VALIDATION_FAILED', message, details);
  }

  static unauthorized(message = 'Missing or invalid credential', code = 'UNAUTHORIZED'): ApiError {
    return new ApiError(401, code, message);
  }

  static forbidden(code: string, message: string): ApiError {
    return new ApiError(403, code, message);
  }

  static notFound(message = 'Not found', code = 'NOT_FOUND'): ApiError {
    return new ApiError(404, code, message);
  }

  static conflict(code: string, message: string): ApiError {
    return new ApiError(409, code, message);
  }

  static unprocessable(code: string, message: string, details?: ErrorDetail[]): ApiError {
    return new ApiError(422, code, message, details);
  }

  static rateLimited(retryAfterSeconds: number, message = 'Rate limit exceeded'): ApiError {
    const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
    return new ApiError(429, 'RATE_LIMITED', message, undefined, { 'retry-after': String(seconds) });
  }

  static unavailable(message = 'A dependency is unavailable, try again shortly'): ApiError {
    return new ApiError(503, 'UNAVAILABLE', message);
  }

  static provider(code: 'PROVIDER_AUTH_FAILED' | 'PROVIDER_UNAVAILABLE' | 'PROVIDER_ERROR', message: string): ApiError {
    return new ApiError(502, code, message);
  }
}
