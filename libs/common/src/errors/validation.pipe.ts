import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError, ErrorDetail } from './api-error';

/**
 * How deep a JSON body may nest. class-transformer and class-validator recurse once per level, so a
 * 64 KiB body of `[[[[...]]]]` would overflow the stack (a 500); far deeper than any real body.
 */
export const MAX_BODY_DEPTH = 1000;

/**
 * class-validator with the contract's rules: unknown fields are rejected, values are transformed to
 * the DTO's types, and every problem becomes one `{field, message}` in a 400 VALIDATION_FAILED.
 */
export function createValidationPipe(): ValidationPipe {
  return new ContractValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => ApiError.validation(flatten(errors)),
  });
}

/**
 * A body DTO of a hot route may check the common case itself: `static accepts(body)` answers the DTO
 * instance when the body is certainly valid (by the same validator functions its decorators apply),
 * else undefined. The full class-transformer and class-validator pass, several times the cost of the
 * rest of such a request's validation, then runs only for bodies it does not accept, so every refusal
 * and its message is still class-validator's.
 */
export interface AcceptsBody<T> {
  accepts(body: unknown): T | undefined;
}

/** A parsed JSON object with no prototype tricks, whose own keys are all in `allowed` (and include `required`). */
export function plainBodyWith(body: unknown, allowed: readonly string[], required: readonly string[]): body is Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Object.getPrototypeOf(body) !== Object.prototype) return false;
  for (const key of Object.keys(body)) if (!allowed.includes(key)) return false;
  return required.every((key) => Object.prototype.hasOwnProperty.call(body, key));
}

class ContractValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      const problem = inspectBody(value);
      if (problem) throw ApiError.validation([problem]);
      const accepted = (metadata.metatype as Partial<AcceptsBody<unknown>> | undefined)?.accepts?.(value);
      if (accepted !== undefined) return accepted;
    }
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      // validator.js runs some strings through encodeURI (IsEmail's length checks), which throws on a
      // lone UTF-16 surrogate ("\udfff" is valid JSON): malformed input, a 400 naming the field.
      if (error instanceof URIError) {
        const field = metadata.type === 'body' ? (loneSurrogatePath(value) ?? 'body') : (metadata.data ?? metadata.type);
        throw ApiError.validation([{ field, message: 'must be well-formed Unicode (no lone surrogates)' }]);
      }
      throw error;
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The dotted path of the first string (or key) in `value` holding a lone surrogate. Only on the error path. */
function loneSurrogatePath(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path || 'body' : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_BODY_DEPTH) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (LONE_SURROGATE.test(key)) return childPath;
    const found = loneSurrogatePath(child, childPath, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * What the validator would miss or choke on in a parsed JSON body: nesting deeper than MAX_BODY_DEPTH
 * (checked without recursion), and a top-level `constructor` key, which class-transformer drops
 * silently instead of letting the whitelist refuse it as an unknown field.
 */
export function inspectBody(body: unknown): ErrorDetail | undefined {
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && Object.prototype.hasOwnProperty.call(body, 'constructor')) {
    return { field: 'constructor', message: 'should not exist' };
  }
  const pending: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 0 }];
  while (pending.length > 0) {
    const { value, depth } = pending.pop() as { value: unknown; depth: number };
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) return { field: 'body', message: `must not nest deeper than ${MAX_BODY_DEPTH} levels` };
    for (const child of Object.values(value)) if (child !== null && typeof child === 'object') pending.push({ value: child, depth: depth + 1 });
  }
  return undefined;
}

export function flatten(errors: ValidationError[], parent = ''): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) {
      details.push({ field, message: message.replace(/^property \S+ /, '') });
    }
    if (error.children?.length) details.push(...flatten(error.children, field));
  }
  return details;
}
