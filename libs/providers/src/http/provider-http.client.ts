import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { Pool } from 'undici';
import { AppConfig } from '@mintline/common/config';
import { defaultOutboundLookup, OUTBOUND_DNS_LOOKUP, OutboundLookup } from '@mintline/common/dns-lookup';
import { checkOutboundHost, guardedLookup, OutboundAddressError } from './outbound-address';
import { ProviderHttpError } from './provider-http.error';

export const PROVIDER_HTTP_OPTIONS = Symbol('PROVIDER_HTTP_OPTIONS');

export interface ProviderHttpOptions {
  /** Whole-request budget (connect + headers + body) when a request names none. Default 5000 ms. */
  timeoutMs?: number;
  /** Largest response body accepted. Default 256 KiB. */
  maxResponseBytes?: number;
  /** Sockets per origin. Default 16. */
  connectionsPerOrigin?: number;
  /** How many origins keep a pool; the least recently used one is closed past this. Default 256. */
  maxOrigins?: number;
  /** How long an idle keep-alive socket is kept. Default 10000 ms. */
  keepAliveMs?: number;
}

export type ProviderHttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ProviderHttpRequest {
  method: ProviderHttpMethod;
  url: string;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  timeoutMs?: number;
  maxResponseBytes?: number;
  /**
   * Only for URLs the operator set through the environment (SINCH_AUTH_URL, SINCH_EST_URL): they are
   * trusted as they are, so the public-address rule is not applied. Every other URL (anything a tenant
   * stored) is held to it, at the URL and again at each connection on the resolved address.
   */
  operatorUrl?: boolean;
}

export interface ProviderHttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  /** Set when the response is JSON (by content type) and not empty. */
  json?: unknown;
}

const DEFAULTS = {
  timeoutMs: 5000,
  maxResponseBytes: 256 * 1024,
  connectionsPerOrigin: 16,
  maxOrigins: 256,
  keepAliveMs: 10_000,
} satisfies Required<ProviderHttpOptions>;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

/**
 * The one outbound HTTP client for provider calls: a keep-alive pool per origin, a hard deadline per
 * request, no redirects, capped response bodies, https only (unless explicitly allowed), only public
 * addresses (unless the request is for an operator-set URL, or insecure URLs are allowed), and errors
 * that never echo what was sent.
 */
