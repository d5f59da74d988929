import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiError, ErrorDetail } from '@mintline/common/errors/api-error';

/** `ttlSeconds` of every token route (API.md, "More providers"). */
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 86_400;

/** The OpenAPI property of `ttlSeconds` with the provider's default. */
export function ttlSecondsProperty(defaultSeconds: number): SchemaObject {
  return {
    type: 'integer',
    format: 'int32',
    minimum: MIN_TTL_SECONDS,
    maximum: MAX_TTL_SECONDS,
    default: defaultSeconds,
    description: `The token's lifetime in seconds (${MIN_TTL_SECONDS}..${MAX_TTL_SECONDS}); an org's token policy may shorten it`,
  };
}

/**
 * Reads a token route's body field by field, collecting every problem, so that one 400 names them all.
 * A field's problem never repeats its value.
 */
export class MintRequestBody {
  private readonly problems: ErrorDetail[] = [];

  constructor(
    private readonly body: Record<string, unknown>,
    private readonly provider: string,
    private readonly known: readonly string[],
  ) {}

  /** Whether the body carries the field at all (an explicit value, `null` included). */
  has(name: string): boolean {
    return Object.hasOwn(this.body, name) && this.body[name] !== undefined;
  }

  integer(name: string, min: number, max: number, fallback: number): number {
    if (!this.has(name)) return fallback;
    const value = this.body[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(name, `must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  ttlSeconds(fallback: number): number {
    return this.integer('ttlSeconds', MIN_TTL_SECONDS, MAX_TTL_SECONDS, fallback);
  }

  boolean(name: string, fallback: boolean): boolean {
    if (!this.has(name)) return fallback;
    const value = this.body[name];
    if (typeof value !== 'boolean') {
      this.problem(name, 'must be true or false');
      return fallback;
    }
    return value;
  }

  /** A string of `min..max` characters (code points) matching `pattern` when given; undefined when absent and optional. */
  string(name: string, rules: { min: number; max: number; pattern?: RegExp; patternMessage?: string; optional?: boolean }): string | undefined {
    if (!this.has(name)) {
      if (!rules.optional) this.problem(name, 'is required');
      return undefined;
    }
    const value = this.body[name];
    if (typeof value !== 'string') {
      this.problem(name, 'must be a string');
      return undefined;
    }
    const length = Array.from(value).length;
    if (length < rules.min || length > rules.max) {
      this.problem(name, rules.min === rules.max ? `must be ${rules.min} characters` : `must be ${rules.min} to ${rules.max} characters`);
      return undefined;
    }
    if (rules.pattern && !rules.pattern.test(value)) {
      this.problem(name, rules.patternMessage ?? 'has characters that are not allowed');
      return undefined;
    }
    return value;
  }

  /** A nested object of the listed keys, or undefined when absent; its problems are named `name.key`. */
  object(name: string, known: readonly string[]): MintRequestBody | undefined {
    if (!this.has(name)) return undefined;
    const value = this.body[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.problem(name, 'must be an object');
      return undefined;
    }
    const nested = new MintRequestBody(value as Record<string, unknown>, this.provider, known);
    // Its problems are reported as this body's, prefixed with the object's name.
    nested.report = (field, message) => this.problem(`${name}.${field}`, message);
    nested.unknownFields();
    return nested;
  }

  problem(field: string, message: string): void {
    this.report(field, message);
  }

  /** Refuses the parsed request when any field had a problem: 400 VALIDATION_FAILED with every one. */
  done<T>(value: T): T {
    this.unknownFields();
    if (this.problems.length > 0) throw ApiError.validation(this.problems);
    return value;
  }

  private report: (field: string, message: string) => void = (field, message) => this.problems.push({ field, message });

  private checkedUnknown = false;

  private unknownFields(): void {
    if (this.checkedUnknown) return;
    this.checkedUnknown = true;
    for (const name of Object.keys(this.body)) {
      if (!this.known.includes(name)) this.problem(name, `is not a field of a ${this.provider} token request`);
    }
  }
}
