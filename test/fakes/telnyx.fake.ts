import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { bearerToken, FakeReply, FakeRequestContext, FakeServer, startFakeHttpServer } from './fake-http-server';

/**
 * Plays the Telnyx API v2 by its documented contract (developers.telnyx.com, "Credentials", "Access
 * Tokens", "Billing"; errors as `{"errors":[{code, title, detail, meta: {url}, source?}]}`):
 * - `POST /v2/telephony_credentials` `{connection_id, name?, tag?, expires_at?}` → 201 `{data: {id,
 *   record_type: "credential", name, tag, sip_username: "gencred…", sip_password, resource_id, …}}`;
 *   a missing connection_id → 422 (10004), one the account does not have → 422 (10013);
 * - `POST /v2/telephony_credentials/{id}/token` → 201 the JWT as text/plain; an unknown id → 404 (10005);
 * - `GET /v2/balance` → 200 `{data: {record_type: "balance", balance, credit_limit, available_credit, pending, currency}}`;
 * - a missing or wrong Bearer key → 401 (10009), anywhere; other paths → 404 (10005).
 * It can forget a credential (Telnyx answers 404 for it afterwards) and hold creations for a while, so
 * that concurrent first mints overlap.
 */
export interface TelnyxFakeOptions {
  apiKey?: string;
  connectionId?: string;
}

export interface TelnyxFakeCredential {
  id: string;
  connectionId: string;
  name: string | undefined;
  tag: string | undefined;
  sipUsername: string;
  sipPassword: string;
}

export interface TelnyxFake extends FakeServer {
  apiKey: string;
  connectionId: string;
  /** Every credential created since start or the last `reset()`, forgotten ones included (`reset` forgets no credential: Telnyx keeps them). */
  readonly created: TelnyxFakeCredential[];
  /** Tokens issued, with the credential each was for. */
  readonly tokens: Array<{ credentialId: string; token: string }>;
  /** Telnyx no longer knows this credential (deleted in the portal, expired): its token requests get 404. */
  forget(credentialId: string): void;
  /** Every credential created from now on is forgotten at once (each token request for it gets 404). */
  forgetEveryNewCredential(forget: boolean): void;
  /** Creations wait this long before answering (0 by default). */
  setCreateDelay(ms: number): void;
  /** The same secret Telnyx would sign with: whether `token` is one this fake issued for `credentialId`. */
  issuedFor(token: string): string | undefined;
}

const ERROR_DOCS = 'https://developers.telnyx.com/docs/overview/errors';

const ERRORS = {
  missingParameter: { status: 422, code: '10004', title: 'Missing required parameter', detail: 'A required parameter was missing.' },
  notFound: { status: 404, code: '10005', title: 'Resource not found', detail: 'The requested resource or URL could not be found.' },
  unexpected: { status: 500, code: '10007', title: 'Unexpected error', detail: 'An unexpected error occured.' },
  authentication: {
    status: 401,
    code: '10009',
    title: 'Authentication failed',
    detail: 'The required authentication headers were either invalid or not included in the request.',
  },
  authorization: {
    status: 403,
    code: '10010',
    title: 'Authorization failed',
    detail: 'You do not have permission to perform the requested action on the specified resource or resources.',
  },
  missingAssociation: { status: 422, code: '10013', title: 'Missing association', detail: 'One of the associated fields does not exist.' },
  badRequest: { status: 400, code: '10015', title: 'Bad Request', detail: 'The request failed because it was not well-formed.' },
} as const;

type TelnyxError = (typeof ERRORS)[keyof typeof ERRORS];

function errorReply(error: TelnyxError, pointer?: string): FakeReply {
  return {
    status: error.status,
    body: {
      errors: [{ code: error.code, title: error.title, detail: error.detail, meta: { url: `${ERROR_DOCS}/${error.code}` }, ...(pointer ? { source: { pointer } } : {}) }],
    },
  };
}