@Injectable()
export class ProviderHttpClient implements OnModuleDestroy {
  private readonly options: Required<ProviderHttpOptions>;
  /**
   * Keyed by guard and origin, so that a guarded request never reuses a socket an unguarded one opened.
   * Insertion order doubles as recency order: a used pool is moved to the end.
   */
  private readonly pools = new Map<string, Pool>();
  private readonly lookup: OutboundLookup;
  private readonly checkedLookup: OutboundLookup;
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    @Optional() @Inject(PROVIDER_HTTP_OPTIONS) options?: ProviderHttpOptions,
    @Optional() @Inject(OUTBOUND_DNS_LOOKUP) lookup?: OutboundLookup,
  ) {
    this.options = { ...DEFAULTS, ...stripUndefined(options ?? {}) };
    this.lookup = lookup ?? defaultOutboundLookup;
    this.checkedLookup = guardedLookup(this.lookup);
  }

  /** The budget of a request that names none (PROVIDER_HTTP_OPTIONS, else 5000 ms). */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  async request(request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
    const url = this.checkUrl(request.method, request.url);
    const target = `${url.origin}${url.pathname}`;
    const where = { method: request.method, target };
    // ALLOW_INSECURE_PROVIDER_URLS lifts the address rule with the https rule (test doubles on loopback).
    const guarded = !request.operatorUrl && !this.config.allowInsecureProviderUrls;
    if (guarded) {
      // An address literal is connected to without any lookup, so it is judged here; a name is judged
      // by what it resolves to, when the connection is made (guardedLookup).
      const verdict = checkOutboundHost(url.hostname);
      if (!verdict.allowed) {
        throw new ProviderHttpError('non_public_address', `${request.method} ${target} refused: the host ${verdict.reason}`, where);
      }
    }
    if (this.closed) {
      throw new ProviderHttpError('connection', `${request.method} ${target} refused: the HTTP client is closed`, where);
    }

    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs;
    const maxBytes = request.maxResponseBytes ?? this.options.maxResponseBytes;
    const { headers, body } = encodeBody(request);
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);

    try {
      const response = await this.pool(url.origin, guarded).request({
        method: request.method,
        path: `${url.pathname}${url.search}`,
        headers,
        body,
        signal: controller.signal,
      });
      const status = response.statusCode;
      const responseHeaders = flattenHeaders(response.headers);

      if (status >= 300 && status < 400) {
        await discard(response.body);
        throw new ProviderHttpError('redirect', `${request.method} ${target} answered ${status} (redirects are not followed)`, {
          ...where,
          status,
        });
      }

      const declared = Number(responseHeaders['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        await discard(response.body);
        throw tooLarge(where, status, maxBytes);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        size += buffer.length;
        if (size > maxBytes) throw tooLarge(where, status, maxBytes);
        chunks.push(buffer);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      return { status, headers: responseHeaders, text, json: parseJson(text, responseHeaders, where, status) };
    } catch (error) {
      if (timedOut) {
        throw new ProviderHttpError('timeout', `${request.method} ${target} timed out after ${timeoutMs} ms`, where);
      }
      if (error instanceof ProviderHttpError) throw error;
      if (isOutboundAddressError(error)) {
        throw new ProviderHttpError('non_public_address', `${request.method} ${target} refused: the host resolves to a non-public address`, where);
      }
      const code = errorCode(error);
      if (code && TIMEOUT_CODES.has(code)) {
        throw new ProviderHttpError('timeout', `${request.method} ${target} timed out (${code})`, { ...where, code });
      }
      throw new ProviderHttpError('connection', `${request.method} ${target} failed: ${code ?? 'connection error'}`, {
        ...where,
        code,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes every pool, waiting for requests in flight (they are bounded by their timeouts). */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => undefined)));
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  private checkUrl(method: string, raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ProviderHttpError('invalid_url', `${method} refused: the provider URL is not a valid URL`, {
        method,
        target: '(invalid URL)',
      });
    }
    const target = `${url.origin}${url.pathname}`;
    if (url.username || url.password) {
      throw new ProviderHttpError('invalid_url', `${method} ${target} refused: provider URLs must not embed credentials`, {
        method,
        target,
      });
    }
    if (url.protocol === 'https:') return url;
    if (url.protocol === 'http:') {
      if (this.config.allowInsecureProviderUrls) return url;
      throw new ProviderHttpError('insecure_url', `${method} ${target} refused: provider URLs must use https (set ALLOW_INSECURE_PROVIDER_URLS=true to allow http)`, {
        method,
        target,
      });
    }
    throw new ProviderHttpError('invalid_url', `${method} ${target} refused: unsupported URL scheme ${url.protocol}`, {
      method,
      target,
    });
  }

  private pool(origin: string, guarded: boolean): Pool {
    const key = `${guarded ? 'guarded' : 'unguarded'} ${origin}`;
    const existing = this.pools.get(key);
    if (existing) {
      this.pools.delete(key);
      this.pools.set(key, existing);
      return existing;
    }
    const pool = new Pool(origin, {
      connections: this.options.connectionsPerOrigin,
      keepAliveTimeout: this.options.keepAliveMs,
      // Node's net/tls connect through this lookup and to exactly the address it hands back.
      connect: { timeout: this.options.timeoutMs, lookup: guarded ? this.checkedLookup : this.lookup },
    });
    this.pools.set(key, pool);
    while (this.pools.size > this.options.maxOrigins) {
      const [oldestOrigin, oldest] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldestOrigin);
      void oldest.close().catch(() => undefined);
    }
    return pool;
  }
}

function encodeBody(request: ProviderHttpRequest): { headers: Record<string, string>; body?: string } {
  const headers: Record<string, string> = { accept: 'application/json', ...lowerCaseKeys(request.headers ?? {}) };
  if (request.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    return { headers, body: JSON.stringify(request.json) };
  }
  if (request.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    return { headers, body: new URLSearchParams(request.form).toString() };
  }
  return { headers };
}

function parseJson(text: string, headers: Record<string, string>, where: { method: string; target: string }, status: number): unknown {
  if (!/\bjson\b/i.test(headers['content-type'] ?? '') || text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderHttpError('invalid_json', `${where.method} ${where.target} answered ${status} with invalid JSON`, {
      ...where,
      status,
    });
  }
}

function tooLarge(where: { method: string; target: string }, status: number, maxBytes: number): ProviderHttpError {
  return new ProviderHttpError('too_large', `${where.method} ${where.target} answered ${status} with a body over ${maxBytes} bytes`, { ...where, status });
}

async function discard(body: { dump(options?: { limit: number }): Promise<void> }): Promise<void> {
  try {
    await body.dump({ limit: 0 });
  } catch {
    // The body is unwanted; any failure to drain it only costs the socket.
  }
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** undici hands the socket's error back as it is, or as the cause of its own. */
function isOutboundAddressError(error: unknown): boolean {
  for (let current = error, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth += 1) {
    if (current instanceof OutboundAddressError) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string') return code;
  return cause === undefined ? undefined : errorCode(cause);
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
