import { createServer } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Server } from 'node:net';
import type { OutboundLookup } from '@mintline/common/dns-lookup';
import { FakeServer, startFakeHttpServer } from '../../../../test/fakes/fake-http-server';
import { providerTestConfig } from '../../../../test/fakes/provider-test-config';
import { ProviderHttpClient } from './provider-http.client';
import { ProviderHttpError } from './provider-http.error';

describe('ProviderHttpClient', () => {
  let fake: FakeServer;
  let client: ProviderHttpClient;

  beforeAll(async () => {
    fake = await startFakeHttpServer({
      handle: ({ url, rawBody, record }) => {
        record.body = rawBody;
        if (url.pathname === '/text') return { status: 200, headers: { 'content-type': 'text/plain' }, body: 'plain words' };
        if (url.pathname === '/empty') return { status: 204 };
        return { status: 200, body: { ok: true, path: url.pathname } };
      },
      failureReply: (mode) => ({ status: mode === 'server-error' ? 500 : mode === 'forbidden' ? 403 : 401, body: { error: mode } }),
    });
    client = new ProviderHttpClient(providerTestConfig(), { timeoutMs: 400 });
  });

  afterEach(() => fake.reset());

  afterAll(async () => {
    await client.close();
    await fake.close();
  });

  async function failure(promise: Promise<unknown>): Promise<ProviderHttpError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProviderHttpError);
    return error as ProviderHttpError;
  }

  it('returns status, lower-case headers and parsed JSON', async () => {
    const response = await client.request({ method: 'GET', url: `${fake.url}/thing?x=1` });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json).toEqual({ ok: true, path: '/thing' });
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/thing', query: { x: '1' } });
  });

  it('returns text without json for non-JSON and empty bodies', async () => {
    const text = await client.request({ method: 'GET', url: `${fake.url}/text` });
    expect(text).toMatchObject({ status: 200, text: 'plain words', json: undefined });
    const empty = await client.request({ method: 'GET', url: `${fake.url}/empty` });
    expect(empty).toMatchObject({ status: 204, text: '', json: undefined });
  });

  it('sends JSON and form bodies with their content types', async () => {
    await client.request({ method: 'POST', url: `${fake.url}/json`, json: { a: 1 } });
    await client.request({ method: 'POST', url: `${fake.url}/form`, form: { grant_type: 'client_credentials' } });
    expect(fake.requests[0]).toMatchObject({ contentType: 'application/json', body: '{"a":1}' });
    expect(fake.requests[1]).toMatchObject({
      contentType: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials',
    });
  });

  it('reuses a keep-alive connection per origin', async () => {
    const fresh = new ProviderHttpClient(providerTestConfig());
    try {
      for (const path of ['/a', '/b', '/c']) {
        await fresh.request({ method: 'GET', url: `${fake.url}${path}` });
        // undici frees the socket for the next request a tick after the body ends.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      await fresh.close();
    }
    const connections = new Set(fake.requests.map((r) => r.connection));
    expect(connections.size).toBe(1);
  });

  it('hands 4xx and 5xx answers back to the caller', async () => {
    fake.failNext('server-error');
    fake.failNext('unauthorized');
    expect((await client.request({ method: 'GET', url: fake.url })).status).toBe(500);
    expect((await client.request({ method: 'GET', url: fake.url })).status).toBe(401);
  });

  it('refuses http URLs before any request unless insecure URLs are allowed', async () => {
    const strict = new ProviderHttpClient(providerTestConfig({ allowInsecureProviderUrls: false }));
    try {
      const error = await failure(strict.request({ method: 'GET', url: `${fake.url}/x` }));
      expect(error.kind).toBe('insecure_url');
      expect(error.message).toMatch(/must use https/);
      expect(fake.count()).toBe(0);
    } finally {
      await strict.close();
    }
  });

  describe("public addresses only (unless the URL is the operator's or insecure URLs are allowed)", () => {
    let listener: Server;
    let port: number;
    let connections = 0;
    const asked: string[] = [];
    /** space.example.com resolves to the loopback listener; any other name does not exist. */
    const lookup: OutboundLookup = (hostname, options, callback) => {
      asked.push(hostname);
      if (hostname !== 'space.example.com') return callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }), [], undefined);
      return options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
    };

    beforeAll(async () => {
      listener = createTcpServer((socket) => {
        connections += 1;
        socket.on('error', () => undefined);
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      port = (listener.address() as AddressInfo).port;
    });

    beforeEach(() => {
      connections = 0;
      asked.length = 0;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    });

    async function withClient(allowInsecureProviderUrls: boolean, use: (client: ProviderHttpClient) => Promise<void>): Promise<void> {
      const guarded = new ProviderHttpClient(providerTestConfig({ allowInsecureProviderUrls }), { timeoutMs: 1000 }, lookup);
      try {
        await use(guarded);
      } finally {
        await guarded.close();
      }
    }

    it('refuses an inward address literal before connecting, and a name that resolves inward at connection time', async () => {
      await withClient(false, async (guarded) => {
        for (const url of [`https://127.0.0.1:${port}/x`, `https://[::ffff:7f00:1]:${port}/x`, `https://localhost:${port}/x`]) {
          const error = await failure(guarded.request({ method: 'POST', url, headers: { authorization: 'Basic c2VjcmV0' } }));
          expect(error.kind).toBe('non_public_address');
        }
        expect(asked).toEqual([]);
        const resolved = await failure(guarded.request({ method: 'POST', url: `https://space.example.com:${port}/x` }));
        expect(resolved.kind).toBe('non_public_address');
        expect(resolved.message).not.toContain('127.0.0.1');
        expect(asked).toEqual(['space.example.com']);
      });
      expect(connections).toBe(0);
    });

    it('checks again for every new connection, not once per origin', async () => {
      await withClient(false, async (guarded) => {
        for (let i = 0; i < 3; i += 1) {
          expect((await failure(guarded.request({ method: 'GET', url: `https://space.example.com:${port}/` }))).kind).toBe('non_public_address');
        }
      });
      expect(asked).toEqual(['space.example.com', 'space.example.com', 'space.example.com']);
      expect(connections).toBe(0);
    });

    it('connects for an operator URL (same lookup), and for any URL when insecure URLs are allowed', async () => {
      await withClient(false, async (guarded) => {
        const error = await failure(guarded.request({ method: 'GET', url: `https://space.example.com:${port}/`, operatorUrl: true }));
        expect(error.kind).toBe('connection');
      });
      expect(connections).toBe(1);
      await withClient(true, async (lenient) => {
        expect((await failure(lenient.request({ method: 'GET', url: `https://space.example.com:${port}/` }))).kind).toBe('connection');
        expect((await failure(lenient.request({ method: 'GET', url: `https://127.0.0.1:${port}/` }))).kind).toBe('connection');
      });
      expect(connections).toBe(3);
    });
  });

  it('refuses unparsable URLs, other schemes and URLs with embedded credentials', async () => {
    expect((await failure(client.request({ method: 'GET', url: 'not a url' }))).kind).toBe('invalid_url');
    expect((await failure(client.request({ method: 'GET', url: 'ftp://127.0.0.1/x' }))).kind).toBe('invalid_url');
    const withUser = await failure(client.request({ method: 'GET', url: `http://user:s3cret@127.0.0.1:1/x` }));
    expect(withUser.kind).toBe('invalid_url');
    expect(withUser.message).not.toContain('s3cret');
  });

  it('does not follow redirects', async () => {
    fake.failNext('redirect');
    const error = await failure(client.request({ method: 'GET', url: `${fake.url}/start` }));
    expect(error.kind).toBe('redirect');
    expect(error.details.status).toBe(302);
    expect(fake.count()).toBe(1);
    expect(fake.count('/redirected')).toBe(0);
  });

  it('refuses a body over the cap, declared or streamed', async () => {
    fake.failNext('oversize');
    expect((await failure(client.request({ method: 'GET', url: fake.url }))).kind).toBe('too_large');
    fake.failNext('oversize-chunked');
    expect((await failure(client.request({ method: 'GET', url: fake.url }))).kind).toBe('too_large');
    // The cap is configurable per request.
    fake.failNext('oversize');
    const big = await client.request({ method: 'GET', url: fake.url, maxResponseBytes: 1024 * 1024 });
    expect(big.status).toBe(200);
  });

  it('reports invalid JSON with the status it came with', async () => {
    fake.failNext('invalid-json');
    const error = await failure(client.request({ method: 'GET', url: fake.url }));
    expect(error.kind).toBe('invalid_json');
    expect(error.details.status).toBe(200);
  });

  it('times out a hanging upstream within the request timeout', async () => {
    fake.failNext('hang');
    const started = Date.now();
    const error = await failure(client.request({ method: 'GET', url: fake.url, timeoutMs: 250 }));
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2000);
    // The pool still works afterwards.
    expect((await client.request({ method: 'GET', url: fake.url })).status).toBe(200);
  });

  it('times out a body that starts but never finishes', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const error = await failure(client.request({ method: 'GET', url: `http://127.0.0.1:${port}/`, timeoutMs: 250 }));
      expect(error.kind).toBe('timeout');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('reports a reset connection', async () => {
    fake.failNext('reset');
    const error = await failure(client.request({ method: 'POST', url: fake.url, json: { secret: 'body-secret' } }));
    expect(error.kind).toBe('connection');
    expect(error.message).not.toContain('body-secret');
  });

  it('reports a refused connection', async () => {
    const closed = await startFakeHttpServer({ handle: () => ({ status: 200 }), failureReply: () => ({ status: 500 }) });
    const url = closed.url;
    await closed.close();
    const error = await failure(client.request({ method: 'GET', url }));
    expect(error.kind).toBe('connection');
    expect(error.details.code).toBe('ECONNREFUSED');
  });

  it('never puts the Authorization header, the body or the query string in errors', async () => {
    fake.failNext('hang');
    const error = await failure(
      client.request({
        method: 'POST',
        url: `${fake.url}/path?token=query-secret`,
        headers: { Authorization: 'Basic aGVhZGVyLXNlY3JldA==' },
        json: { apiToken: 'body-secret' },
        timeoutMs: 100,
      }),
    );
    const everything = `${error.message} ${JSON.stringify(error.details)} ${String(error.stack)}`;
    for (const secret of ['query-secret', 'aGVhZGVyLXNlY3JldA', 'body-secret']) expect(everything).not.toContain(secret);
    expect(error.details.target).toBe(`${fake.url}/path`);
  });

  it('refuses requests after close()', async () => {
    const closing = new ProviderHttpClient(providerTestConfig());
    await closing.request({ method: 'GET', url: fake.url });
    await closing.close();
    expect((await failure(closing.request({ method: 'GET', url: fake.url }))).kind).toBe('connection');
  });
});
