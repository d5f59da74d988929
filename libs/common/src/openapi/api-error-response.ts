import { ApiResponse } from '@nestjs/swagger';

/** The one error body of every 4xx and 5xx answer (the error filter writes it; see ErrorEnvelope in api-error.ts). */
export const ERROR_ENVELOPE_SCHEMA = 'ErrorEnvelope';
export const ERROR_ENVELOPE_REF = `#/components/schemas/${ERROR_ENVELOPE_SCHEMA}`;

/**
 * Documents that a route answers `status` with the error envelope; `description` names the codes.
 * Several for one status merge their descriptions (403 MISSING_SCOPE from the access rule plus a
 * route's own 403 SCOPE_ESCALATION). The document's finishing step (apps/api/src/openapi-document.ts)
 * gives every error response the envelope schema, so Nest's ApiXxxResponse decorators get it too.
 */
export const ApiErrorResponse = (status: number, description: string) =>
  ApiResponse({ status, description, schema: { $ref: ERROR_ENVELOPE_REF } });
