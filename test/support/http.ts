import { checkAgainstDocument } from './openapi-contract';

/**
 * A small fetch wrapper for end-to-end tests: JSON in, status + parsed body + headers out. Every answer
 * is checked against the served OpenAPI document (openapi-contract.ts).
 */
export interface HttpResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  /** Sent as-is, without JSON encoding (malformed JSON, oversize bodies). */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export async function http<T = any>(baseUrl: string, method: string, path: string, options: RequestOptions = {}): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  let body: string | Buffer | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if (/^application\/json\b/.test(response.headers.get('content-type') ?? '') && text.length > 0) parsed = JSON.parse(text);
  const result = { status: response.status, body: parsed as T, text, headers: response.headers };
  await checkAgainstDocument(baseUrl, method, path, result);
  return result;
}

/** Binds a base URL and a default credential: `const admin = client(app.url, token); await admin.get('/api/users')`. */
export function client(baseUrl: string, token?: string) {
  const call = <T = any>(method: string, path: string, options: RequestOptions = {}) => http<T>(baseUrl, method, path, { token, ...options });
  return {
    get: <T = any>(path: string, options?: RequestOptions) => call<T>('GET', path, options),
    post: <T = any>(path: string, body?: unknown, options?: RequestOptions) => call<T>('POST', path, { body, ...options }),
    put: <T = any>(path: string, body?: unknown, options?: RequestOptions) => call<T>('PUT', path, { body, ...options }),
    patch: <T = any>(path: string, body?: unknown, options?: RequestOptions) => call<T>('PATCH', path, { body, ...options }),
    delete: <T = any>(path: string, options?: RequestOptions) => call<T>('DELETE', path, options),
  };
}

export type Client = ReturnType<typeof client>;
