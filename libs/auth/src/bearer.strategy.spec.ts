import { ApiError } from '@mintline/common/errors/api-error';
import { BearerStrategy, extractCredential } from './bearer.strategy';
import type { Principal } from '@mintline/access/principal';
import type { PrincipalResolver } from './principal-resolver.service';

const request = (headers: Record<string, string | string[] | undefined>) => ({ headers }) as Parameters<typeof extractCredential>[0];

function refused(headers: Record<string, string | string[] | undefined>): ApiError {
  try {
    extractCredential(request(headers));
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error(`accepted ${JSON.stringify(headers)}`);
}

describe('extractCredential', () => {
  it('reads Authorization: Bearer <credential>', () => {
    expect(extractCredential(request({ authorization: 'Bearer abc.def.ghi' }))).toEqual({ value: 'abc.def.ghi', via: 'bearer' });
  });

  it('treats the scheme case-insensitively and tolerates extra spaces around the credential', () => {
    expect(extractCredential(request({ authorization: 'bearer tok' }))).toEqual({ value: 'tok', via: 'bearer' });
    expect(extractCredential(request({ authorization: 'BEARER tok' }))).toEqual({ value: 'tok', via: 'bearer' });
    expect(extractCredential(request({ authorization: 'Bearer    tok   ' }))).toEqual({ value: 'tok', via: 'bearer' });
  });

  it('keeps every character of an API key or operator token', () => {
    const key = 'mlk_AbC-dEf_0123456789abcdefghijklmnopqrstuvwxyzABC';
    expect(extractCredential(request({ authorization: `Bearer ${key}` }))).toEqual({ value: key, via: 'bearer' });
    expect(extractCredential(request({ authorization: 'Bearer op_a+b/c=' }))).toEqual({ value: 'op_a+b/c=', via: 'bearer' });
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a bare token', 'abc.def.ghi'],
    ['the scheme alone', 'Bearer'],
    ['the scheme and spaces only', 'Bearer   '],
    ['no space after the scheme', 'Bearerabc'],
    ['two credentials', 'Bearer one two'],
    ['a tab instead of a space', 'Bearer\tabc'],
    ['a leading space', ' Bearer abc'],
  ])('refuses a malformed Authorization header (%s) with 401 UNAUTHORIZED', (_label, authorization) => {
    expect(refused({ authorization })).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });

  it('refuses a malformed Authorization header even when X-API-Key is present', () => {
    expect(refused({ authorization: 'Basic abc', 'x-api-key': 'mlk_key' })).toMatchObject({ status: 401 });
  });

  it('reads X-API-Key, trimmed', () => {
    expect(extractCredential(request({ 'x-api-key': 'mlk_key' }))).toEqual({ value: 'mlk_key', via: 'x-api-key' });
    expect(extractCredential(request({ 'x-api-key': '  mlk_key  ' }))).toEqual({ value: 'mlk_key', via: 'x-api-key' });
  });

  it('refuses two different credentials in Authorization and X-API-Key with 401 AMBIGUOUS_CREDENTIALS', () => {
    expect(refused({ authorization: 'Bearer jwt', 'x-api-key': 'mlk_key' })).toMatchObject({ status: 401, code: 'AMBIGUOUS_CREDENTIALS' });
    expect(refused({ authorization: 'Bearer mlk_one', 'x-api-key': 'mlk_two' })).toMatchObject({ status: 401, code: 'AMBIGUOUS_CREDENTIALS' });
    expect(refused({ authorization: 'Bearer mlk_key', 'x-api-key': 'mlk_key_longer' })).toMatchObject({ status: 401, code: 'AMBIGUOUS_CREDENTIALS' });
  });

  it('accepts the same key sent in both headers, as one credential', () => {
    expect(extractCredential(request({ authorization: 'Bearer mlk_key', 'x-api-key': ' mlk_key ' }))).toEqual({ value: 'mlk_key', via: 'bearer' });
  });

  it('falls back to X-API-Key when Authorization is empty', () => {
    expect(extractCredential(request({ authorization: '', 'x-api-key': 'mlk_key' }))).toEqual({ value: 'mlk_key', via: 'x-api-key' });
  });

  it('finds nothing without either header, or with empty or repeated ones', () => {
    expect(extractCredential(request({}))).toBeUndefined();
    expect(extractCredential(request({ authorization: '', 'x-api-key': '' }))).toBeUndefined();
    expect(extractCredential(request({ 'x-api-key': ['mlk_a', 'mlk_b'] }))).toBeUndefined();
  });
});

describe('BearerStrategy.validate', () => {
  const principal: Principal = { kind: 'operator', orgId: null, scopes: [] };

  it('hands the extracted credential to the resolver and answers its principal', async () => {
    const resolve = jest.fn().mockResolvedValue(principal);
    const strategy = new BearerStrategy({ resolve } as unknown as PrincipalResolver);
    await expect(strategy.validate(request({ authorization: 'Bearer op' }) as never)).resolves.toBe(principal);
    expect(resolve).toHaveBeenCalledWith({ value: 'op', via: 'bearer' });
  });

  it('refuses a request without a credential with 401, without asking the resolver', async () => {
    const resolve = jest.fn();
    const strategy = new BearerStrategy({ resolve } as unknown as PrincipalResolver);
    await expect(strategy.validate(request({}) as never)).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(resolve).not.toHaveBeenCalled();
  });

  it('passes on the resolver refusal', async () => {
    const resolve = jest.fn().mockRejectedValue(ApiError.unauthorized('Invalid API key'));
    const strategy = new BearerStrategy({ resolve } as unknown as PrincipalResolver);
    await expect(strategy.validate(request({ 'x-api-key': 'mlk_x' }) as never)).rejects.toMatchObject({ status: 401, message: 'Invalid API key' });
  });
});
