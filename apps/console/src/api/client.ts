import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi';

export type Schemas = components['schemas'];
export type Envelope = Schemas['ErrorEnvelope'];
export type Me = Schemas['PrincipalView'];

/** An error answer of the API, its envelope as it came (or one made up for a network failure). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly envelope: Envelope,
  ) {
    super(envelope.error);
  }

  /** The message of the detail naming this field, if any. */
  fieldMessage(field: string): string | undefined {
    return this.envelope.details?.find((detail) => detail.field === field)?.message;
  }
}

function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && 'error' in value && 'code' in value && typeof value.error === 'string' && typeof value.code === 'string';
}

export function toFailure(status: number, body: unknown): ApiFailure {
  if (isEnvelope(body)) return new ApiFailure(status, body);
  return new ApiFailure(status, {
    success: false,
    error: status === 0 ? 'The service could not be reached' : `Unexpected answer (HTTP ${status})`,
    code: `HTTP_${status}`,
    requestId: '-',
  });
}

/**
 * The signed-in session's access token lives here, in this module's memory only: never in
 * localStorage, sessionStorage or a cookie, so it is gone with the tab and no other page can read it.
 */
let accessToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setSession(token: string | null, unauthorized: (() => void) | null): void {
  accessToken = token;
  onUnauthorized = unauthorized;
}

export function bearer(): Record<string, string> {
  return accessToken ? { authorization: `Bearer ${accessToken}` } : {};
}

const auth: Middleware = {
  onRequest({ request }) {
    if (accessToken) request.headers.set('authorization', `Bearer ${accessToken}`);
    return request;
  },
  onResponse({ response, request }) {
    // A 401 on anything but the login itself: the token expired or was revoked (user disabled, deleted).
    if (response.status === 401 && !request.url.endsWith('/api/auth/login')) onUnauthorized?.();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** The body of a success, or throws the answer's envelope as an ApiFailure. */
export async function must<D>(pending: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<D> {
  let result: { data?: D; error?: unknown; response: Response };
  try {
    result = await pending;
  } catch {
    throw toFailure(0, undefined);
  }
  if (!result.response.ok) throw toFailure(result.response.status, result.error);
  return result.data as D;
}

/** Fetches a file answer (an export) with the session's token, as a Blob with its suggested file name. */
export async function download(path: string): Promise<{ blob: Blob; fileName: string }> {
  const response = await fetch(path, { headers: bearer() });
  if (response.status === 401) onUnauthorized?.();
  if (!response.ok) throw toFailure(response.status, await response.json().catch(() => undefined));
  const disposition = response.headers.get('content-disposition') ?? '';
  const fileName = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'mintline-export';
  return { blob: await response.blob(), fileName };
}
