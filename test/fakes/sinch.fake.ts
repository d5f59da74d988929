import { randomBytes, randomUUID } from 'node:crypto';
import { basicCredentials, bearerToken, FakeReply, FakeRequestContext, FakeServer, startFakeHttpServer } from './fake-http-server';

/**
 * Plays Sinch's OAuth2 token endpoint and the Elastic SIP Trunking API on one server:
 * - `POST /oauth2/token`: Basic keyId:keySecret, form `grant_type=client_credentials` →
 *   `{access_token, expires_in, scope: "", token_type: "bearer"}`; RFC 6749 errors `{error, error_description}`
 *   (401 `invalid_client`, 400 `invalid_request` / `unsupported_grant_type`).
 * - `GET /v1/projects/{projectId}/phoneNumbers/{e164}`, `GET /v1/projects/{projectId}/phoneNumbers?sipTrunkId&page&size`
 *   (`{totalItems, pageNumber, size, phoneNumbers}`, size 1–500, default 500) and
 *   `GET /v1/projects/{projectId}/trunks/{sipTrunkId}`, each with a bearer from the token endpoint;
 *   errors are EST's `{code, status, message, details}` (401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
 *   404 NOT_FOUND, 400 INVALID_ARGUMENT).
 */
export interface SinchFakeOptions {
  projectId?: string;
  keyId?: string;
  keySecret?: string;
  /** Seconds. Default 3600. */
  expiresIn?: number;
  trunks?: SinchFakeTrunk[];
  numbers?: SinchFakeNumber[];
}

export interface SinchFakeTrunk {
  id: string;
  name: string;
  hostName: string;
}

export interface SinchFakeNumber {
  phoneNumber: string;
  /** Empty or absent: an EST number not assigned to any trunk. */
  sipTrunkId?: string;
}

export interface SinchFake extends FakeServer {
  /** For SINCH_AUTH_URL. */
  authUrl: string;
  /** For SINCH_EST_URL. */
  estUrl: string;
  projectId: string;
  keyId: string;
  keySecret: string;
  trunks: SinchFakeTrunk[];
  numbers: SinchFakeNumber[];
  /** Access tokens issued so far. */
  tokensIssued(): number;
  /** Makes every access token issued so far invalid, as if they had expired upstream. */
  revokeTokens(): void;
  setExpiresIn(seconds: number): void;
}

const TOKEN_PATH = '/oauth2/token';
const CREATED = '2026-01-01T00:00:00Z';

