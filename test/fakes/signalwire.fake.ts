import { randomBytes, randomUUID } from 'node:crypto';
import { basicCredentials, FakeReply, FakeRequestContext, FakeServer, startFakeHttpServer } from './fake-http-server';

/**
 * Plays a SignalWire space's Chat API (`POST /api/chat/tokens`, Basic projectId:apiToken) by its
 * documented contract: 401 `{"error":"Unauthorized"}`, 400 `{"error":"Bad Request"}` for a body that is
 * not JSON, 422 `{"errors":[{type, code, message, attribute, url}]}` for invalid fields (authentication
 * is checked first), 200 `{"token": "<JWT>"}`, and 404 `{"error":"Not Found"}` elsewhere.
 */
export interface SignalWireFakeOptions {
  projectId?: string;
  apiToken?: string;
}

export interface IssuedChatToken {
  token: string;
  ttl: number;
  memberId: string;
  channels: Record<string, { read?: boolean; write?: boolean }>;
  state: unknown;
}

export interface SignalWireFake extends FakeServer {
  /** The space URL to store in the `signalwire` credentials. */
  spaceUrl: string;
  projectId: string;
  apiToken: string;
  /** Tokens issued since start or the last `reset()`. */
  readonly issued: IssuedChatToken[];
}

interface SignalWireError {
  type: 'validation_error';
  code: string;
  message: string;
  attribute: string;
  url: string;
}

const ERROR_DOCS = 'https://developer.signalwire.com/rest/signalwire-rest/overview/error-codes';

export async function startSignalWireFake(options: SignalWireFakeOptions = {}): Promise<SignalWireFake> {
  const projectId = options.projectId ?? randomUUID();
  const apiToken = options.apiToken ?? `PT${randomBytes(24).toString('hex')}`;
  const issued: IssuedChatToken[] = [];

  const server = await startFakeHttpServer({
    failureReply: (mode) =>
      mode === 'server-error'
        ? { status: 500, body: { error: 'Internal Server Error' } }
        : mode === 'forbidden'
          ? { status: 403, body: { error: 'Forbidden' } }
          : { status: 401, body: { error: 'Unauthorized' } },
    handle: (context) => handle(context),
  });

  function handle({ req, url, rawBody, record }: FakeRequestContext): FakeReply {
    if (url.pathname !== '/api/chat/tokens' || req.method !== 'POST') {
      return { status: 404, body: { error: 'Not Found' } };
    }
    const credentials = basicCredentials(req.headers.authorization);
    record.authorized = credentials?.user === projectId && credentials.password === apiToken;
    if (!record.authorized) return { status: 401, body: { error: 'Unauthorized' } };

    let body: unknown;
    try {
      body = rawBody.trim() === '' ? {} : (JSON.parse(rawBody) as unknown);
    } catch {
      return { status: 400, body: { error: 'Bad Request' } };
    }
    record.body = body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { status: 400, body: { error: 'Bad Request' } };
    }
    const errors = validate(body as Record<string, unknown>);
    if (errors.length > 0) return { status: 422, body: { errors } };

    const request = body as { ttl: number; channels: IssuedChatToken['channels']; member_id?: string; state?: unknown };
    const memberId = request.member_id ?? randomUUID();
    const token = chatJwt(request.ttl, request.channels, memberId, request.state ?? {});
    issued.push({ token, ttl: request.ttl, memberId, channels: request.channels, state: request.state ?? {} });
    return { status: 200, body: { token } };
  }

  const resetServer = server.reset.bind(server);
  return Object.assign(server, {
    spaceUrl: server.url,
    projectId,
    apiToken,
    issued,
    reset() {
      resetServer();
      issued.length = 0;
    },
  });
}

function validate(body: Record<string, unknown>): SignalWireError[] {
  const errors: SignalWireError[] = [];
  const fail = (attribute: string, code: string, message: string): void => {
    errors.push({ type: 'validation_error', code, message, attribute, url: `${ERROR_DOCS}#${code}` });
  };

  const { ttl, channels, member_id: memberId, state } = body;
  if (ttl === undefined || ttl === null) {
    fail('ttl', 'missing_required_parameter', 'A required parameter is missing from the request.');
  } else if (typeof ttl !== 'number' || !Number.isInteger(ttl)) {
    fail('ttl', 'invalid_parameter', 'must be an integer');
  } else if (ttl < 1) {
    fail('ttl', 'invalid_parameter', 'must be greater than or equal to 1');
  } else if (ttl > 43_200) {
    fail('ttl', 'invalid_parameter', 'must be less than or equal to 43200');
  }

  if (channels === undefined || channels === null) {
    fail('channels', 'missing_required_parameter', 'A required parameter is missing from the request.');
  } else if (typeof channels !== 'object' || Array.isArray(channels)) {
    fail('channels', 'invalid_parameter', 'must be an object');
  } else {
    const entries = Object.entries(channels as Record<string, unknown>);
    if (entries.length === 0) fail('channels', 'missing_required_parameter', 'A required parameter is missing from the request.');
    if (entries.length > 500) fail('channels', 'invalid_parameter', 'must have at most 500 channels');
    for (const [name, permissions] of entries) {
      if (name.startsWith('sw_')) fail('channels', 'channel_name_is_reserved', 'The channel name uses a reserved prefix.');
      if ([...name].length > 250) fail('channels', 'channel_name_size_limit_exceeded', 'The channel name exceeds the maximum size.');
      const { read, write } = (typeof permissions === 'object' && permissions !== null ? permissions : {}) as Record<string, unknown>;
      // The real service wants read or write (each defaulting to false), as booleans.
      if (read === undefined && write === undefined) {
        fail('channels', 'channel_has_missing_properties', 'Channel must have read or write property.');
      } else if ((read !== undefined && typeof read !== 'boolean') || (write !== undefined && typeof write !== 'boolean')) {
        fail('channels', 'boolean_required', 'This value must be a true or false boolean.');
      }
    }
  }

  if (memberId !== undefined) {
    if (typeof memberId !== 'string') fail('member_id', 'string_required', 'Value must be formatted as a string');
    else if ([...memberId].length > 250) fail('member_id', 'invalid_parameter', 'is too long (maximum is 250 characters)');
  }

  if (state !== undefined) {
    if (typeof state !== 'object' || state === null || Array.isArray(state)) {
      fail('state', 'not_a_valid_json', 'This value must be valid JSON.');
    } else if ([...JSON.stringify(state)].length > 2000) {
      fail('state', 'invalid_parameter', 'is too long (maximum is 2000 characters)');
    }
  }
  return errors;
}

/** Shaped like SignalWire's chat tokens (header `{"typ":"VRT","alg":"HS512"}`); the signature is random. */
function chatJwt(ttlMinutes: number, channels: unknown, memberId: string, state: unknown): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'VRT', alg: 'HS512' };
  const payload = { iat: now, exp: now + ttlMinutes * 60, jti: randomUUID(), ch: channels, mi: memberId, s: state };
  const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode(header)}.${encode(payload)}.${randomBytes(64).toString('base64url')}`;
}
