import { createHmac } from 'node:crypto';
import type { HttpResult } from './http';

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const API_KEY_PATTERN = /^mlk_[A-Za-z0-9_-]{43,}$/;
export const ISO_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/**
 * The contract's error answer: this status and code, the envelope `{success: false, error, code,
 * requestId, details?}` and nothing else, JSON, and the envelope's requestId equal to X-Request-Id.
 * Returns the body so callers can look at `details`.
 */
export function expectError(response: HttpResult, status: number, code: string) {
  // Status, code and the raw text together, so a failure shows what came back.
  expect(`${response.status} ${response.body?.code} ${response.text}`).toMatch(new RegExp(`^${status} ${code} `));
  expect(response.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = response.body as Record<string, unknown>;
  expect(body).toEqual({
    success: false,
    error: expect.any(String),
    code,
    requestId: expect.any(String),
    ...(body.details !== undefined ? { details: expect.any(Array) } : {}),
  });
  expect((body.error as string).length).toBeGreaterThan(0);
  expect(body.requestId).toBe(response.headers.get('x-request-id'));
  if (body.details !== undefined) {
    const details = body.details as unknown[];
    expect(details.length).toBeGreaterThan(0);
    for (const detail of details) expect(detail).toEqual({ field: expect.any(String), message: expect.any(String) });
  }
  return body as { success: false; error: string; code: string; requestId: string; details?: Array<{ field: string; message: string }> };
}

/** A 400 VALIDATION_FAILED whose details name (at least) these fields. */
export function expectValidation(response: HttpResult, ...fields: string[]) {
  const body = expectError(response, 400, 'VALIDATION_FAILED');
  expect(body.details).toBeDefined();
  const named = (body.details ?? []).map((detail) => detail.field);
  for (const field of fields) expect(named).toContain(field);
  return body;
}

/** A success with this status; on failure the received text is shown. */
export function expectStatus(response: HttpResult, status: number): void {
  expect(`${response.status} ${response.text}`).toMatch(new RegExp(`^${status} `));
}

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A JWT put together by hand (any header, any signature), for tokens a library would refuse to make. */
export function handMadeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret?: string, hmac = 'sha256'): string {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  const signature = secret === undefined ? '' : createHmac(hmac, secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  return { header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) };
}

/** Every log line the app wrote, as one string. */
export function allLogs(logs: string[]): string {
  return logs.join('');
}
