import { randomBytes, randomUUID } from 'node:crypto';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';
import type { OutboundLookup } from '../libs/common/src/dns-lookup';
import { expectError, expectStatus, expectValidation } from './support/assertions';
import { createOrgWithAdmin, OrgFixture } from './support/fixtures';
import { client, Client } from './support/http';
import { startTestApp, TestApp } from './support/test-app';

/**
 * Tenant-supplied URLs (API.md, "Outbound addresses"), seen from outside: the service runs WITHOUT
 * ALLOW_INSECURE_PROVIDER_URLS next to a loopback TCP listener that counts every connection it gets.
 * Inward URLs are refused when stored, in every spelling; a stored public name that later resolves to
 * 127.0.0.1 (through the injected DNS lookup) gets no connection; a second instance on the same
 * database with insecure URLs allowed shows the listener would have seen one. Upstream error bodies
 * and socket error codes never reach the caller.
 */

const PUBLIC_LOOKING_NAME = 'space.example.com';
const CHAT_BODY = { ttl: 10, channels: { lobby: { read: true, write: true } } };
const MARKER = `upstream-marker-${randomBytes(6).toString('hex')}`;
/** Low-level codes that would tell a refused port from a reset one, or a missing name from a dead host. */
const SOCKET_CODES = /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|UND_ERR|ERR_OUTBOUND|\bE[A-Z]{4,}\b/;

/** Resolves the names this test controls; any other name does not exist. Records every name asked for. */
function testLookup(table: Map<string, string>, asked: string[]): OutboundLookup {
  return (hostname: string, options: LookupOptions, callback) => {
    asked.push(hostname);
    const address = table.get(hostname);
    if (address === undefined) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      setImmediate(() => callback(error, options.all ? [] : '', undefined));
      return;
    }
    const entry: LookupAddress = { address, family: address.includes(':') ? 6 : 4 };
    setImmediate(() => (options.all ? callback(null, [entry]) : callback(null, entry.address, entry.family)));
  };
}

interface CountingListener {
  port: number;
  connections: () => number;
  close(): Promise<void>;
}

