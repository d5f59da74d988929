import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What a fake can be told to do instead of answering properly:
 * - `unauthorized` / `forbidden` / `server-error`: the provider's own 401 / 403 / 500 body;
 * - `reset`: read the request, then destroy the socket without answering;
 * - `hang`: never answer (the socket is only closed by `close()`);
 * - `redirect`: 302 to another path on the same fake (a follower would show up as a second request);
 * - `oversize`: 200 with a valid JSON body of ~300 KiB and a Content-Length;
 * - `oversize-chunked`: the same without Content-Length (chunked);
 * - `invalid-json`: 200, `application/json`, a body that does not parse.
 */
export type FailureMode = 'unauthorized' | 'forbidden' | 'server-error' | 'reset' | 'hang' | 'redirect' | 'oversize' | 'oversize-chunked' | 'invalid-json';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  /** Which scheme the Authorization header used; its value is never recorded. */
  auth: 'basic' | 'bearer' | 'none' | 'other';
  /** Whether the fake accepted the credentials; undefined when it never checked (injected failure, no auth needed). */
  authorized?: boolean;
  /** A number per TCP connection: two requests with the same number shared a keep-alive socket. */
  connection: number;
  contentType?: string;
  /** The body, only where it holds no secret (each fake decides). */
  body?: unknown;
  /** The failure injected into this request, if any. */
  injected?: FailureMode;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface FakeRequestContext {
  req: IncomingMessage;
  url: URL;
  rawBody: string;
  /** The entry recorded for this request; handlers set `authorized` and `body` on it. */
  record: RecordedRequest;
}

export interface FakeServerSpec {
  handle(context: FakeRequestContext): FakeReply | Promise<FakeReply>;
  /** The provider's documented body for an injected 401, 403 or 500 on this path. */
  failureReply(mode: 'unauthorized' | 'forbidden' | 'server-error', path: string): FakeReply;
}

export interface FailureOptions {
  /** Only requests whose path starts with this are affected. */
  path?: string;
  /** For failNext: how many matching requests fail. Default 1. */
  times?: number;
}

export interface FakeServer {
  url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** The next matching request(s) fail this way, then the fake answers normally again. */
  failNext(mode: FailureMode, options?: FailureOptions): void;
  /** Every matching request fails this way until `setMode(null)`. */
  setMode(mode: FailureMode | null, options?: Pick<FailureOptions, 'path'>): void;
  /** Requests received, optionally only those whose path starts with `pathPrefix`. */
  count(pathPrefix?: string): number;
  /** Forgets recorded requests and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

interface FailureRule {
  mode: FailureMode;
  path?: string;
  remaining: number;
}

const MAX_REQUEST_BODY = 1024 * 1024;
const OVERSIZE_BYTES = 300 * 1024;

/** A real HTTP server on 127.0.0.1 and a free port, with failure injection and request recording. */
export async function startFakeHttpServer(spec: FakeServerSpec): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let rules: FailureRule[] = [];
  let connections = 0;
  const connectionIds = new WeakMap<Socket, number>();
  let baseUrl = '';

  const server = createServer((req, res) => {
    void serve(req, res).catch(() => {
      if (!res.headersSent) send(res, { status: 500, body: { error: 'fake server error' } });
      else res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => connectionIds.set(socket, ++connections));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl);
    const rawBody = await readBody(req);
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      auth: authScheme(req.headers.authorization),
      connection: connectionIds.get(req.socket) ?? 0,
      contentType: req.headers['content-type'],
    };
    requests.push(record);

    const rule = takeRule(url.pathname);
    if (!rule) {
      send(res, await spec.handle({ req, url, rawBody, record }));
      return;
    }
    record.injected = rule;
    switch (rule) {
      case 'unauthorized':
      case 'forbidden':
      case 'server-error':
        send(res, spec.failureReply(rule, url.pathname));
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        return;
      case 'redirect':
        send(res, {
          status: 302,
          headers: { location: `${baseUrl}/redirected${url.pathname}` },
          body: { moved: true },
        });
        return;
      case 'oversize':
        send(res, { status: 200, body: { token: 'x'.repeat(OVERSIZE_BYTES) } });
        return;
      case 'oversize-chunked':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"token":"');
        for (let written = 0; written < OVERSIZE_BYTES; written += 16 * 1024) res.write('x'.repeat(16 * 1024));
        res.end('"}');
        return;
      case 'invalid-json':
        send(res, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"token": "unterminated' });
        return;
    }
  }

  function takeRule(path: string): FailureMode | undefined {
    const index = rules.findIndex((rule) => rule.remaining > 0 && (rule.path === undefined || path.startsWith(rule.path)));
    if (index < 0) return undefined;
    const rule = rules[index];
    rule.remaining -= 1;
    if (rule.remaining <= 0) rules.splice(index, 1);
    return rule.mode;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    requests,
    failNext(mode, options = {}) {
      rules.push({ mode, path: options.path, remaining: options.times ?? 1 });
    },
    setMode(mode, options = {}) {
      rules = rules.filter((rule) => rule.remaining !== Infinity || rule.path !== options.path);
      if (mode) rules.unshift({ mode, path: options.path, remaining: Infinity });
    },
    count(pathPrefix) {
      return pathPrefix === undefined ? requests.length : requests.filter((r) => r.path.startsWith(pathPrefix)).length;
    },
    reset() {
      requests.length = 0;
      rules = [];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function send(res: ServerResponse, reply: FakeReply): void {
  const text = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  const headers: Record<string, string> = {
    ...(text && typeof reply.body !== 'string' ? { 'content-type': 'application/json' } : {}),
    ...reply.headers,
    'content-length': String(Buffer.byteLength(text)),
  };
  res.writeHead(reply.status, headers);
  res.end(text);
}

/** The user and password of a Basic header, or undefined. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
}

function authScheme(header: string | undefined): RecordedRequest['auth'] {
  if (!header) return 'none';
  if (/^Basic\s/i.test(header)) return 'basic';
  if (/^Bearer\s/i.test(header)) return 'bearer';
  return 'other';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BODY) break;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