export async function startTelnyxFake(options: TelnyxFakeOptions = {}): Promise<TelnyxFake> {
  const apiKey = options.apiKey ?? `KEY${randomBytes(16).toString('hex').toUpperCase()}_${randomBytes(12).toString('base64url')}`;
  const connectionId = options.connectionId ?? String(1_000_000_000_000_000_000n + BigInt(randomBytes(6).readUIntBE(0, 6)));
  const signingSecret = randomBytes(32);
  const created: TelnyxFakeCredential[] = [];
  const tokens: Array<{ credentialId: string; token: string }> = [];
  const known = new Set<string>();
  let forgetNew = false;
  let createDelayMs = 0;

  const server = await startFakeHttpServer({
    failureReply: (mode) => errorReply(mode === 'server-error' ? ERRORS.unexpected : mode === 'forbidden' ? ERRORS.authorization : ERRORS.authentication),
    handle: (context) => handle(context),
  });

  async function handle({ req, url, rawBody, record }: FakeRequestContext): Promise<FakeReply> {
    record.authorized = bearerToken(req.headers.authorization) === apiKey;
    if (!record.authorized) return errorReply(ERRORS.authentication);

    if (req.method === 'GET' && url.pathname === '/v2/balance') {
      return {
        status: 200,
        body: { data: { record_type: 'balance', pending: '0.00', balance: '300.00', credit_limit: '100.00', available_credit: '400.00', currency: 'USD' } },
      };
    }
    if (req.method === 'POST' && url.pathname === '/v2/telephony_credentials') {
      return createCredential(rawBody, record);
    }
    const tokenPath = /^\/v2\/telephony_credentials\/([^/]+)\/token$/.exec(url.pathname);
    if (req.method === 'POST' && tokenPath) {
      const id = decodeURIComponent(tokenPath[1]);
      if (!known.has(id)) return errorReply(ERRORS.notFound);
      const token = telnyxJwt(id, signingSecret);
      tokens.push({ credentialId: id, token });
      return { status: 201, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: token };
    }
    return errorReply(ERRORS.notFound);
  }

  async function createCredential(rawBody: string, record: FakeRequestContext['record']): Promise<FakeReply> {
    let body: unknown;
    try {
      body = JSON.parse(rawBody) as unknown;
    } catch {
      return errorReply(ERRORS.badRequest);
    }
    record.body = body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return errorReply(ERRORS.badRequest);
    const { connection_id: connection, name, tag } = body as Record<string, unknown>;
    if (connection === undefined || connection === null || connection === '') return errorReply(ERRORS.missingParameter, '/connection_id');
    if (connection !== connectionId) return errorReply(ERRORS.missingAssociation, '/connection_id');
    if (createDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, createDelayMs));

    const now = new Date().toISOString();
    const credential: TelnyxFakeCredential = {
      id: randomUUID(),
      connectionId,
      name: typeof name === 'string' ? name : undefined,
      tag: typeof tag === 'string' ? tag : undefined,
      sipUsername: `gencred${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x')}`,
      sipPassword: randomBytes(16).toString('hex'),
    };
    created.push(credential);
    if (!forgetNew) known.add(credential.id);
    return {
      status: 201,
      body: {
        data: {
          id: credential.id,
          record_type: 'credential',
          name: credential.name ?? now,
          tag: credential.tag ?? null,
          expired: false,
          user_id: 'user-id',
          resource_id: `connection:${connectionId}`,
          sip_username: credential.sipUsername,
          sip_password: credential.sipPassword,
          created_at: now,
          expires_at: null,
          updated_at: now,
        },
      },
    };
  }

  const resetServer = server.reset.bind(server);
  return Object.assign(server, {
    apiKey,
    connectionId,
    created,
    tokens,
    forget(credentialId: string) {
      known.delete(credentialId);
    },
    forgetEveryNewCredential(forget: boolean) {
      forgetNew = forget;
    },
    setCreateDelay(ms: number) {
      createDelayMs = ms;
    },
    issuedFor(token: string) {
      return tokens.find((issued) => issued.token === token)?.credentialId;
    },
    reset() {
      resetServer();
      created.length = 0;
      tokens.length = 0;
      forgetNew = false;
      createDelayMs = 0;
    },
  });
}

/** Shaped like Telnyx's documented example (HS512; aud/iss telnyx_telephony, sub the credential, typ access, 24 h). */
function telnyxJwt(credentialId: string, secret: Buffer): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'HS512', typ: 'JWT' })}.${encode({
    aud: 'telnyx_telephony',
    exp: now + 86_400,
    iat: now,
    iss: 'telnyx_telephony',
    jti: randomUUID(),
    nbf: now - 1,
    sub: credentialId,
    tel_token: randomBytes(48).toString('base64url'),
    typ: 'access',
  })}`;
  return `${input}.${createHmac('sha512', secret).update(input).digest('base64url')}`;
}
