import { ApiResponse, DECORATORS } from '@nestjs/swagger';

/** The one error body of every 4xx and 5xx answer (the error filter writes it; see ErrorEnvelope in error-envelope.filter.ts). */
export const ERROR_ENVELOPE_SCHEMA = 'ErrorEnvelope';
export const ERROR_ENVELOPE_REF = `#/components/schemas/${ERROR_ENVELOPE_SCHEMA}`;

/**
 * Documents that a route answers `status` with the error envelope; `description` names the codes.
 * Several for one status merge their descriptions (403 MISSING_SCOPE from the access rule plus a
 * route's own 403 SCOPE_ESCALATION), on a method or on its controller. The document's finishing step
 * (apps/api/src/openapi-document.ts) gives every error response the envelope schema, so Nest's
 * ApiXxxResponse decorators get it too.
 */
export const ApiErrorResponse = (status: number, description: string): MethodDecorator & ClassDecorator => {
  const document = () => ApiResponse({ status, description, schema: { $ref: ERROR_ENVELOPE_REF } });
  // Swagger's decorators hand back the descriptor or class they were given, unchanged; this one returns
  // nothing, which TypeScript's decorator helper reads the same way (it keeps what it passed in).
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor): void => {
    if (descriptor) {
      document()(target, key as string | symbol, descriptor);
      return;
    }
    // On a controller: Nest lets a method's own entry for this status replace the controller's, which
    // would drop this code; add it to those methods too (class decorators run after method ones).
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor')) {
      const method = Object.getOwnPropertyDescriptor(prototype, name);
      const responses: Record<string, unknown> | undefined =
        method && typeof method.value === 'function' ? Reflect.getMetadata(DECORATORS.API_RESPONSE, method.value) : undefined;
      if (method && responses?.[status]) document()(prototype, name, method);
    }
    document()(target as abstract new (...args: never[]) => unknown);
  };
};