export async function startSinchFake(options: SinchFakeOptions = {}): Promise<SinchFake> {
  const projectId = options.projectId ?? randomUUID();
  const keyId = options.keyId ?? randomUUID();
  const keySecret = options.keySecret ?? randomBytes(18).toString('base64url');
  const trunks = options.trunks ?? [];
  const numbers = options.numbers ?? [];
  let expiresIn = options.expiresIn ?? 3600;
  const validTokens = new Set<string>();
  let issued = 0;

  const server = await startFakeHttpServer({
    failureReply: (mode, path) => {
      const oauth = path.startsWith(TOKEN_PATH);
      if (mode === 'server-error') {
        return oauth
          ? { status: 500, body: { error: 'server_error', error_description: 'The server encountered an unexpected condition' } }
          : estError(500, 'INTERNAL', 'Internal error.');
      }
      if (mode === 'forbidden') {
        return oauth ? { status: 403, body: { error: 'access_denied' } } : estError(403, 'PERMISSION_DENIED', 'Permission denied.');
      }
      return oauth
        ? { status: 401, body: { error: 'invalid_client', error_description: 'Bad client credentials' } }
        : estError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    },
    handle: (context) => (context.url.pathname === TOKEN_PATH ? token(context) : est(context)),
  });

  function token({ req, rawBody, record }: FakeRequestContext): FakeReply {
    if (req.method !== 'POST') return { status: 405, body: { error: 'invalid_request' } };
    const credentials = basicCredentials(req.headers.authorization);
    record.authorized = credentials?.user === keyId && credentials.password === keySecret;
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      return { status: 400, body: { error: 'invalid_request', error_description: 'Expected a form body' } };
    }
    const grantType = new URLSearchParams(rawBody).get('grant_type');
    // Only the grant type is recorded: the form holds nothing secret, but keep the record minimal.
    record.body = { grant_type: grantType };
    if (!record.authorized) return { status: 401, body: { error: 'invalid_client', error_description: 'Bad client credentials' } };
    if (grantType !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
    const accessToken = randomBytes(32).toString('base64url');
    validTokens.add(accessToken);
    issued += 1;
    return { status: 200, body: { access_token: accessToken, expires_in: expiresIn, scope: '', token_type: 'bearer' } };
  }

  function est({ req, url, record }: FakeRequestContext): FakeReply {
    const match = /^\/v1\/projects\/([^/]+)\/(phoneNumbers|trunks)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match || req.method !== 'GET') return estError(404, 'NOT_FOUND', 'Not found.');
    const bearer = bearerToken(req.headers.authorization);
    record.authorized = bearer !== undefined && validTokens.has(bearer);
    if (!record.authorized) return estError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
    const [, project, collection, rawId] = match;
    if (decodeURIComponent(project) !== projectId) return estError(403, 'PERMISSION_DENIED', 'Permission denied for project.');
    const id = rawId === undefined ? undefined : decodeURIComponent(rawId);

    if (collection === 'trunks') {
      const trunk = trunks.find((t) => t.id === id);
      return trunk && id !== undefined ? { status: 200, body: trunkResource(trunk, projectId) } : estError(404, 'NOT_FOUND', 'SIP trunk not found.');
    }
    if (id !== undefined) {
      const number = numbers.find((n) => n.phoneNumber === id);
      return number ? { status: 200, body: numberResource(number) } : estError(404, 'NOT_FOUND', 'Phone number not found.');
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    const size = Number(url.searchParams.get('size') ?? '500');
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 500) {
      return estError(400, 'INVALID_ARGUMENT', 'Invalid paging parameters.');
    }
    const trunkFilter = url.searchParams.get('sipTrunkId');
    const matching = numbers.filter((n) => trunkFilter === null || n.sipTrunkId === trunkFilter);
    return {
      status: 200,
      body: {
        totalItems: matching.length,
        pageNumber: String(page),
        size,
        phoneNumbers: matching.slice((page - 1) * size, page * size).map(numberResource),
      },
    };
  }

  return Object.assign(server, {
    authUrl: `${server.url}${TOKEN_PATH}`,
    estUrl: server.url,
    projectId,
    keyId,
    keySecret,
    trunks,
    numbers,
    tokensIssued: () => issued,
    revokeTokens: () => validTokens.clear(),
    setExpiresIn: (seconds: number) => {
      expiresIn = seconds;
    },
  });
}

function estError(code: number, status: string, message: string): FakeReply {
  return { status: code, body: { code, status, message, details: [] } };
}

function numberResource(number: SinchFakeNumber): Record<string, unknown> {
  return {
    id: `num_${Buffer.from(number.phoneNumber).toString('hex')}`,
    sipTrunkId: number.sipTrunkId ?? '',
    phoneNumber: number.phoneNumber,
    countryCode: number.phoneNumber.startsWith('+1') ? 'US' : 'ZZ',
    createTime: CREATED,
    updateTime: CREATED,
  };
}

function trunkResource(trunk: SinchFakeTrunk, projectId: string): Record<string, unknown> {
  return {
    id: trunk.id,
    hostName: trunk.hostName,
    topLevelDomain: '.elastic-sip.sinch.com',
    domain: `${trunk.hostName}.elastic-sip.sinch.com`,
    name: trunk.name,
    callsPerSecond: 1,
    enableCallerName: false,
    callForwardNumber: '',
    enableCallForward: false,
    createTime: CREATED,
    updateTime: CREATED,
    projectId,
  };
}
