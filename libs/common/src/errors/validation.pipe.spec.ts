import { IsString } from 'class-validator';
import { ApiError } from './api-error';
import { createValidationPipe, inspectBody, MAX_BODY_DEPTH } from './validation.pipe';

class NameDto {
  @IsString()
  name: string;
}

const nest = (depth: number) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);

describe('inspectBody', () => {
  it('accepts ordinary bodies', () => {
    expect(inspectBody({ a: 1, b: { c: [1, { d: null }] } })).toBeUndefined();
    expect(inspectBody(null)).toBeUndefined();
    expect(inspectBody('text')).toBeUndefined();
  });

  it('accepts nesting up to the limit and refuses deeper, without recursing', () => {
    expect(inspectBody(nest(MAX_BODY_DEPTH))).toBeUndefined();
    expect(inspectBody(nest(MAX_BODY_DEPTH + 1))).toEqual({ field: 'body', message: expect.stringContaining(String(MAX_BODY_DEPTH)) });
    expect(inspectBody(nest(100_000))).toMatchObject({ field: 'body' });
  });

  it('names a top-level constructor key, which class-transformer would drop silently', () => {
    expect(inspectBody(JSON.parse('{"name":"x","constructor":"y"}'))).toEqual({ field: 'constructor', message: 'should not exist' });
  });
});

describe('createValidationPipe', () => {
  const pipe = createValidationPipe();
  const asBody = { type: 'body' as const, metatype: NameDto, data: undefined };

  async function refusal(value: unknown): Promise<ApiError> {
    try {
      await pipe.transform(value, asBody);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error('accepted');
  }

  it('transforms a valid body to the DTO', async () => {
    await expect(pipe.transform({ name: 'x' }, asBody)).resolves.toBeInstanceOf(NameDto);
  });

  it('refuses unknown fields, a constructor key and deep nesting with 400 VALIDATION_FAILED', async () => {
    expect(await refusal({ name: 'x', extra: 1 })).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', details: [{ field: 'extra', message: 'should not exist' }] });
    expect(await refusal(JSON.parse('{"name":"x","constructor":{}}'))).toMatchObject({ details: [{ field: 'constructor', message: 'should not exist' }] });
    expect(await refusal({ name: nest(50_000) })).toMatchObject({ status: 400, details: [{ field: 'body', message: expect.any(String) }] });
  });

  it('leaves path and query parameters to their own pipes', async () => {
    await expect(pipe.transform('constructor', { type: 'param', metatype: String, data: 'id' })).resolves.toBe('constructor');
  });
});
