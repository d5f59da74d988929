import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allAuditPages } from './audit';
import { createUser, OrgFixture } from './fixtures';
import { client, Client, HttpResult } from './http';
import { newRequestId } from './minting';
import type { TestApp } from './test-app';

/**
 * Helpers for the provider end-to-end specs (chat tokens, Twilio, Sinch project, verify): a client that
 * keeps every answer it got (so a spec can check that no secret ever reached a response), and a
 * recording pass-through proxy that shows which bearer tokens the service really sent upstream.
 */

/** Every response seen through tapped clients: status, headers and body text. */
export type ResponseSink = string[];

function describeResponse(method: string, path: string, response: HttpResult): string {
  const headers: string[] = [];
  response.headers.forEach((value, name) => headers.push(`${name}: ${value}`));
  return `${method} ${path} → ${response.status}\n${headers.join('\n')}\n${response.text}`;
}

/** Like `client()`, but every answer is also written to `sink`. */
export function tappedClient(baseUrl: string, token: string | undefined, sink: ResponseSink): Client {
  const inner = client(baseUrl, token);
  const keep = (method: string, path: string, response: HttpResult): HttpResult => {
    sink.push(describeResponse(method, path, response));
    return response;
  };
  return {
    get: async (path, options) => keep('GET', path, await inner.get(path, options)),
    post: async (path, body, options) => keep('POST', path, await inner.post(path, body, options)),
    put: async (path, body, options) => keep('PUT', path, await inner.put(path, body, options)),
    patch: async (path, body, options) => keep('PATCH', path, await inner.patch(path, body, options)),
    delete: async (path, options) => keep('DELETE', path, await inner.delete(path, options)),
  };
}

/** A new user of the org, with this role and a client tapped into `sink`. */
export async function tappedUser(app: TestApp, org: OrgFixture, role: 'admin' | 'agent' | 'auditor', sink: ResponseSink): Promise<{ id: string; client: Client }> {
  const created = await createUser(app, org, role);
  return { id: created.id, client: tappedClient(app.url, created.token, sink) };
}

/**
 * POSTs a mint request as `as` with a fresh X-Request-Id (`label`-…), the id the spec then finds the
 * request's audit entry by.
 */
export async function postMint(as: Client, path: string, body: unknown, label: string): Promise<{ response: HttpResult; requestId: string }> {
  const requestId = newRequestId(label);
  const response = await as.post(path, body, { headers: { 'x-request-id': requestId } });
  return { response, requestId };
}

/**
 * Reads every page a reader can see of the org's audit (config events, mint entries, the ndjson export)
 * through `reader`, so a tapped reader puts them all in its sink for the secret scans.
 */
export async function readWholeAudit(reader: Client): Promise<void> {
  for (const path of ['/api/audit/events', '/api/audit/mints']) await allAuditPages(reader, path);
  const exported = await reader.get('/api/audit/mints/export?format=ndjson');
  if (exported.status !== 200) throw new Error(`audit export failed: ${exported.status} ${exported.text}`);
}

/** The Basic header values a provider call would carry for these credentials (they must never be shown either). */
export function basicForms(user: string, password: string): string[] {
  return [Buffer.from(`${user}:${password}`, 'utf8').toString('base64')];
}

export interface RecordingProxy {
  url: string;
  /** Bearer tokens of the requests that passed through, in order. */
  readonly bearers: string[];
  close(): Promise<void>;
}

/**
 * A transparent HTTP proxy on 127.0.0.1 in front of `target` (an http origin): it forwards every
 * request unchanged and answers with the upstream's answer, remembering the Bearer tokens it saw.
 */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const bearers: string[] = [];
  const server = createServer((req, res) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) bearers.push(bearer);
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bearers,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