/** A bare TCP listener on 127.0.0.1 that counts connections and hangs up on each. */
async function startCountingListener(): Promise<CountingListener> {
  let count = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    count += 1;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP upstream that answers every request with `reply`, or resets the connection. */
async function startUpstream(reply: 'reset' | ((path: string) => { status: number; body: string; type?: string })): Promise<{ url: string; close(): Promise<void> }> {
  const server: HttpServer = createHttpServer((req, res) => {
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    const { status, body, type } = reply(req.url ?? '/');
    req.resume();
    res.writeHead(status, { 'content-type': type ?? 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let listener: CountingListener;
const names = new Map<string, string>();
const asked: string[] = [];
let strict: TestApp;
let lenient: TestApp;
let org: OrgFixture;
/** The same org's admin on each instance (one database, one signing key). */
let strictAdmin: Client;
let lenientAdmin: Client;

const credentials = (spaceUrl: string) => ({ spaceUrl, projectId: randomUUID(), apiToken: `PT${randomBytes(24).toString('hex')}` });

async function verify(as: Client): Promise<{ ok: boolean; detail: string; text: string }> {
  const response = await as.post('/api/credentials/signalwire/verify');
  expectStatus(response, 200);
  expect(response.body).toStrictEqual({ ok: expect.any(Boolean), detail: expect.any(String) });
  return { ...(response.body as { ok: boolean; detail: string }), text: response.text };
}

/** Stores through the instance that allows anything, so a connection-time check can be seen on its own. */
async function storeAnyway(spaceUrl: string): Promise<void> {
  expectStatus(await lenientAdmin.put('/api/credentials/signalwire', credentials(spaceUrl)), 200);
}

beforeAll(async () => {
  listener = await startCountingListener();
  names.set(PUBLIC_LOOKING_NAME, '127.0.0.1');
  const dnsLookup = testLookup(names, asked);
  strict = await startTestApp({ dnsLookup, config: { allowInsecureProviderUrls: false } });
  lenient = await startTestApp({
    db: strict.db,
    dnsLookup,
    config: { allowInsecureProviderUrls: true, masterKeys: strict.config.masterKeys, jwtSecret: strict.config.jwtSecret },
  });
  org = await createOrgWithAdmin(strict, 'Outbound Co');
  strictAdmin = org.admin;
  // The admin's token holds on both instances: they share the database and the JWT secret.
  lenientAdmin = client(lenient.url, org.adminToken);
});

afterAll(async () => {
  await lenient?.close();
  await strict?.close();
  await listener?.close();
});

describe('refused when stored, in every spelling (400 VALIDATION_FAILED naming spaceUrl, nothing stored)', () => {
  const spellings = (port: number): Array<[string, string]> => [
    ['decimal IPv4', `https://2130706433:${port}`],
    ['shortened IPv4', `https://127.1:${port}`],
    ['octal IPv4', `https://0177.0.0.1:${port}`],
    ['hex IPv4', `https://0x7f000001:${port}`],
    ['dotted loopback', `https://127.0.0.1:${port}`],
    ['IPv6 loopback', `https://[::1]:${port}`],
    ['IPv4-mapped IPv6 loopback', `https://[::ffff:127.0.0.1]:${port}`],
    ['IPv4-mapped IPv6 in hex', `https://[::ffff:7f00:1]:${port}`],
    ['the unspecified address', `https://0.0.0.0:${port}`],
    ['localhost', `https://localhost:${port}`],
    ['a name under .localhost', `https://space.localhost:${port}`],
    ['localhost with a trailing dot', `https://LOCALHOST.:${port}`],
    ['cloud metadata (link-local)', 'https://169.254.169.254'],
    ['RFC 1918 10/8', 'https://10.0.0.1'],
    ['RFC 1918 192.168/16', 'https://192.168.1.1'],
    ['unique-local IPv6', 'https://[fd00::1]'],
    ['carrier-grade NAT', 'https://100.100.100.200'],
    ['the GCE metadata name', 'https://metadata.google.internal'],
    ['a single-label name', `https://intranet:${port}`],
    ['a multicast address', 'https://224.0.0.1'],
    ['credentials in the URL', `https://user:pass@${PUBLIC_LOOKING_NAME}`],
    ['plain http', `http://${PUBLIC_LOOKING_NAME}`],
  ];

  it('refuses each one and stores nothing; no connection and no lookup is made', async () => {
    const fresh = await createOrgWithAdmin(strict, 'Spellings Co');
    const lookupsBefore = asked.length;
    for (const [label, spaceUrl] of spellings(listener.port)) {
      const response = await fresh.admin.put('/api/credentials/signalwire', credentials(spaceUrl));
      const body = expectValidation(response, 'spaceUrl');
      expect({ label, fields: body.details?.map((detail) => detail.field) }).toEqual({ label, fields: ['spaceUrl'] });
      expectError(await fresh.admin.get('/api/credentials/signalwire'), 404, 'NOT_CONFIGURED');
    }
    expect(listener.connections()).toBe(0);
    expect(asked.length).toBe(lookupsBefore);
  });

  it('accepts a public name, and a public address', async () => {
    const fresh = await createOrgWithAdmin(strict, 'Public Co');
    for (const spaceUrl of [`https://${PUBLIC_LOOKING_NAME}:${listener.port}`, 'https://8.8.8.8', 'https://[2001:4860:4860::8888]']) {
      const response = await fresh.admin.put('/api/credentials/signalwire', credentials(spaceUrl));
      expectStatus(response, 200);
      expect(response.body.fields.spaceUrl).toBe(spaceUrl);
    }
  });
});

describe('checked again on the resolved address at every connection', () => {
  it('a stored public name that resolves to 127.0.0.1: verify ok false and chat 502 PROVIDER_ERROR, with no connection', async () => {
    const spaceUrl = `https://${PUBLIC_LOOKING_NAME}:${listener.port}`;
    expectStatus(await strictAdmin.put('/api/credentials/signalwire', credentials(spaceUrl)), 200);
    const lookupsBefore = asked.length;

    const verified = await verify(strictAdmin);
    expect(verified.ok).toBe(false);
    expect(verified.detail).toMatch(/public address/);
    const chat = await strictAdmin.post('/api/chat/tokens', CHAT_BODY);
    const error = expectError(chat, 502, 'PROVIDER_ERROR');

    for (const text of [verified.text, chat.text]) {
      expect(text).not.toContain('127.0.0.1');
      expect(text).not.toMatch(SOCKET_CODES);
    }
    expect(error.error).toMatch(/public address/);
    // The name was looked up (at connection time) and nothing reached the listener.
    expect(asked.slice(lookupsBefore)).toEqual(expect.arrayContaining([PUBLIC_LOOKING_NAME]));
    expect(listener.connections()).toBe(0);
  });

  it('an inward address stored before the rule (here: through the lenient instance) is refused before connecting', async () => {
    for (const spaceUrl of [`https://127.0.0.1:${listener.port}`, `https://[::ffff:127.0.0.1]:${listener.port}`]) {
      await storeAnyway(spaceUrl);
      expect((await verify(strictAdmin)).ok).toBe(false);
      expectError(await strictAdmin.post('/api/chat/tokens', CHAT_BODY), 502, 'PROVIDER_ERROR');
    }
    expect(listener.connections()).toBe(0);
  });

  it('positive control: with ALLOW_INSECURE_PROVIDER_URLS=true the same stored name does reach the listener', async () => {
    await storeAnyway(`https://${PUBLIC_LOOKING_NAME}:${listener.port}`);
    const before = listener.connections();
    const verified = await verify(lenientAdmin);
    expect(verified.ok).toBe(false);
    expect(listener.connections()).toBeGreaterThan(before);
    // The listener hung up mid-handshake; how is not told.
    expect(verified.text).not.toMatch(SOCKET_CODES);
  });
});

describe('upstream bodies and socket error codes are never passed back', () => {
  const upstreams: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(upstreams.map((upstream) => upstream.close()));
  });

  async function upstream(reply: Parameters<typeof startUpstream>[0]): Promise<string> {
    const started = await startUpstream(reply);
    upstreams.push(started);
    return started.url;
  }

  it.each([
    ['422 with SignalWire-shaped errors', 422, JSON.stringify({ errors: [{ type: 'validation_error', code: MARKER, message: MARKER, attribute: MARKER, url: MARKER }] })],
    ['400 with a JSON error', 400, JSON.stringify({ error: MARKER })],
    ['404 with a text body', 404, `not here: ${MARKER}`],
    ['500 with a JSON error', 500, JSON.stringify({ error: MARKER })],
    ['200 without a token', 200, JSON.stringify({ note: MARKER })],
    ['401 with a JSON error', 401, JSON.stringify({ error: MARKER })],
  ])('an upstream answering %s: neither chat nor verify repeats its body', async (_label, status, body) => {
    const url = await upstream(() => ({ status, body, type: body.startsWith('{') ? 'application/json' : 'text/plain' }));
    await storeAnyway(url);
    const chat = await lenientAdmin.post('/api/chat/tokens', CHAT_BODY);
    expect(chat.status).toBe(502);
    expect(chat.text).not.toContain(MARKER);
    const verified = await verify(lenientAdmin);
    expect(verified.text).not.toContain(MARKER);
  });

  it('an upstream that resets the connection and a port that refuses it answer alike, without socket codes', async () => {
    const reset = await upstream('reset');
    const refused = `http://127.0.0.1:${await closedPort()}`;
    const answers: Record<string, { chat: string; verify: string }> = {};
    for (const [label, url] of [
      ['reset', reset],
      ['refused', refused],
    ] as const) {
      await storeAnyway(url);
      const chat = await lenientAdmin.post('/api/chat/tokens', CHAT_BODY);
      const error = expectError(chat, 502, 'PROVIDER_UNAVAILABLE');
      const verified = await verify(lenientAdmin);
      expect(verified.ok).toBe(false);
      for (const text of [chat.text, verified.text]) expect(text).not.toMatch(SOCKET_CODES);
      answers[label] = { chat: error.error, verify: verified.detail };
    }
    // Not even the wording tells them apart.
    expect(answers.reset).toEqual(answers.refused);
  });
});
